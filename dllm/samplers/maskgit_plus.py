"""Dream ``alg='maskgit_plus'``: rank masked positions by the probability of the sampled token (MaskGIT's confidence)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from dllm.samplers.dream_base import DreamConfidenceSampler
from dllm.samplers.registry import register_sampler


@register_sampler("maskgit_plus")
@dataclass
class MaskgitPlus(DreamConfidenceSampler):
    """Dream maskgit_plus: commit the top-n masked positions by the probability of the sampled token (MaskGIT's confidence).

    Source: Dream-org/Dream-v0-* ``generation_utils.py``; schedule, position sampling and
    the per-row count deviation are described on ``DreamConfidenceSampler``.
    """

    def score(self, conf: torch.Tensor, probs: torch.Tensor) -> torch.Tensor:
        return conf

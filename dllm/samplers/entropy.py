"""Dream ``alg='entropy'``: rank masked positions by the negative entropy of the position's distribution (higher is more certain)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from dllm.samplers.dream_base import DreamConfidenceSampler
from dllm.samplers.registry import register_sampler


@register_sampler("entropy")
@dataclass
class Entropy(DreamConfidenceSampler):
    """Dream entropy: commit the top-n masked positions by the negative entropy of the position's distribution (higher is more certain).

    Source: Dream-org/Dream-v0-* ``generation_utils.py``; schedule, position sampling and
    the per-row count deviation are described on ``DreamConfidenceSampler``.
    """

    def score(self, conf: torch.Tensor, probs: torch.Tensor) -> torch.Tensor:
        return (probs * torch.log(probs + 1e-10)).sum(-1)

"""Dream ``alg='topk_margin'``: rank masked positions by the margin between the two most likely tokens."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from dllm.samplers.dream_base import DreamConfidenceSampler
from dllm.samplers.registry import register_sampler


@register_sampler("topk_margin")
@dataclass
class TopkMargin(DreamConfidenceSampler):
    """Dream topk_margin: commit the top-n masked positions by the margin between the two most likely tokens.

    Source: Dream-org/Dream-v0-* ``generation_utils.py``; schedule, position sampling and
    the per-row count deviation are described on ``DreamConfidenceSampler``.
    """

    def score(self, conf: torch.Tensor, probs: torch.Tensor) -> torch.Tensor:
        top2 = probs.topk(2, dim=-1).values
        return top2[..., 0] - top2[..., 1]

"""LLaDA's ``random`` remasking: the same schedule, positions chosen at random."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from dllm.samplers.base import StepInput
from dllm.samplers.low_confidence import LowConfidence
from dllm.samplers.registry import register_sampler


@register_sampler("random")
@dataclass
class RandomRemasking(LowConfidence):
    """LLaDA baseline with uniform random confidence (ML-GSAI/LLaDA ``remasking='random'``).

    Same schedule, tokens and options as ``low_confidence``; the order in which masked
    positions are committed is uniform random, drawn from the generation's seeded RNG.
    """

    def confidence(self, logits: torch.Tensor, tokens: torch.Tensor, inp: StepInput) -> torch.Tensor:
        return torch.rand(tokens.shape, dtype=torch.float64, device=tokens.device, generator=inp.generator)

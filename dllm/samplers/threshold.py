"""Fast-dLLM confidence-threshold parallel decoding."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from dllm.samplers.base import Decision, Sampler, StepInput
from dllm.samplers.functional import rank_mask, sample_with_confidence
from dllm.samplers.registry import register_sampler


def chosen_confidence(inp: StepInput) -> tuple[torch.Tensor, torch.Tensor]:
    """(tokens, confidence): tokens by float64 Gumbel-max at the step's temperature, and the
    float64 softmax probability of each under the raw logits (-inf where not masked)."""
    tokens, conf = sample_with_confidence(inp.logits, inp.temperature, inp.generator)
    return tokens, conf.masked_fill(~inp.masked, float("-inf"))


def most_confident(conf: torch.Tensor, masked: torch.Tensor) -> torch.Tensor:
    """Each row's single best masked position (none for a row with nothing masked)."""
    return rank_mask(conf, masked.any(-1).long()) & masked


@register_sampler("threshold")
@dataclass
class Threshold(Sampler):
    """Fast-dLLM threshold rule: commit the most confident token, plus every masked token
    whose confidence is >= ``threshold`` (equality commits, as the reference's ``c < tau``
    rejection). A block takes as many steps as it needs; ``steps`` is not a budget.

    Source: Wu et al., "Fast-dLLM" (arXiv 2505.22618), NVlabs/Fast-dLLM ``llada/generate.py``
    ``get_transfer_index``. Deviation: Dream uses the same rule; the reference's Dream path
    also force-commits the first token of every block whatever its confidence (B = 1 only).
    """

    threshold: float = 0.9

    def __post_init__(self) -> None:
        if not 0.0 <= self.threshold <= 1.0:
            raise ValueError(f"threshold must be in [0, 1], got {self.threshold}")

    def step(self, inp: StepInput) -> Decision:
        tokens, conf = chosen_confidence(inp)
        commit = (conf >= self.threshold) | most_confident(conf, inp.masked)
        return Decision(tokens=tokens, commit=commit & inp.masked, confidence=conf)

"""Fast-dLLM confidence-factor parallel decoding."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from dllm.samplers.base import Decision, Sampler, StepInput
from dllm.samplers.functional import rank_mask
from dllm.samplers.registry import register_sampler
from dllm.samplers.threshold import chosen_confidence


def factor_counts(conf: torch.Tensor, masked: torch.Tensor, factor: float, reference_quirk: bool = False) -> torch.Tensor:
    """Per row, the largest n with (n + 1)(1 - c_(n)) <= factor over the sorted masked
    confidences, at least 1 when anything is masked. With ``reference_quirk`` a first
    failure at the last candidate commits every candidate, as the reference code does."""
    n_masked = masked.sum(-1)
    ordered = conf.masked_fill(~masked, float("-inf")).sort(-1, descending=True).values
    n = torch.arange(1, conf.shape[-1] + 1, device=conf.device, dtype=torch.float64)
    passes = (n + 1) * (1 - ordered.to(torch.float64)) <= factor
    passes[:, 0] = True  # the top candidate always commits
    passes &= n[None] <= n_masked[:, None]
    # The scan stops at the first failure: count the leading run of passes.
    count = passes.long().cumprod(-1).sum(-1)
    if reference_quirk:
        count = torch.where(count == n_masked - 1, n_masked, count)
    return torch.where(n_masked > 0, count, torch.zeros_like(count))


@register_sampler("factor")
@dataclass
class Factor(Sampler):
    """Fast-dLLM factor rule: sort the masked confidences c_(1) >= c_(2) >= ... and commit
    the top n for the largest n with (n + 1)(1 - c_(n)) <= ``factor`` (Theorem 1's
    condition with slack f); always at least one.

    Source: NVlabs/Fast-dLLM ``llada/generate.py`` ``get_transfer_index_dynamic`` (later
    versions; arXiv 2505.22618). Deliberate deviations: (1) the reference commits *every*
    candidate when the first failing one is the last (an off-by-one; e.g. f = 1 on
    [0.99, 0.7, 0.6] commits 3 although 0.6 < 1 - 1/4); here that needs
    ``reference_quirk=True``; (2) rows with a full block are skipped instead of raising
    IndexError at batch > 1.
    """

    factor: float = 1.0
    reference_quirk: bool = False

    def __post_init__(self) -> None:
        if self.factor <= 0:
            raise ValueError(f"factor must be > 0, got {self.factor}")

    def step(self, inp: StepInput) -> Decision:
        tokens, conf = chosen_confidence(inp)
        counts = factor_counts(conf, inp.masked, self.factor, self.reference_quirk)
        commit = rank_mask(conf, counts) & inp.masked
        return Decision(tokens=tokens, commit=commit, confidence=conf)

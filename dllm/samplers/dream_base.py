"""What Dream's ``diffusion_generate`` algorithms share: token sampling and the time grid."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from dllm.samplers.base import Decision, Sampler, StepInput
from dllm.samplers.functional import rank_mask, sample_categorical, top_k_filter, top_p_filter


def sample_tokens(inp: StepInput) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Dream's ``sample_tokens``: temperature, top-p, top-k, then sample or argmax.

    Returns (probabilities of the chosen tokens, chosen tokens, full filtered probabilities).
    """
    logits = inp.logits
    if inp.temperature > 0:
        logits = logits / inp.temperature
    if inp.top_p is not None and inp.top_p < 1:
        logits = top_p_filter(logits, inp.top_p)
    if inp.top_k is not None:
        logits = top_k_filter(logits, inp.top_k)
    probs = logits.softmax(-1)
    if inp.temperature > 0:
        tokens = sample_categorical(probs, inp.generator)
        return probs.gather(-1, tokens[..., None]).squeeze(-1), tokens, probs
    conf, tokens = probs.max(-1)
    return conf, tokens, probs


def unmask_fraction(step: int, steps: int, eps: float) -> float:
    """1 - s/t on Dream's grid ``linspace(1, eps, steps + 1)`` (float32, as the reference); 1 at the last step."""
    if step >= steps - 1:
        return 1.0
    grid = torch.linspace(1, eps, steps + 1)
    return float(1 - grid[step + 1] / grid[step])


@dataclass
class DreamConfidenceSampler(Sampler):
    """Base of Dream's confidence algorithms: commit the top-n positions by ``score``.

    Source: Ye et al., "Dream 7B" (arXiv 2508.15487), ``generation_utils.py`` of
    Dream-org/Dream-v0-*. n = int(M * (1 - s/t)) with M the row's current masked count
    (all remaining at the block's last step), so early steps may commit 0 tokens as in
    the reference. Deliberate deviation: M is per row, not the batch mean, so a batch
    decodes like its rows alone and no row can have tokens overwritten with the mask.
    With ``alg_temp`` > 0 positions are drawn from softmax(score / alg_temp).
    """

    default_block_length = None
    alg_temp: float | None = None
    eps: float = 1e-3

    def __post_init__(self) -> None:
        if self.alg_temp is not None and self.alg_temp < 0:
            raise ValueError(f"alg_temp must be >= 0, got {self.alg_temp}")
        if not 0 < self.eps < 1:
            raise ValueError(f"eps must be in (0, 1), got {self.eps}")

    def score(self, conf: torch.Tensor, probs: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def step(self, inp: StepInput) -> Decision:
        conf, tokens, probs = sample_tokens(inp)
        score = self.score(conf, probs).masked_fill(~inp.masked, float("-inf"))
        remaining = inp.masked.sum(-1)
        frac = unmask_fraction(inp.step, inp.steps, self.eps)
        counts = remaining if frac == 1.0 else (remaining.float() * frac).long()
        if self.alg_temp:
            commit = self._sample_positions(score, counts, inp.generator)
        else:
            commit = rank_mask(score, counts)
        return Decision(tokens=tokens, commit=commit & inp.masked, confidence=score)

    def _sample_positions(self, score: torch.Tensor, counts: torch.Tensor, generator) -> torch.Tensor:
        commit = torch.zeros_like(score, dtype=torch.bool)
        weights = (score / self.alg_temp).softmax(-1)
        for r, n in enumerate(counts.tolist()):
            if n > 0:
                commit[r, torch.multinomial(weights[r], n, replacement=False, generator=generator)] = True
        return commit

"""Dream's default ``origin`` algorithm: every masked position flips with probability 1 - s/t."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from dllm.samplers.base import Decision, Sampler, StepInput
from dllm.samplers.dream_base import sample_tokens, unmask_fraction
from dllm.samplers.registry import register_sampler


@register_sampler("origin")
@dataclass
class Origin(Sampler):
    """Dream ``alg='origin'``: each masked position is committed independently with probability 1 - s/t.

    Source: Dream-org/Dream-v0-* ``generation_utils.py``. Tokens come from Dream's
    ``sample_tokens`` (temperature, top_p, top_k); all remaining positions commit on the
    block's last step. Positions are drawn from the generation's seeded RNG.
    """

    default_block_length = None
    eps: float = 1e-3

    def __post_init__(self) -> None:
        if not 0 < self.eps < 1:
            raise ValueError(f"eps must be in (0, 1), got {self.eps}")

    def step(self, inp: StepInput) -> Decision:
        conf, tokens, _ = sample_tokens(inp)
        p = unmask_fraction(inp.step, inp.steps, self.eps)
        draw = torch.rand(inp.masked.shape, device=inp.masked.device, generator=inp.generator)
        commit = (draw < p) & inp.masked
        return Decision(tokens=tokens, commit=commit, confidence=conf.masked_fill(~inp.masked, float("-inf")))

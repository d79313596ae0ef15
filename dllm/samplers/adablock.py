"""AdaBlock: block boundaries chosen at run time from delimiter confidence."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch

from dllm.samplers.base import BlockProbe
from dllm.samplers.functional import sample_with_confidence
from dllm.samplers.registry import register_sampler
from dllm.samplers.threshold import Threshold


@register_sampler("adablock")
@dataclass
class AdaBlock(Threshold):
    """AdaBlock-dLLM: at each block start, predict the next ``window`` x generation-length
    positions; if the most confident predicted delimiter (a line-break token of the
    tokenizer) has confidence >= ``delimiter_threshold``, the block ends on it, otherwise it
    is ``block_length`` long (or what remains). Inside a block: the threshold rule.

    Source: Lu et al., arXiv 2509.26432; lgxi24/AdaBlock-dLLM ``compute_block_length``
    (defaults: tau 0.9, delta 0.3 for LLaDA and 0.5 for Dream, window 0.25 G, block 32).
    Deviations: delimiters are every vocabulary token that is only line breaks (the
    reference hard-codes id 198 for LLaDA and 24 Qwen2 ids for Dream); batch > 1 works
    (each row plans its own block; rows wait for each other between blocks), where the
    reference asserts batch 1.
    """

    delimiter_threshold: float | None = None  # None: 0.3 for LLaDA, 0.5 for Dream (shifted models)
    window: float = 0.25
    plans_blocks: ClassVar[bool] = True

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0.0 < self.window <= 1.0:
            raise ValueError(f"window must be in (0, 1], got {self.window}")

    def lookahead(self, gen_length: int) -> int:
        return max(1, math.floor(self.window * gen_length))

    def plan_block(self, probe: BlockProbe) -> torch.Tensor:
        delta = self.delimiter_threshold
        if delta is None:
            delta = 0.5 if probe.shifted else 0.3
        tokens, conf = sample_with_confidence(probe.logits, probe.temperature, probe.generator)
        positions = torch.arange(tokens.shape[1], device=tokens.device)[None]
        search = probe.valid & (positions < self.lookahead(probe.gen_length))
        delimiters = torch.tensor(probe.delimiter_ids, dtype=torch.long, device=tokens.device)
        candidates = torch.isin(tokens, delimiters) & search
        best_conf, best_pos = conf.masked_fill(~candidates, -1.0).max(-1)
        default = probe.remaining.clamp(max=probe.default_length)
        return torch.where(best_conf >= delta, best_pos + 1, default)

"""LLaDA's semi-autoregressive low-confidence remasking (the ``vanilla`` baseline)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from dllm.samplers.base import Decision, Sampler, StepInput
from dllm.samplers.functional import gumbel_argmax_scores, rank_mask, token_probability, transfer_counts
from dllm.samplers.registry import register_sampler


@register_sampler("low_confidence")
@dataclass
class LowConfidence(Sampler):
    """LLaDA baseline: commit the k most confident tokens per step on a fixed schedule.

    Source: Nie et al., "Large Language Diffusion Models" (arXiv 2502.09992), ML-GSAI/LLaDA
    ``generate.py``. Counts per step follow ``get_num_transfer_tokens`` from each row's
    masked count at block start; tokens come from float64 Gumbel-max at ``temperature``;
    confidence is the float64 softmax probability of the chosen token (Fast-dLLM's dtype).
    Deliberate deviation: the reference's ``confidence_eos_eot_inf`` zeroes the EOS
    confidence only at temperature 0 (two tensors alias there); here it zeroes every stop
    token's confidence at every temperature.
    """

    cfg_scale: float = 0.0
    logits_eos_inf: bool = False
    confidence_eos_eot_inf: bool = False

    def __post_init__(self) -> None:
        if self.cfg_scale < 0:
            raise ValueError(f"cfg_scale must be >= 0, got {self.cfg_scale}")

    def start_block(self, inp: StepInput) -> None:
        inp.state["counts"] = dict(zip(inp.rows.tolist(), transfer_counts(inp.masked.sum(-1), inp.steps)))

    def _counts(self, inp: StepInput) -> torch.Tensor:
        """This step's commit count per row, from the schedule fixed at block start."""
        if inp.step >= inp.steps:  # past the budget (only if a caller pre-filled the block): finish it
            return inp.masked.sum(-1)
        return torch.stack([inp.state["counts"][r][inp.step] for r in inp.rows.tolist()])

    def confidence(self, logits: torch.Tensor, tokens: torch.Tensor, inp: StepInput) -> torch.Tensor:
        return token_probability(logits, tokens)

    def step(self, inp: StepInput) -> Decision:
        logits = inp.logits
        stops = list(inp.stop_ids)
        if self.logits_eos_inf:
            logits = logits.clone()
            logits[..., stops[0]] = float("-inf")
        tokens = gumbel_argmax_scores(logits, inp.temperature, inp.generator).argmax(-1)
        if self.confidence_eos_eot_inf:
            logits = logits.clone()
            logits[..., stops] = float("-inf")
        conf = self.confidence(logits, tokens, inp).masked_fill(~inp.masked, float("-inf"))
        commit = rank_mask(conf, self._counts(inp).to(conf.device)) & inp.masked
        return Decision(tokens=tokens, commit=commit, confidence=conf)

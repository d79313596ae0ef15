"""Tensor helpers shared by samplers (pure functions, no model, no state)."""

from __future__ import annotations

import torch


def transfer_counts(masked_counts: torch.Tensor, steps: int) -> torch.Tensor:
    """LLaDA's per-step commit counts ``[R, steps]``: M // S each, the remainder to the first steps.

    (32, 5) -> [7, 7, 6, 6, 6] (ML-GSAI/LLaDA ``get_num_transfer_tokens``).
    """
    base = masked_counts[:, None] // steps
    rem = masked_counts[:, None] % steps
    j = torch.arange(steps, device=masked_counts.device)[None]
    return base + (j < rem).long()


def gumbel_argmax_scores(logits: torch.Tensor, temperature: float, generator: torch.Generator | None) -> torch.Tensor:
    """LLaDA's float64 Gumbel-max trick: ``exp(z) / (-log u)^T``; T = 0 returns the logits.

    The argmax of the result is an exact sample from softmax(z / T).
    """
    if temperature == 0:
        return logits
    z = logits.to(torch.float64)
    u = torch.rand(z.shape, dtype=torch.float64, device=z.device, generator=generator)
    return z.exp() / (-torch.log(u)) ** temperature


def token_probability(logits: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
    """float64 softmax probability of ``tokens`` under ``logits`` (the confidence most samplers rank by)."""
    return logits.to(torch.float64).softmax(-1).gather(-1, tokens[..., None]).squeeze(-1)


def sample_with_confidence(logits: torch.Tensor, temperature: float,
                           generator: torch.Generator | None) -> tuple[torch.Tensor, torch.Tensor]:
    """Tokens by float64 Gumbel-max at ``temperature`` and their probability under ``logits``."""
    tokens = gumbel_argmax_scores(logits, temperature, generator).argmax(-1)
    return tokens, token_probability(logits, tokens)


def rank_mask(confidence: torch.Tensor, counts: torch.Tensor) -> torch.Tensor:
    """True at each row's ``counts[r]`` highest-confidence positions (ties: lower index first)."""
    order = confidence.argsort(dim=-1, descending=True, stable=True)
    ranks = torch.empty_like(order)
    ranks.scatter_(-1, order, torch.arange(order.shape[-1], device=order.device).expand_as(order))
    return ranks < counts[:, None]


def top_p_filter(logits: torch.Tensor, top_p: float) -> torch.Tensor:
    """Keep the smallest prefix of the sorted vocabulary reaching ``top_p`` (the crossing token kept)."""
    sorted_logits, order = logits.sort(dim=-1, descending=True)
    cumulative = sorted_logits.softmax(-1).cumsum(-1)
    drop_sorted = cumulative > top_p
    drop_sorted[..., 1:] = drop_sorted[..., :-1].clone()
    drop_sorted[..., 0] = False
    drop = torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted)
    return logits.masked_fill(drop, float("-inf"))


def top_k_filter(logits: torch.Tensor, top_k: int) -> torch.Tensor:
    k = min(top_k, logits.shape[-1])
    kth = logits.topk(k, dim=-1).values[..., -1:]
    return logits.masked_fill(logits < kth, float("-inf"))


def sample_categorical(probs: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    flat = probs.reshape(-1, probs.shape[-1])
    return torch.multinomial(flat, 1, generator=generator).view(probs.shape[:-1])

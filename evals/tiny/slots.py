"""The `masked_causal` objective: next-token prediction made at a mask slot in the token's own
position, LLaDA's layout, so that an autoregressive warm start trains the circuit masked
diffusion later uses.

A `causal` phase trains LLaDA the shifted way (the logits at i - 1 score token i), while its
diffusion phases score a masked token at its own position: a different circuit, and the
bookkeeping the causal phase learnt (which names an answer already holds) did not survive the
switch (`EXPERIMENTS.md`: `repeats.py` finds no repeat suppression in LLaDA at all, Dream's shifted
layout keeps it). Here each row is the clean sequence followed by one mask slot per scored
position (every position from the batch's first target on), the slot given its token's RoPE
position. The clean copy attends causally; slot i attends to the clean tokens before i and to
itself, and scores token i. That is Block Diffusion's training layout (Arriola et al., arXiv
2503.09573: a noisy copy beside the clean one under a block-causal mask) with blocks of one
token, all masked: every answer token is trained in the state a left-to-right decode reaches
it in, and the answer tokens before it are there to be looked at, as in a causal phase.
"""

from __future__ import annotations

import torch
from torch import nn


def slot_layout(batch, mask_id: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, int]:
    """(input ids [B, L + S], position ids, [B, 1, L + S, L + S] attention mask, S): the
    clean rows with S mask slots appended, one per position from the first target column on."""
    from dllm.evals.tiny.train import causal_mask  # train imports this module

    ids, keep = batch.input_ids, batch.attention_mask.bool()
    rows, width = ids.shape
    start = int(batch.answer_region.any(0).nonzero()[0])
    slots = width - start
    positions = torch.arange(width)
    slot_positions = positions[start:]
    x = torch.cat([ids, torch.full((rows, slots), mask_id, dtype=ids.dtype)], 1)
    position_ids = torch.cat([positions, slot_positions])[None].expand(rows, -1)
    clean = causal_mask(keep)[:, 0]
    before = keep[:, None, :] & (positions[None, :] < slot_positions[:, None])  # [B, S, L]
    own = torch.eye(slots, dtype=torch.bool).expand(rows, -1, -1)
    mask = torch.cat([torch.cat([clean, torch.zeros(rows, width, slots, dtype=torch.bool)], 2),
                      torch.cat([before, own], 2)], 1)
    return x, position_ids, mask[:, None], slots


def slot_logits(model: nn.Module, batch, mask_id: int,
                precision: str = "fp32") -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(logits at the slots [B, S, V], the tokens they score [B, S], the scored flags [B, S]):
    slot j scores the token at column L - S + j of the clean row."""
    x, position_ids, mask, slots = slot_layout(batch, mask_id)
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
        logits = model(x, attention_mask=mask, position_ids=position_ids)
    return logits[:, -slots:], batch.input_ids[:, -slots:], batch.answer_region[:, -slots:]


def masked_causal_loss(model: nn.Module, batch, mask_id: int, precision: str = "fp32") -> torch.Tensor:
    """Mean cross-entropy of every answer token predicted at its slot."""
    logits, targets, scored = slot_logits(model, batch, mask_id, precision)
    return nn.functional.cross_entropy(logits[scored].float(), targets[scored])


def slot_accuracy(model: nn.Module, batch, mask_id: int) -> float:
    """Teacher-forced accuracy (%) at the slots (the MQAR probe of a `masked_causal` phase)."""
    logits, targets, scored = slot_logits(model, batch, mask_id)
    return round(100.0 * (logits.argmax(-1)[scored] == targets[scored]).float().mean().item(), 1)


def next_at_slot(model: nn.Module, ids: list[int], mask_id: int) -> int:
    """Greedy next token of a `masked_causal` model: a mask slot after `ids`, read in place,
    under the causal mask its training used."""
    from dllm.evals.tiny.train import causal_mask

    x = torch.tensor([ids + [mask_id]])
    return int(model(x, attention_mask=causal_mask(torch.ones_like(x, dtype=torch.bool)))[0, -1].argmax())

"""Cache policies: how the engine obtains a block's logits at each step.

A policy gets the engine (model, canvas helpers) and returns aligned float32 logits for the
block, like ``DenoisingEngine.block_logits``. Keys and values are stored after RoPE: the
canvas layout never moves, so cached keys never need re-rotation. Policies hold per-call
state (a fresh one is made for every generation) and track ``peak_bytes`` of stored K/V.
``last_forward_full`` says whether the latest forward fed the whole canvas (no cache, or a
refresh) rather than part of it, so the engine can count full forwards per row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch


class CachePolicy:
    """Base: no cache, every step is a full forward."""

    name: ClassVar[str] = "none"

    def __init__(self) -> None:
        self.peak_bytes = 0
        self.last_forward_full = True

    def logits(self, engine, canvas, rows: torch.Tensor, start: int, end: int, step: int, cfg_scale: float) -> torch.Tensor:
        return engine.block_logits(canvas, rows, start, end, cfg_scale)

    def _track(self, tensors) -> None:
        self.peak_bytes = max(self.peak_bytes, sum(t.numel() * t.element_size() for t in tensors))


class NoCache(CachePolicy):
    """Full forward at every step (the reference decoders)."""


@dataclass
class CacheEntry:
    """K/V stored by a refresh: per layer ``[R, Hkv, C, D]`` for ``rows`` (in order), whose
    column 0 is canvas column ``left``; ``key_valid [R, C]`` is False on padding keys and
    ``positions [R, W]`` are the RoPE positions of canvas columns ``left..`` (all of them)."""

    rows: list[int]
    left: int
    keys: list[torch.Tensor]
    values: list[torch.Tensor]
    key_valid: torch.Tensor
    positions: torch.Tensor

    def keep_rows(self, rows: torch.Tensor) -> torch.Tensor | None:
        """Compact to ``rows`` (a subset: rows only leave a block), so reuse can write in place;
        returns the index applied (None when nothing changed) for policies with more per-row state."""
        wanted = rows.tolist()
        if wanted == self.rows:
            return None
        index = torch.tensor([self.rows.index(r) for r in wanted], device=rows.device)
        self.keys = [k[index] for k in self.keys]
        self.values = [v[index] for v in self.values]
        self.key_valid, self.positions, self.rows = self.key_valid[index], self.positions[index], wanted
        return index

    def tensors(self) -> list[torch.Tensor]:
        return [*self.keys, *self.values]


class Recorder:
    """KV hook for a full forward that stores every layer's keys and values unchanged."""

    def __init__(self, n_layers: int) -> None:
        self.keys: list[torch.Tensor | None] = [None] * n_layers
        self.values: list[torch.Tensor | None] = [None] * n_layers

    def layer(self, index: int):
        def hook(q, k, v, mask):
            self.keys[index], self.values[index] = k, v
            return k, v, mask

        return hook


def n_layers(model: torch.nn.Module) -> int:
    cfg = model.cfg
    return getattr(cfg, "n_layers", None) or cfg.num_hidden_layers


def record_full(engine, canvas, rows: torch.Tensor, hook=None) -> tuple[torch.Tensor, CacheEntry]:
    """A full forward of ``rows`` that also returns its K/V (``hook`` may replace the recorder)."""
    left, ids, mask, positions = engine.model_inputs(canvas, rows)
    recorder = hook or Recorder(n_layers(engine.model))
    logits = engine.model(ids, attention_mask=mask, position_ids=positions, kv_cache=recorder)
    valid = torch.ones_like(ids, dtype=torch.bool) if mask is None else mask.bool()
    if positions is None:
        positions = torch.arange(ids.shape[1], device=ids.device).expand(ids.shape[0], -1)
    entry = CacheEntry(rows.tolist(), left, recorder.keys, recorder.values, valid, positions)
    return logits, entry


def key_mask(valid: torch.Tensor, queries: int) -> torch.Tensor | None:
    """Bool SDPA mask ``[R, 1, Q, K]`` letting every (real) query see the valid keys."""
    if bool(valid.all()):
        return None
    return valid[:, None, None, :].expand(-1, 1, queries, -1)


def query_range(engine, canvas, start: int, end: int, upto_canvas_end: bool) -> tuple[int, int]:
    """Canvas columns to feed: the block, one earlier for shifted models (Dream's logits for
    ``start`` come from ``start - 1``), and the whole suffix for the prefix cache."""
    return start - engine.offset, canvas.ids.shape[1] if upto_canvas_end else end

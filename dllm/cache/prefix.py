"""Fast-dLLM prefix cache."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from dllm.cache.base import CachePolicy, CacheEntry, key_mask, query_range, record_full


class _Overwrite:
    """KV hook: the cached keys with the fed columns ``[c0, c1)`` replaced by fresh ones."""

    def __init__(self, entry: CacheEntry, c0: int, c1: int) -> None:
        self.entry, self.c0, self.c1 = entry, c0, c1
        self.mask = key_mask(entry.key_valid, c1 - c0)

    def layer(self, index: int):
        def hook(q, k, v, mask):
            keys, values = self.entry.keys[index], self.entry.values[index]
            keys[:, :, self.c0:self.c1] = k
            values[:, :, self.c0:self.c1] = v
            return keys, values, self.mask

        return hook


@dataclass
class RefreshSchedule:
    """When a block cache recomputes everything: at each block start, and every
    ``refresh_interval`` steps inside a block when > 0 (1 = every step = no cache)."""

    refresh_interval: int = 0

    def __post_init__(self) -> None:
        if self.refresh_interval < 0:
            raise ValueError(f"refresh_interval must be >= 0, got {self.refresh_interval}")

    def refresh_now(self, step: int) -> bool:
        return step == 0 or (self.refresh_interval > 0 and step % self.refresh_interval == 0)


class PrefixCache(CachePolicy):
    """Fast-dLLM PrefixCache: a full forward at each block start stores K/V; later steps
    feed the block and the whole (masked) suffix and attend to the cached prefix.

    Source: Wu et al., "Fast-dLLM" (arXiv 2505.22618), NVlabs/Fast-dLLM
    ``generate_with_prefix_cache``. Deviations: keys are cached after RoPE (the fork stores
    them before and re-rotates every step); batches with left padding are supported (the
    fork's cache path is batch 1); for Dream the fed range starts one column early, so the
    block's first position is scored by a fresh row. ``refresh_interval`` adds refreshes.
    """

    name = "prefix"
    upto_canvas_end = True

    def __init__(self, refresh_interval: int = 0) -> None:
        super().__init__()
        self.schedule = RefreshSchedule(refresh_interval)
        self.entry: CacheEntry | None = None

    def logits(self, engine, canvas, rows, start, end, step, cfg_scale) -> torch.Tensor:
        self.last_forward_full = self.entry is None or self.schedule.refresh_now(step)
        if self.last_forward_full:
            logits, self.entry = record_full(engine, canvas, rows)
            self._track(self.entry.tensors())
            return engine.select(logits, self.entry.left, start, end)
        entry = self.entry
        entry.keep_rows(rows)
        q0, q1 = query_range(engine, canvas, start, end, self.upto_canvas_end)
        c0, c1 = q0 - entry.left, q1 - entry.left
        logits = engine.model(canvas.ids[rows, q0:q1], position_ids=entry.positions[:, c0:c1],
                              kv_cache=_Overwrite(entry, c0, c1))
        return engine.select(logits, q0, start, end)

"""Sparse-dLLM: attention-guided eviction of cached prefix/suffix entries."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from dllm.cache.base import CachePolicy, CacheEntry, key_mask, n_layers, query_range, record_full


def saliency(q_block: torch.Tensor, keys: torch.Tensor, kernel_size: int) -> torch.Tensor:
    """Score ``[R, C]`` of every key: dot product with the block's mean query (no softmax,
    no scaling), averaged over heads (kv heads expanded under GQA), max-pooled along the
    sequence with ``kernel_size``."""
    mean_q = q_block.float().mean(2)  # [R, H, D]
    groups = mean_q.shape[1] // keys.shape[1]
    k = keys.float().repeat_interleave(groups, dim=1) if groups > 1 else keys.float()
    score = torch.einsum("rhd,rhcd->rhc", mean_q, k).mean(1)
    return F.max_pool1d(score[:, None], kernel_size, stride=1, padding=kernel_size // 2)[:, 0, : score.shape[-1]]


class _Evict:
    """KV hook for the delayed full forward: attention is exact, and each layer keeps only the
    top ``keep`` non-block entries by saliency (in canvas order) for the following steps."""

    def __init__(self, layers: int, block: tuple[int, int], valid: torch.Tensor, keep_ratio: float, kernel: int):
        self.block, self.valid, self.keep_ratio, self.kernel = block, valid, keep_ratio, kernel
        self.keys: list[torch.Tensor | None] = [None] * layers
        self.values: list[torch.Tensor | None] = [None] * layers
        self.kept_valid: list[torch.Tensor | None] = [None] * layers

    def layer(self, index: int):
        def hook(q, k, v, mask):
            b0, b1 = self.block
            score = saliency(q[:, :, b0:b1], k, self.kernel)
            outside = torch.ones_like(self.valid)
            outside[:, b0:b1] = False
            candidates = self.valid & outside
            score = score.masked_fill(~candidates, float("-inf"))
            # Each row keeps floor(ratio x its own non-block keys), so padding never changes
            # what a row keeps (a batch decodes like its rows alone).
            per_row = torch.floor(self.keep_ratio * candidates.sum(-1).float()).long()
            # Stable sort: max-pooling makes ties, broken by position as a row alone would.
            top = score.sort(dim=-1, descending=True, stable=True).indices[:, : int(per_row.max())]
            kept = torch.arange(top.shape[1], device=top.device)[None] < per_row[:, None]
            order, perm = top.sort(-1)
            gather = order[:, None, :, None].expand(-1, k.shape[1], -1, k.shape[3])
            self.keys[index], self.values[index] = k.gather(2, gather), v.gather(2, gather)
            self.kept_valid[index] = kept.gather(1, perm)
            return k, v, mask

        return hook


class _Sparse:
    """KV hook for later steps: [kept entries ; fresh block] with the kept entries' validity."""

    def __init__(self, entry: CacheEntry, kept_valid: list[torch.Tensor], queries: int) -> None:
        self.entry, self.kept_valid, self.queries = entry, kept_valid, queries

    def layer(self, index: int):
        def hook(q, k, v, mask):
            keys = torch.cat([self.entry.keys[index], k], dim=2)
            values = torch.cat([self.entry.values[index], v], dim=2)
            valid = torch.cat([self.kept_valid[index], torch.ones(k.shape[0], k.shape[2], dtype=torch.bool,
                                                                   device=k.device)], dim=1)
            return keys, values, key_mask(valid, self.queries)

        return hook


class SparseCache(CachePolicy):
    """Sparse-dLLM: per block, step 0 is a full forward; step 1 is a full forward that also
    caches K/V and evicts all but ``keep_ratio`` of the non-block entries per layer, ranked
    by the block's mean query (max-pooled, ``kernel_size``); later steps feed only the block
    against the kept entries.

    Source: Song et al., arXiv 2508.02558, OpenMOSS/Sparse-dLLM (defaults keep 0.5, kernel 3).
    Deviations: kept entries stay in canvas order (the reference orders them by score; same
    attention); padding keys are never kept (batches with left padding work); for Dream the
    fed range starts one column before the block (instead of force-committing its first
    token). ``peak_bytes`` counts the kept entries (the full K/V of the step-1 forward are
    transient, layer by layer).
    """

    name = "sparse"

    def __init__(self, keep_ratio: float = 0.5, kernel_size: int = 3) -> None:
        super().__init__()
        if not 0.0 < keep_ratio <= 1.0:
            raise ValueError(f"keep_ratio must be in (0, 1], got {keep_ratio}")
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be a positive odd number, got {kernel_size}")
        self.keep_ratio, self.kernel_size = keep_ratio, kernel_size
        self.entry: CacheEntry | None = None
        self.kept_valid: list[torch.Tensor] = []

    def logits(self, engine, canvas, rows, start, end, step, cfg_scale) -> torch.Tensor:
        self.last_forward_full = step == 0 or self.entry is None  # step 0, and the step-1 forward that evicts
        if step == 0:
            self.entry = None
            return engine.block_logits(canvas, rows, start, end, cfg_scale)
        q0, q1 = query_range(engine, canvas, start, end, upto_canvas_end=False)
        if self.entry is None:
            return self._build(engine, canvas, rows, start, end, q0, q1)
        entry = self.entry
        index = entry.keep_rows(rows)
        if index is not None:
            self.kept_valid = [kv[index] for kv in self.kept_valid]
        c0, c1 = q0 - entry.left, q1 - entry.left
        logits = engine.model(canvas.ids[rows, q0:q1], position_ids=entry.positions[:, c0:c1],
                              kv_cache=_Sparse(entry, self.kept_valid, q1 - q0))
        return engine.select(logits, q0, start, end)

    def _build(self, engine, canvas, rows, start, end, q0, q1) -> torch.Tensor:
        left = int(canvas.first_real[rows].min())
        valid = canvas.attention_mask[rows, left:].bool()
        hook = _Evict(n_layers(engine.model), (q0 - left, q1 - left), valid, self.keep_ratio, self.kernel_size)
        logits, self.entry = record_full(engine, canvas, rows, hook)
        self.kept_valid = hook.kept_valid
        self._track(self.entry.tensors())
        return engine.select(logits, self.entry.left, start, end)

"""Building blocks shared by the LLaDA and Dream stacks.

Both families are pre-norm Llama-style stacks with bidirectional attention, so the
pieces are the same; only the numerics that the reference code fixes (where RoPE is
computed, in which dtype) differ and are passed in explicitly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import torch
import torch.nn.functional as F
from torch import nn

# A layer's cache hook: (post-RoPE q, k, v of the fed positions, mask) -> (keys, values, mask)
# to attend over. Queries are passed for attention-guided policies (Sparse-dLLM saliency).
LayerKV = Callable[
    [torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor | None],
    tuple[torch.Tensor, torch.Tensor, torch.Tensor | None],
]


class KVCache(Protocol):
    """What a model forward needs from a cache policy (``dllm.cache``): one hook per layer,
    called with the layer's fresh keys/values after RoPE. Models hold no cache logic."""

    def layer(self, index: int) -> LayerKV: ...


class RMSNorm(nn.Module):
    """RMSNorm computed in fp32, cast back to the input dtype, then scaled (both references)."""

    def __init__(self, dim: int, eps: float) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dtype = x.dtype
        h = x.to(torch.float32)
        h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * h.to(dtype)


def rope_angles(positions: torch.Tensor, head_dim: int, theta: float) -> tuple[torch.Tensor, torch.Tensor]:
    """cos/sin tables in fp32 for integer ``positions`` [B, L] -> [B, 1, L, head_dim]."""
    inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, device=positions.device, dtype=torch.float32) / head_dim))
    freqs = positions.to(torch.float32)[..., None] * inv_freq
    angles = torch.cat((freqs, freqs), dim=-1)[:, None]
    return angles.cos(), angles.sin()


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    """NeoX/HF-Llama rotation over two contiguous halves of the head dim."""
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    return x * cos + rotate_half(x) * sin


def attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Bidirectional SDPA; kv heads are repeated for GQA; ``mask`` is bool [B, 1, Lq, Lk] or None."""
    groups = q.shape[1] // k.shape[1]
    if groups > 1:
        k = k.repeat_interleave(groups, dim=1)
        v = v.repeat_interleave(groups, dim=1)
    return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=False)


def padding_mask(attention_mask: torch.Tensor | None) -> torch.Tensor | None:
    """[B, L] 1/0 mask -> bool [B, 1, L, L] mask, or None when nothing is padded.

    Real queries see real keys only. A pad query sees only itself, so its row is never
    all-False (older SDPA kernels return NaN there); pad rows are never read. A 4-D bool
    [B, 1, L, L] mask (e.g. a causal one for training) is used as given.
    """
    if attention_mask is not None and attention_mask.dim() == 4:
        return attention_mask.bool()
    if attention_mask is None or bool(attention_mask.all()):
        return None
    keep = attention_mask.bool()
    mask = keep[:, None, None, :].expand(-1, 1, keep.shape[1], -1).clone()
    eye = torch.eye(keep.shape[1], dtype=torch.bool, device=keep.device)
    mask |= (~keep)[:, None, :, None] & eye
    return mask


def positions_from_mask(attention_mask: torch.Tensor) -> torch.Tensor:
    """Positions counted from each row's first real token under left padding (Dream's generate).

    A padded row then sees exactly the positions it would see alone; RoPE is relative,
    so this only removes rounding differences between batched and single decoding.
    """
    return (attention_mask.long().cumsum(-1) - 1).clamp(min=0)


def split_heads(x: torch.Tensor, head_dim: int) -> torch.Tensor:
    """[B, L, H*D] -> [B, H, L, D]."""
    b, n, _ = x.shape
    return x.view(b, n, -1, head_dim).transpose(1, 2)


def merge_heads(x: torch.Tensor) -> torch.Tensor:
    """[B, H, L, D] -> [B, L, H*D]."""
    b, _, n, _ = x.shape
    return x.transpose(1, 2).reshape(b, n, -1)


def attention_inputs(
    input_ids: torch.Tensor, attention_mask: torch.Tensor | None, position_ids: torch.Tensor | None, head_dim: int, theta: float
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """RoPE tables and the padding mask for one forward; positions default to 0..L-1 (both references)."""
    if position_ids is None:
        b, n = input_ids.shape
        position_ids = torch.arange(n, device=input_ids.device).expand(b, -1)
    cos, sin = rope_angles(position_ids, head_dim, theta)
    return cos, sin, padding_mask(attention_mask)

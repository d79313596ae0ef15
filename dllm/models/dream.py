"""Native Dream (Dream-org/Dream-v0-Base-7B, -Instruct-7B): model_type ``Dream``."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from dllm.errors import CheckpointError
from dllm.models.layers import KVCache, LayerKV, RMSNorm, apply_rope, attention, attention_inputs, merge_heads, split_heads

_REQUIRED = (
    "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads", "vocab_size",
)


@dataclass(slots=True)
class DreamConfig:
    hidden_size: int
    intermediate_size: int
    num_hidden_layers: int
    num_attention_heads: int
    num_key_value_heads: int
    vocab_size: int
    rms_norm_eps: float
    rope_theta: float
    max_position_embeddings: int
    tie_word_embeddings: bool

    @classmethod
    def from_dict(cls, raw: dict) -> "DreamConfig":
        missing = [k for k in _REQUIRED if raw.get(k) is None]
        if missing:
            raise CheckpointError(f"config.json lacks {', '.join(missing)}; it is not a complete Dream config")
        if raw.get("hidden_act", "silu") != "silu":
            raise CheckpointError(f"config.json sets hidden_act={raw['hidden_act']!r}; dllm supports only 'silu' for Dream")
        if raw.get("rope_scaling"):
            raise CheckpointError("config.json sets rope_scaling; dllm supports only default RoPE for Dream")
        if raw.get("use_sliding_window"):
            raise CheckpointError("config.json sets use_sliding_window=true; dllm supports only full attention for Dream")
        return cls(
            hidden_size=raw["hidden_size"],
            intermediate_size=raw["intermediate_size"],
            num_hidden_layers=raw["num_hidden_layers"],
            num_attention_heads=raw["num_attention_heads"],
            num_key_value_heads=raw.get("num_key_value_heads") or raw["num_attention_heads"],
            vocab_size=raw["vocab_size"],
            rms_norm_eps=raw.get("rms_norm_eps", 1e-6),
            rope_theta=raw.get("rope_theta", 10000.0),
            max_position_embeddings=raw.get("max_position_embeddings", 32768),
            tie_word_embeddings=bool(raw.get("tie_word_embeddings", False)),
        )

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_attention_heads


class DreamAttention(nn.Module):
    def __init__(self, cfg: DreamConfig) -> None:
        super().__init__()
        d, h = cfg.hidden_size, cfg.head_dim
        self.head_dim = h
        self.q_proj = nn.Linear(d, cfg.num_attention_heads * h, bias=True)
        self.k_proj = nn.Linear(d, cfg.num_key_value_heads * h, bias=True)
        self.v_proj = nn.Linear(d, cfg.num_key_value_heads * h, bias=True)
        self.o_proj = nn.Linear(cfg.num_attention_heads * h, d, bias=False)

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, mask: torch.Tensor | None,
                kv: LayerKV | None = None) -> torch.Tensor:
        d = self.head_dim
        q, k, v = split_heads(self.q_proj(x), d), split_heads(self.k_proj(x), d), split_heads(self.v_proj(x), d)
        # Qwen2 numerics: cos/sin are cast to the activation dtype, rotation happens there.
        cos, sin = cos.to(q.dtype), sin.to(q.dtype)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        if kv is not None:
            k, v, mask = kv(q, k, v, mask)
        return self.o_proj(merge_heads(attention(q, k, v, mask)))


class DreamMLP(nn.Module):
    def __init__(self, cfg: DreamConfig) -> None:
        super().__init__()
        self.gate_proj = nn.Linear(cfg.hidden_size, cfg.intermediate_size, bias=False)
        self.up_proj = nn.Linear(cfg.hidden_size, cfg.intermediate_size, bias=False)
        self.down_proj = nn.Linear(cfg.intermediate_size, cfg.hidden_size, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down_proj(nn.functional.silu(self.gate_proj(x)) * self.up_proj(x))


class DreamLayer(nn.Module):
    def __init__(self, cfg: DreamConfig) -> None:
        super().__init__()
        self.input_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.self_attn = DreamAttention(cfg)
        self.post_attention_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.mlp = DreamMLP(cfg)

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, mask: torch.Tensor | None,
                kv: LayerKV | None = None) -> torch.Tensor:
        x = x + self.self_attn(self.input_layernorm(x), cos, sin, mask, kv)
        return x + self.mlp(self.post_attention_layernorm(x))


class DreamModel(nn.Module):
    """Dream 7B (Ye et al., arXiv 2508.15487): the Qwen2 stack with bidirectional attention.

    Native port of ``modeling_dream.py``. Shifted prediction: ``logits[:, i]`` scores the
    token at position i+1 (the AR heritage); the engine maps it back in one place.
    Deviation: a pad query attends only to itself instead of nothing, so no row is all
    masked (older SDPA returned NaN there); pad rows are never read.
    """

    shifted_logits = True
    family = "dream"

    def __init__(self, cfg: DreamConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.model = nn.Module()
        self.model.embed_tokens = nn.Embedding(cfg.vocab_size, cfg.hidden_size)
        self.model.layers = nn.ModuleList(DreamLayer(cfg) for _ in range(cfg.num_hidden_layers))
        self.model.norm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        if not cfg.tie_word_embeddings:
            self.lm_head = nn.Linear(cfg.hidden_size, cfg.vocab_size, bias=False)

    @property
    def max_length(self) -> int:
        return self.cfg.max_position_embeddings

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        kv_cache: KVCache | None = None,
    ) -> torch.Tensor:
        cos, sin, mask = attention_inputs(input_ids, attention_mask, position_ids, self.cfg.head_dim, self.cfg.rope_theta)
        x = self.model.embed_tokens(input_ids)
        for i, layer in enumerate(self.model.layers):
            x = layer(x, cos, sin, mask, None if kv_cache is None else kv_cache.layer(i))
        x = self.model.norm(x)
        head = self.model.embed_tokens.weight if self.cfg.tie_word_embeddings else self.lm_head.weight
        return nn.functional.linear(x, head)

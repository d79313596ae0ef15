"""Native LLaDA (GSAI-ML/LLaDA-8B-Base/Instruct, LLaDA-1.5): model_type ``llada``."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from dllm.errors import CheckpointError
from dllm.models.layers import KVCache, LayerKV, RMSNorm, apply_rope, attention, attention_inputs, merge_heads, split_heads

# Keys whose absence would silently change the graph: the reference falls back to
# GPT-2-like defaults (d_model 768, ...), so we refuse instead.
_REQUIRED = ("d_model", "n_heads", "n_layers", "vocab_size", "rms_norm_eps", "rope_theta")

# Options the released checkpoints never use; refused rather than silently mis-run.
_UNSUPPORTED = {
    "block_type": ("llama",),
    "activation_type": ("silu",),
    "layer_norm_type": ("rms",),
    "attention_layer_norm": (False, None),
    "alibi": (False, None),
    "rope": (True, None),
    "input_emb_norm": (False, None),
    "scale_logits": (False, None),
    "block_group_size": (1, None),
    "bias_for_layer_norm": (False, None),
    "multi_query_attention": (False, None),
    "layer_norm_with_affine": (True, None),
}


@dataclass(slots=True)
class LLaDAConfig:
    d_model: int
    n_heads: int
    n_kv_heads: int
    n_layers: int
    mlp_hidden_size: int
    vocab_size: int
    embedding_size: int
    rms_norm_eps: float
    rope_theta: float
    max_sequence_length: int
    weight_tying: bool
    qkv_bias: bool
    bias: bool

    @classmethod
    def from_dict(cls, raw: dict) -> "LLaDAConfig":
        missing = [k for k in _REQUIRED if raw.get(k) is None]
        if missing:
            raise CheckpointError(f"config.json lacks {', '.join(missing)}; it is not a complete LLaDA config")
        for key, allowed in _UNSUPPORTED.items():
            if raw.get(key) not in allowed:
                raise CheckpointError(f"config.json sets {key}={raw.get(key)!r}; dllm supports only {allowed[0]!r} for LLaDA")
        d = raw["d_model"]
        return cls(
            d_model=d,
            n_heads=raw["n_heads"],
            n_kv_heads=raw.get("n_kv_heads") or raw["n_heads"],
            n_layers=raw["n_layers"],
            mlp_hidden_size=raw.get("mlp_hidden_size") or raw.get("mlp_ratio", 4) * d,
            vocab_size=raw["vocab_size"],
            embedding_size=raw.get("embedding_size") or raw["vocab_size"],
            rms_norm_eps=raw["rms_norm_eps"],
            rope_theta=raw["rope_theta"],
            max_sequence_length=raw.get("max_sequence_length", 4096),
            weight_tying=bool(raw.get("weight_tying", False)),
            qkv_bias=bool(raw.get("include_qkv_bias") or raw.get("include_bias")),
            bias=bool(raw.get("include_bias", False)),
        )

    @property
    def head_dim(self) -> int:
        return self.d_model // self.n_heads


class LLaDABlock(nn.Module):
    """One LLaDALlamaBlock: tensor names follow ``model.transformer.blocks.N.*``."""

    def __init__(self, cfg: LLaDAConfig) -> None:
        super().__init__()
        d, kv, f = cfg.d_model, cfg.n_kv_heads * cfg.head_dim, cfg.mlp_hidden_size
        self.cfg = cfg
        self.attn_norm = RMSNorm(d, cfg.rms_norm_eps)
        self.q_proj = nn.Linear(d, d, bias=cfg.qkv_bias)
        self.k_proj = nn.Linear(d, kv, bias=cfg.qkv_bias)
        self.v_proj = nn.Linear(d, kv, bias=cfg.qkv_bias)
        self.attn_out = nn.Linear(d, d, bias=cfg.bias)
        self.ff_norm = RMSNorm(d, cfg.rms_norm_eps)
        self.ff_proj = nn.Linear(d, f, bias=cfg.bias)  # the gate (through SiLU), despite its name
        self.up_proj = nn.Linear(d, f, bias=cfg.bias)
        self.ff_out = nn.Linear(f, d, bias=cfg.bias)  # the down projection

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, mask: torch.Tensor | None,
                kv: LayerKV | None = None) -> torch.Tensor:
        h = self.attn_norm(x)
        d = self.cfg.head_dim
        q, k, v = split_heads(self.q_proj(h), d), split_heads(self.k_proj(h), d), split_heads(self.v_proj(h), d)
        # rope_full_precision: the reference rotates q and k in fp32 and casts back.
        q = apply_rope(q.float(), cos, sin).to(q.dtype)
        k = apply_rope(k.float(), cos, sin).to(k.dtype)
        if kv is not None:
            k, v, mask = kv(q, k, v, mask)
        x = x + self.attn_out(merge_heads(attention(q, k, v, mask)))
        h = self.ff_norm(x)
        return x + self.ff_out(nn.functional.silu(self.ff_proj(h)) * self.up_proj(h))


class LLaDAModelLM(nn.Module):
    """LLaDA masked-diffusion LM (Nie et al., arXiv 2502.09992), native port of ``modeling_llada.py``.

    Same-position prediction: ``logits[:, i]`` scores the token at position i. Positions
    default to 0..L-1 even under padding, as in the reference. Deviation: a pad query
    attends only to itself rather than to every real key (its row is never read).
    """

    shifted_logits = False
    family = "llada"

    def __init__(self, cfg: LLaDAConfig) -> None:
        super().__init__()
        self.cfg = cfg
        t = nn.Module()
        t.wte = nn.Embedding(cfg.embedding_size, cfg.d_model)
        t.blocks = nn.ModuleList(LLaDABlock(cfg) for _ in range(cfg.n_layers))
        t.ln_f = RMSNorm(cfg.d_model, cfg.rms_norm_eps)
        if not cfg.weight_tying:
            t.ff_out = nn.Linear(cfg.d_model, cfg.embedding_size, bias=cfg.bias)
        self.model = nn.Module()
        self.model.transformer = t

    @property
    def max_length(self) -> int:
        return self.cfg.max_sequence_length

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        kv_cache: KVCache | None = None,
    ) -> torch.Tensor:
        t = self.model.transformer
        cos, sin, mask = attention_inputs(input_ids, attention_mask, position_ids, self.cfg.head_dim, self.cfg.rope_theta)
        x = t.wte(input_ids)
        for i, block in enumerate(t.blocks):
            x = block(x, cos, sin, mask, None if kv_cache is None else kv_cache.layer(i))
        x = t.ln_f(x)
        head = t.wte.weight if self.cfg.weight_tying else t.ff_out.weight
        bias = None if self.cfg.weight_tying else t.ff_out.bias
        return nn.functional.linear(x, head, bias)

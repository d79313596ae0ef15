"""Tiny random checkpoints in the real LLaDA / Dream formats, for tests and examples.

The tokenizer is byte-level BPE with no merges (256 byte symbols) plus each family's
special tokens and chat template, saved as ``PreTrainedTokenizerFast`` so that
``AutoTokenizer`` loads it without remote code.
"""

from __future__ import annotations

from pathlib import Path

import torch

from dllm.models.loader import build_model
from dllm.models.writer import DREAM_AUTO_MAP, LLADA_AUTO_MAP, write_checkpoint

LLADA_CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% set turn = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' %}"
    "{% if loop.first %}{% set turn = bos_token + turn %}{% endif %}{{ turn }}"
    "{% endfor %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}"
)
CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{% if loop.first and message['role'] != 'system' %}{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
LLADA_SPECIALS = ["<|startoftext|>", "<|endoftext|>", "<|mdm_mask|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]
DREAM_SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|beginoftext|>", "<|mask|>"]
# The released LLaDA-8B and Dream-7B configs (checkpoint_spec.json), for meta-device checks
# and random-weight benchmarks of real-size shapes.
REAL_CONFIGS = {
    "llada": {
        "model_type": "llada", "d_model": 4096, "n_heads": 32, "n_kv_heads": 32, "n_layers": 32, "mlp_hidden_size": 12288,
        "mlp_ratio": 4, "vocab_size": 126464, "embedding_size": 126464, "max_sequence_length": 4096, "rms_norm_eps": 1e-5,
        "rope_theta": 500000.0, "block_type": "llama", "activation_type": "silu", "layer_norm_type": "rms",
        "layer_norm_with_affine": True, "bias_for_layer_norm": False, "include_bias": False, "include_qkv_bias": False,
        "weight_tying": False, "rope": True, "alibi": False, "attention_layer_norm": False, "input_emb_norm": False,
        "scale_logits": False, "block_group_size": 1, "mask_token_id": 126336, "eos_token_id": 126081,
    },
    "dream": {
        "model_type": "Dream", "hidden_size": 3584, "intermediate_size": 18944, "num_hidden_layers": 28,
        "num_attention_heads": 28, "num_key_value_heads": 4, "vocab_size": 152064, "hidden_act": "silu",
        "rms_norm_eps": 1e-6, "rope_theta": 1e6, "max_position_embeddings": 131072, "use_sliding_window": False,
        "tie_word_embeddings": False, "mask_token_id": 151666, "eos_token_id": 151643,
    },
}
VOCAB_SIZE = 272  # 256 bytes + specials, rounded up like the real embedding tables


def byte_tokenizer(family: str):
    """A byte-level tokenizer with the family's special tokens and chat template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    tok = Tokenizer(models.BPE(vocab={ch: i for i, ch in enumerate(alphabet)}, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    if family == "llada":
        tok.add_special_tokens(LLADA_SPECIALS)
        return PreTrainedTokenizerFast(
            tokenizer_object=tok, bos_token="<|startoftext|>", eos_token="<|endoftext|>", pad_token="<|endoftext|>",
            mask_token="<|mdm_mask|>", chat_template=LLADA_CHAT_TEMPLATE,
        )
    tok.add_special_tokens(DREAM_SPECIALS)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<|beginoftext|>", eos_token="<|endoftext|>", pad_token="<|endoftext|>",
        mask_token="<|mask|>", chat_template=CHATML_TEMPLATE,
    )


def tiny_config(family: str, tokenizer, **overrides) -> dict:
    """A small config.json with every key the real one has (see checkpoint_spec.json)."""
    mask, eos = tokenizer.mask_token_id, tokenizer.eos_token_id
    if family == "llada":
        config = {
            "model_type": "llada", "architectures": ["LLaDAModelLM"], "auto_map": LLADA_AUTO_MAP,
            "d_model": 64, "n_heads": 4, "n_kv_heads": 2, "n_layers": 2, "mlp_hidden_size": 96, "mlp_ratio": 4,
            "vocab_size": VOCAB_SIZE, "embedding_size": VOCAB_SIZE, "max_sequence_length": 512,
            "mask_token_id": mask, "eos_token_id": eos, "pad_token_id": eos, "rope_theta": 500000.0,
            "rms_norm_eps": 1e-5, "block_type": "llama", "activation_type": "silu", "layer_norm_type": "rms",
            "layer_norm_with_affine": True, "bias_for_layer_norm": False, "include_bias": False,
            "include_qkv_bias": False, "weight_tying": False, "rope": True, "rope_full_precision": True,
            "alibi": False, "alibi_bias_max": 8.0, "attention_layer_norm": False, "input_emb_norm": False,
            "scale_logits": False, "block_group_size": 1, "attention_dropout": 0.0, "residual_dropout": 0.0,
            "embedding_dropout": 0.0, "flash_attention": False, "init_device": "meta", "init_fn": "mitchell",
            "init_std": 0.02, "multi_query_attention": None, "precision": "amp_bf16", "use_cache": False,
        }
    else:
        config = {
            "model_type": "Dream", "architectures": ["DreamModel"], "auto_map": DREAM_AUTO_MAP,
            "hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 2, "num_attention_heads": 4,
            "num_key_value_heads": 2, "vocab_size": VOCAB_SIZE, "max_position_embeddings": 512,
            "mask_token_id": mask, "pad_token_id": eos, "bos_token_id": eos, "eos_token_id": eos,
            "rope_theta": 1000000.0, "rms_norm_eps": 1e-6, "tie_word_embeddings": False, "hidden_act": "silu",
            "rope_scaling": None, "use_sliding_window": False, "sliding_window": None, "max_window_layers": 2,
            "attention_dropout": 0.0, "initializer_range": 0.02, "use_cache": False,
        }
    config.update(overrides)
    return config


def random_state(config: dict, seed: int = 0, head_std: float = 0.5) -> dict[str, torch.Tensor]:
    """Random weights; a large head std makes the distributions peaked, so argmaxes are stable."""
    model = build_model(Path("."), config, device="cpu")
    g = torch.Generator().manual_seed(seed)
    state = {}
    for name, t in model.state_dict().items():
        if name.endswith("norm.weight") or name.endswith("ln_f.weight"):
            state[name] = torch.ones_like(t) + 0.1 * torch.randn(t.shape, generator=g)
        else:
            std = head_std if name in ("lm_head.weight", "model.transformer.ff_out.weight") else 0.02
            std = 0.3 if name.endswith(("wte.weight", "embed_tokens.weight")) else std
            state[name] = torch.randn(t.shape, generator=g) * std
    return state


def write_tiny_checkpoint(
    directory: str | Path, family: str, seed: int = 0, dtype: torch.dtype = torch.float32, shards: int = 1, **overrides
) -> Path:
    """Write a tiny random ``llada`` or ``dream`` checkpoint in the real format."""
    tokenizer = byte_tokenizer(family)
    config = tiny_config(family, tokenizer, **overrides)
    config["torch_dtype"] = str(dtype).removeprefix("torch.")
    state = {k: v.to(dtype) for k, v in random_state(config, seed).items()}
    gen = {"eos_token_id": tokenizer.eos_token_id, "pad_token_id": tokenizer.eos_token_id}
    return write_checkpoint(directory, config, state, tokenizer, generation_config=gen, shards=shards)

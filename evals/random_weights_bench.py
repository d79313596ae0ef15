"""Time decoding with real-size LLaDA-8B / Dream-7B shapes and random weights (no checkpoint needed).

    python -m dllm.evals.random_weights_bench --family llada --batch-size 1 8 --gen-length 256

Prints one JSON line per batch size: milliseconds per denoising step, tokens/s, NFE, peak
memory, and the weight-read bound (weight bytes / memory bandwidth) when ``--bandwidth-gbs``
is given. Random weights never emit EOS on purpose, so every step is a full forward.
"""

from __future__ import annotations

import argparse
import json

import torch

from dllm.api import DiffusionLM
from dllm.config import GenerationConfig
from dllm.evals.bench import run_bench
from dllm.models.loader import build_model
from dllm.models.tokens import SpecialTokens
from dllm.samplers import make_sampler
from dllm.testing import byte_tokenizer

REAL_CONFIGS = {
    "llada": {
        "model_type": "llada", "d_model": 4096, "n_heads": 32, "n_kv_heads": 32, "n_layers": 32, "mlp_hidden_size": 12288,
        "vocab_size": 126464, "embedding_size": 126464, "max_sequence_length": 4096, "rms_norm_eps": 1e-5,
        "rope_theta": 500000.0, "block_type": "llama", "activation_type": "silu", "layer_norm_type": "rms",
        "weight_tying": False, "mask_token_id": 126336, "eos_token_id": 126081,
    },
    "dream": {
        "model_type": "Dream", "hidden_size": 3584, "intermediate_size": 18944, "num_hidden_layers": 28,
        "num_attention_heads": 28, "num_key_value_heads": 4, "vocab_size": 152064, "rms_norm_eps": 1e-6,
        "rope_theta": 1e6, "max_position_embeddings": 131072, "mask_token_id": 151666, "eos_token_id": 151643,
    },
}


def random_lm(family: str, device: str, dtype: torch.dtype) -> DiffusionLM:
    config = REAL_CONFIGS[family]
    model = build_model(None, config, device="meta").to_empty(device=device).to(dtype)
    torch.manual_seed(0)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.02)
    eos = config["eos_token_id"]
    special = SpecialTokens(mask_id=config["mask_token_id"], stop_ids=(eos,), pad_id=eos)
    return DiffusionLM(model.eval(), byte_tokenizer("llada" if family == "llada" else "dream"), special, f"random-{family}", None)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--family", choices=sorted(REAL_CONFIGS), default="llada")
    ap.add_argument("--batch-size", type=int, nargs="+", default=[1])
    ap.add_argument("--gen-length", type=int, default=256)
    ap.add_argument("--block-length", type=int, default=32)
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--sampler", default="low_confidence")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--bandwidth-gbs", type=float, default=None, help="Peak memory bandwidth for the weight-read bound.")
    args = ap.parse_args()
    lm = random_lm(args.family, args.device, torch.bfloat16)
    weight_bytes = sum(p.numel() * p.element_size() for p in lm.model.parameters())
    sampler = make_sampler(args.sampler)
    config = GenerationConfig(max_new_tokens=args.gen_length, block_length=args.block_length,
                              steps=args.steps).resolve(sampler.default_block_length)
    for b in args.batch_size:
        result = run_bench(lm, sampler, config, b, args.repeats, warmup=1, chat=False)
        result.pop("runs")
        result["weight_bytes"] = weight_bytes
        if args.bandwidth_gbs:
            result["weight_read_bound_ms"] = 1000 * weight_bytes / (args.bandwidth_gbs * 1e9)
        print(json.dumps(result))


if __name__ == "__main__":
    main()

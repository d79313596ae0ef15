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
from dllm.testing import REAL_CONFIGS, byte_tokenizer



def random_lm(family: str, device: str, dtype: torch.dtype) -> DiffusionLM:
    config = REAL_CONFIGS[family]
    model = build_model(None, config, device="meta").to(dtype).to_empty(device=device)  # no fp32 copy on the device
    torch.manual_seed(0)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.02)
    eos = config["eos_token_id"]
    special = SpecialTokens(mask_id=config["mask_token_id"], stop_ids=(eos,), pad_id=eos)
    return DiffusionLM(model.eval(), byte_tokenizer(family), special, f"random-{family}", None)


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

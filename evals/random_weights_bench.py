"""Time decoding with real-size LLaDA-8B / Dream-7B shapes and random weights (no checkpoint needed).

    python -m dllm.evals.random_weights_bench --family llada --batch-size 1 8 --gen-length 256 \\
        --cache none prefix dual sparse --bandwidth-gbs 3350 --output evals/results/random-llada

Prints one JSON line per (cache, batch size): milliseconds per denoising step, tokens/s, NFE,
peak memory, peak stored K/V, and the weight-read bound (weight bytes / memory bandwidth) when
``--bandwidth-gbs`` is given; ``--output`` also writes them, with the environment, to
``results.json``. Random weights never emit EOS on purpose, so every row decodes the whole
canvas and every cache policy does the same number of steps.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from dllm.api import DiffusionLM
from dllm.cache import CACHES
from dllm.config import GenerationConfig
from dllm.env import environment
from dllm.evals.bench import run_bench
from dllm.models.loader import build_model
from dllm.models.tokens import SpecialTokens
from dllm.samplers import make_sampler
from dllm.testing import REAL_CONFIGS, byte_tokenizer


def random_lm(family: str, device: str, dtype: torch.dtype, config: dict | None = None) -> DiffusionLM:
    """A DiffusionLM with N(0, 0.02) weights in the real shapes (or `config`'s), made on the device."""
    config = config or REAL_CONFIGS[family]
    model = build_model(None, config, device="meta").to(dtype).to_empty(device=device)  # no fp32 copy on the device
    torch.manual_seed(0)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.02)
    eos = config["eos_token_id"]
    special = SpecialTokens(mask_id=config["mask_token_id"], stop_ids=(eos,), pad_id=eos)
    return DiffusionLM(model.eval(), byte_tokenizer(family), special, f"random-{family}", None)


def bench_caches(lm: DiffusionLM, sampler_name: str, caches: list[str], batch_sizes: list[int],
                 gen_length: int, block_length: int, steps: int | None, repeats: int,
                 bandwidth_gbs: float | None = None) -> list[dict]:
    """One timed `run_bench` row per (cache, batch size), all in this process."""
    weight_bytes = sum(p.numel() * p.element_size() for p in lm.model.parameters())
    sampler = make_sampler(sampler_name)
    rows = []
    for cache in caches:
        config = GenerationConfig(max_new_tokens=gen_length, block_length=block_length, steps=steps,
                                  cache=cache).resolve(sampler.default_block_length)
        for batch in batch_sizes:
            result = run_bench(lm, sampler, config, batch, repeats, warmup=1, chat=False)
            result.pop("runs")
            result.pop("env")
            result["weight_bytes"] = weight_bytes
            if bandwidth_gbs:
                result["weight_read_bound_ms"] = 1000 * weight_bytes / (bandwidth_gbs * 1e9)
            rows.append(result)
            print(json.dumps(result), flush=True)
    return rows


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--family", choices=sorted(REAL_CONFIGS), default="llada")
    ap.add_argument("--batch-size", type=int, nargs="+", default=[1])
    ap.add_argument("--gen-length", type=int, default=256)
    ap.add_argument("--block-length", type=int, default=32)
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--sampler", default="low_confidence")
    ap.add_argument("--cache", nargs="+", default=["none"], choices=sorted(CACHES), help="cache policies to time")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--bandwidth-gbs", type=float, default=None, help="Peak memory bandwidth for the weight-read bound.")
    ap.add_argument("--output", type=Path, default=None, help="directory for results.json")
    args = ap.parse_args(argv)
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        ap.error(f"--device {args.device}: no CUDA device here; pass --device cpu (slow at these sizes)")
    lm = random_lm(args.family, args.device, torch.bfloat16)
    rows = bench_caches(lm, args.sampler, args.cache, args.batch_size, args.gen_length, args.block_length,
                        args.steps, args.repeats, args.bandwidth_gbs)
    if args.output:
        args.output.mkdir(parents=True, exist_ok=True)
        record = {"family": args.family, "rows": rows, "env": environment(lm.device, lm.dtype, args.batch_size)}
        tmp = args.output / "results.json.tmp"
        tmp.write_text(json.dumps(record, indent=2))
        tmp.replace(args.output / "results.json")


if __name__ == "__main__":
    main()

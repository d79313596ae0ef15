"""KV-cache policies compared in one run: tokens/s, NFE, accuracy and peak KV memory.

    python -m dllm.evals.cache_bench --models tiny-llada --gen-lengths 256 1024 --limit 20 --output runs/cache

For every model, generation length, sampler (`low_confidence`: one token per step;
`threshold`: Fast-dLLM tau 0.9) and cache (none, prefix, dual, sparse), the long-list tasks
are decoded greedily with block 32 at that canvas length; `--tasks` picks others. Speed ratios
are against `none` from the same run. Writes `cache_bench.json` and prints a table.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import dllm
from dllm.env import environment
from dllm.evals.runner import EvalSettings, evaluate
from dllm.evals.synthetic import get_tasks


def measure(lm, tasks, gen: int, sampler: str, cache: str, limit: int, batch_size: int,
            refresh_interval: int = 0) -> dict:
    options = {"temperature": 0.0, "block_length": 32, "cache": cache}
    if refresh_interval and cache in ("prefix", "dual"):
        options["cache_args"] = {"refresh_interval": refresh_interval}
    steps = gen if sampler == "low_confidence" else None
    if steps:
        options["steps"] = steps
    results, _ = evaluate(lm, tasks, EvalSettings(sampler, options, gen, None, limit, batch_size))
    return {
        "gen_length": gen, "sampler": sampler, "cache": cache, "cache_args": options.get("cache_args"),
        "accuracy": results["mean_accuracy"],
        "nfe_per_sample": results["nfe_per_sample"], "full_nfe_per_sample": results["full_nfe_per_sample"],
        "tokens_per_forward": results["tokens_per_forward"],
        "tokens_per_s": results["tokens_per_s"],
        "kv_cache_peak_mb": max(t["kv_cache_peak_mb"] for t in results["tasks"].values()),
        "tasks": {k: v["accuracy"] for k, v in results["tasks"].items()},
    }


def speedup(row: dict, base: dict | None) -> float | None:
    """tokens/s against the same run's no-cache row; None without one, or when it generated nothing."""
    if base is None or not base["tokens_per_s"]:
        return None
    return row["tokens_per_s"] / base["tokens_per_s"]


def full_forward_ceiling(row: dict, base: dict | None) -> float | None:
    """The most a cache could gain if its partial forwards cost nothing: the no-cache row's
    forwards over this row's full ones (refreshes), both over the whole canvas, for the same
    outputs. A cache that refreshes at every block start cannot beat it, however cheap its
    other steps; with about one forward per block (a confident sampler) it is near 1."""
    if base is None or not row["full_nfe_per_sample"]:
        return None
    return base["nfe_per_sample"] / row["full_nfe_per_sample"]


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="KV-cache policies: speed, NFE, accuracy, memory")
    p.add_argument("--models", nargs="+", default=["tiny-llada", "tiny-dream"])
    p.add_argument("--gen-lengths", nargs="+", type=int, default=[256, 1024])
    p.add_argument("--samplers", nargs="+", default=["low_confidence", "threshold"])
    p.add_argument("--caches", nargs="+", default=["none", "prefix", "dual", "sparse"])
    p.add_argument("--tasks", default="long")
    p.add_argument("--refresh-interval", type=int, default=0,
                   help="prefix/dual: also refresh every N steps inside a block (0: block starts only)")
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--output", type=Path, default=Path("runs/cache"))
    args = p.parse_args(argv)
    tasks = get_tasks(args.tasks.split(","))
    report = {"tasks": [t.name for t in tasks], "limit": args.limit, "models": {}}
    for name in args.models:
        lm = dllm.load(name, device="cpu")
        rows = []
        for gen in args.gen_lengths:
            for sampler in args.samplers:
                base = None
                for cache in args.caches:
                    row = measure(lm, tasks, gen, sampler, cache, args.limit, args.batch_size, args.refresh_interval)
                    base = base or (row if cache == "none" else None)
                    row["speedup_vs_none"] = speedup(row, base)
                    row["full_forward_ceiling"] = full_forward_ceiling(row, base)
                    rows.append(row)
                    print(f"{name} G={gen} {sampler:>14} {cache:>6}: acc {row['accuracy']:5.1f}  NFE {row['nfe_per_sample']:6.1f}  "
                          f"full {row['full_nfe_per_sample']:6.1f}  {row['tokens_per_s']:7.1f} tok/s  "
                          f"x{row['speedup_vs_none'] or 0:.2f} (ceiling x{row['full_forward_ceiling'] or 0:.2f})  "
                          f"KV {row['kv_cache_peak_mb']:.1f} MB", flush=True)
        report["models"][name] = {"rows": rows, "env": environment(lm.device, lm.dtype, args.batch_size)}
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "cache_bench.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps({"output": str(args.output / "cache_bench.json")}))


if __name__ == "__main__":
    main()

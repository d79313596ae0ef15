"""Accuracy against tokens per step on the synthetic suite (ParallelBench's top-k curve).

    python -m dllm.evals.parallel_sweep --models tiny-llada tiny-dream --k 1 2 4 8 --output runs/sweep

For each model and k, `low_confidence` decodes with steps = generation length / k (k tokens
committed per forward, greedy), every task at its own canvas; a table per model goes to
stdout, and `sweep.json` holds every figure plus the environment. A second part compares
Shuffle decoded in one step per block at temperature 1 with the ideal-model closed form
n!/n^n (ParallelBench Table 1; `ideal_shuffle_accuracy`), per list length n.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import dllm
from dllm.env import environment
from dllm.evals.runner import EvalSettings, evaluate_task
from dllm.evals.synthetic import TASKS, get_tasks, shuffle_one_step_accuracy


def reused_columns(specs: list[str], model: str) -> dict[int, dict]:
    """Columns read from earlier `dllm eval synthetic` runs (same sampler, greedy); several
    files for one column merge their tasks."""
    out = {}
    for spec in specs:
        name, _, rest = spec.partition(":")
        k, _, path = rest.partition("=")
        if name == model:
            results = json.loads(Path(path).read_text())
            out.setdefault(int(k), {}).update(results["tasks"])
    return out


def sweep_model(lm, tasks, ks: list[int], limit: int, long_limit: int, batch_size: int,
                reused: dict[int, dict]) -> dict:
    rows = {}
    for k in ks:
        if k in reused:
            rows[k] = {t.name: reused[k][t.name] for t in tasks}
            continue
        rows[k] = {}
        for task in tasks:
            n = long_limit if task.name.startswith("long") else limit
            settings = EvalSettings("low_confidence", {"temperature": 0.0}, None, k, n, batch_size)
            summary, _ = evaluate_task(lm, task, settings)
            rows[k][task.name] = summary
            print(f"  {lm.name} k={k} {task.name}: {summary['accuracy']:.1f}% "
                  f"({summary['tokens_per_forward']:.2f} tokens/forward)", flush=True)
    return rows


def shuffle_one_step(lm, limit: int, batch_size: int, seed: int) -> dict:
    """Shuffle with every answer token committed at once (one step per 32-token block), T = 1."""
    task = TASKS["shuffle"]
    settings = EvalSettings("low_confidence", {"temperature": 1.0, "seed": seed, "steps": 2}, None, None, limit,
                            batch_size)
    _, samples = evaluate_task(lm, task, settings)
    by_n: dict[int, list[float]] = {}
    for inst, sample in zip(task.generate(limit, "test"), samples):
        by_n.setdefault(len(inst.meta["input"]), []).append(sample["score"])
    return {
        n: {"measured": 100 * sum(s) / len(s), "count": len(s),
            "ideal_items": 100 * shuffle_one_step_accuracy(n) * (1 - 1 / math.factorial(n)),
            "ideal_tokens": 100 * shuffle_one_step_accuracy(n) * n ** -n * (1 - 1 / math.factorial(n))}
        for n, s in sorted(by_n.items())
    }


def markdown(model: str, rows: dict) -> str:
    ks = sorted(rows)
    lines = [f"| {model} | " + " | ".join(f"k={k}" for k in ks) + " |", "|---|" + "---:|" * len(ks)]
    for task in rows[ks[0]]:
        lines.append(f"| {task} | " + " | ".join(f"{rows[k][task]['accuracy']:.0f}" for k in ks) + " |")
    mean = [sum(t["accuracy"] for t in rows[k].values()) / len(rows[k]) for k in ks]
    tpf = [sum(t["tokens_per_forward"] * t["n"] for t in rows[k].values()) / sum(t["n"] for t in rows[k].values())
           for k in ks]
    lines.append("| **mean** | " + " | ".join(f"**{m:.1f}**" for m in mean) + " |")
    lines.append("| tokens/forward | " + " | ".join(f"{t:.2f}" for t in tpf) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="accuracy vs tokens per step on the synthetic suite")
    p.add_argument("--models", nargs="+", default=["tiny-llada", "tiny-dream"])
    p.add_argument("--k", nargs="+", type=int, default=[1, 2, 4, 8])
    p.add_argument("--tasks", default="all")
    p.add_argument("--limit", type=int, default=100)
    p.add_argument("--long-limit", type=int, default=100, help="instances of the long-list tasks")
    p.add_argument("--shuffle-limit", type=int, default=400, help="instances for the one-step Shuffle check (0: skip)")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--output", type=Path, default=Path("runs/sweep"))
    p.add_argument("--reuse", nargs="*", default=[], metavar="MODEL:K=RESULTS_JSON",
                   help="take the column for K from a `dllm eval synthetic` results.json instead of decoding again")
    args = p.parse_args(argv)
    tasks = get_tasks(args.tasks.split(","))
    report = {"k": args.k, "limit": args.limit, "long_limit": args.long_limit, "models": {}}
    for name in args.models:
        lm = dllm.load(name, device="cpu")
        rows = sweep_model(lm, tasks, args.k, args.limit, args.long_limit, args.batch_size,
                           reused_columns(args.reuse, name))
        entry = {"by_k": {str(k): v for k, v in rows.items()}, "env": environment(lm.device, lm.dtype, args.batch_size)}
        if args.shuffle_limit:
            entry["shuffle_one_step"] = shuffle_one_step(lm, args.shuffle_limit, args.batch_size, seed=0)
        report["models"][name] = entry
        print(markdown(name, rows), flush=True)
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "sweep.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps({"output": str(args.output / "sweep.json"),
                      "mean_accuracy": {m: {k: sum(t["accuracy"] for t in e["by_k"][k].values()) / len(e["by_k"][k])
                                            for k in e["by_k"]} for m, e in report["models"].items()}}))


if __name__ == "__main__":
    main()

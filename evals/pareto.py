"""Accuracy against tokens per forward for the parallel samplers (the Pareto plot).

    python -m dllm.evals.pareto --models tiny-llada tiny-dream --tasks all --limit 30 --output runs/pareto
    python -m dllm.evals.pareto --tasks long --gen-length 256 --output runs/pareto-long

Every point is one `dllm eval synthetic` run (greedy): the one-token-per-step baseline, each
parallel sampler at its defaults, and sweeps of threshold (0.5-0.95) and factor (0.7-1.9).
Accuracy, NFE, tokens per forward and generated tokens/s come from the same run. Writes
`pareto.json` (every point plus the environment) and `pareto.png` (one line per sampler).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import dllm
from dllm.env import environment
from dllm.evals.runner import EvalSettings, evaluate
from dllm.evals.synthetic import get_tasks

# (line label, sampler, parameters): the baseline, the defaults, then the sweeps.
POINTS: list[tuple[str, str, dict]] = [
    ("baseline", "low_confidence", {}),
    *[("threshold", "threshold", {"threshold": t}) for t in (0.5, 0.6, 0.7, 0.8, 0.9, 0.95)],
    *[("factor", "factor", {"factor": f}) for f in (0.7, 1.0, 1.3, 1.6, 1.9)],
    ("credit", "credit", {}),
    ("localleap", "localleap", {}),
    ("adablock", "adablock", {}),
]


def run_points(lm, tasks, limit: int, batch_size: int, gen_length: int | None, only: set[str] | None) -> list[dict]:
    points = []
    for label, sampler, params in POINTS:
        if only and label not in only:
            continue
        settings = EvalSettings(sampler, {"temperature": 0.0, **params}, gen_length, None, limit, batch_size)
        results, _ = evaluate(lm, tasks, settings)
        point = {"line": label, "sampler": sampler, "params": params, "mean_accuracy": results["mean_accuracy"],
                 "nfe_per_sample": results["nfe_per_sample"], "tokens_per_forward": results["tokens_per_forward"],
                 "tokens_per_s": results["tokens_per_s"],
                 "tasks": {k: v["accuracy"] for k, v in results["tasks"].items()}}
        print(f"  {lm.name} {label} {params}: {point['mean_accuracy']:.1f}% NFE {point['nfe_per_sample']:.1f} "
              f"{point['tokens_per_forward']:.2f} tok/fwd {point['tokens_per_s']:.1f} tok/s", flush=True)
        points.append(point)
    return points


def plot(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    models = list(report["models"])
    fig, axes = plt.subplots(1, len(models), figsize=(6 * len(models), 4.5), squeeze=False)
    for ax, model in zip(axes[0], models):
        points = report["models"][model]["points"]
        for line in dict.fromkeys(p["line"] for p in points):
            pts = sorted((p for p in points if p["line"] == line), key=lambda p: p["tokens_per_forward"])
            ax.plot([p["tokens_per_forward"] for p in pts], [p["mean_accuracy"] for p in pts],
                    marker="o", linestyle="-" if len(pts) > 1 else "none", label=line)
        ax.set_title(model)
        ax.set_xlabel("generated tokens per forward")
        ax.set_ylabel("mean accuracy (%)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="accuracy vs tokens per forward for the parallel samplers")
    p.add_argument("--models", nargs="+", default=["tiny-llada", "tiny-dream"])
    p.add_argument("--tasks", default="all")
    p.add_argument("--limit", type=int, default=30)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--gen-length", type=int, default=None, help="canvas for every task (default: each task's)")
    p.add_argument("--only", nargs="*", default=None, help="line labels to run (default: all)")
    p.add_argument("--output", type=Path, default=Path("runs/pareto"))
    args = p.parse_args(argv)
    tasks = get_tasks(args.tasks.split(","))
    report = {"tasks": [t.name for t in tasks], "limit": args.limit, "gen_length": args.gen_length, "models": {}}
    for name in args.models:
        lm = dllm.load(name, device="cpu")
        points = run_points(lm, tasks, args.limit, args.batch_size, args.gen_length, set(args.only or []))
        report["models"][name] = {"points": points, "env": environment(lm.device, lm.dtype, args.batch_size)}
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "pareto.json").write_text(json.dumps(report, indent=2) + "\n")
    plot(report, args.output / "pareto.png")
    print(json.dumps({"output": str(args.output), "points": {m: [(p["line"], round(p["tokens_per_forward"], 2),
                      round(p["mean_accuracy"], 1)) for p in e["points"]] for m, e in report["models"].items()}}))


if __name__ == "__main__":
    main()

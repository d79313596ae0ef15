"""``dllm eval``: score a model on a task suite; a table, files, then a last-line JSON."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

import dllm
from dllm.cli.common import model_options, parse_sampler_args
from dllm.errors import ConfigError
from dllm.evals.runner import EvalSettings, check_settings, evaluate
from dllm.evals.synthetic import get_tasks


@click.group(name="eval")
def eval_group() -> None:
    """Evaluate a model on a task suite."""


def parse_tasks(spec: str | None):
    names = [n.strip() for n in spec.split(",") if n.strip()] if spec else None
    try:
        return get_tasks(names)
    except KeyError as exc:
        raise ConfigError(exc.args[0] + "; pass --tasks with names from that list") from None


def write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def results_table(results: dict) -> Table:
    table = Table(title=f"{results['model']} / {results['sampler']}")
    for col in ("task", "accuracy %", "NFE/sample", "tokens/forward", "tokens/s"):
        table.add_column(col, justify="left" if col == "task" else "right")
    for name, t in results["tasks"].items():
        table.add_row(name, f"{t['accuracy']:.1f}", f"{t['nfe_per_sample']:.1f}", f"{t['tokens_per_forward']:.2f}",
                      f"{t['tokens_per_s']:.1f}")
    table.add_row("mean", f"{results['mean_accuracy']:.1f}", f"{results['nfe_per_sample']:.1f}",
                  f"{results['tokens_per_forward']:.2f}", f"{results['tokens_per_s']:.1f}", style="bold")
    return table


@eval_group.command()
@model_options
@click.option("--sampler", default="low_confidence", show_default=True, help="Sampler name (see `dllm samplers`).")
@click.option("--tasks", default=None, help="Comma-separated task or group names (default: the whole suite).")
@click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True, help="Test instances per task.")
@click.option("-b", "--batch-size", type=click.IntRange(min=1), default=16, show_default=True)
@click.option("--output-path", type=click.Path(file_okay=False), default=None,
              help="Folder for results.json and samples.jsonl (created if missing).")
@click.option("-n", "--gen-length", "--max-new-tokens", "gen_length", type=click.IntRange(min=1), default=None,
              help="Canvas per sample; default: each task's (64, or 256 for the long lists).")
@click.option("--block-length", type=click.IntRange(min=1), default=None, help="Default: the sampler's.")
@click.option("--steps", type=click.IntRange(min=1), default=None, help="TOTAL steps; default: one token per step.")
@click.option("--tokens-per-step", type=click.IntRange(min=1), default=None,
              help="Top-k style: steps = generation length / K for every task.")
@click.option("-t", "--temperature", type=float, default=0.0, show_default=True)
@click.option("-s", "--seed", type=int, default=0, show_default=True)
@click.option("--chat/--no-chat", default=None, help="Apply the chat template (default: when the tokenizer has one).")
@click.option("--sampler-arg", "sampler_args", multiple=True, metavar="KEY=VALUE", help="A sampler parameter, repeatable.")
@click.option("--cache", default="none", show_default=True, type=click.Choice(["none", "prefix", "dual", "sparse"]),
              help="Block-wise approximate KV cache.")
@click.option("--cache-arg", "cache_args", multiple=True, metavar="KEY=VALUE", help="A cache option, repeatable.")
def synthetic(model, dtype, device, sampler, tasks, limit, batch_size, output_path, gen_length, block_length, steps,
              tokens_per_step, temperature, seed, chat, sampler_args, cache, cache_args):
    """The offline synthetic suite (list ops, long lists, arithmetic, Latin square, JSON record)."""
    task_list = parse_tasks(tasks)
    options = {"block_length": block_length, "steps": steps, "temperature": temperature, "seed": seed,
               "cache": cache, "cache_args": parse_sampler_args(cache_args, flag="--cache-arg") or None,
               **parse_sampler_args(sampler_args)}
    settings = EvalSettings(sampler, options, gen_length, tokens_per_step, limit, batch_size, chat)
    out_dir = Path(output_path) if output_path else None
    if out_dir and out_dir.exists() and not out_dir.is_dir():
        raise ConfigError(f"--output-path {output_path!r} is a file; pass a folder")
    check_settings(task_list, settings)
    lm = dllm.load(model, dtype=dtype, device=device)
    console = Console(stderr=True)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        bar = progress.add_task(f"{model} / {sampler}", total=limit * len(task_list))
        results, samples = evaluate(lm, task_list, settings, lambda n: progress.advance(bar, n))
    console.print(results_table(results))
    line = json.dumps(results)
    if out_dir:
        out_dir.mkdir(parents=True, exist_ok=True)
        write_atomic(out_dir / "samples.jsonl", "".join(json.dumps(s) + "\n" for s in samples))
        write_atomic(out_dir / "results.json", json.dumps(results, indent=2) + "\n")
    click.echo(line)

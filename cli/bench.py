"""``dllm bench``: a fixed workload after warm-up; a table, then a last-line JSON."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

import dllm
from dllm.api import resolve_options
from dllm.cli.common import decoding_options, generation_kwargs, model_options
from dllm.errors import ConfigError
from dllm.evals.bench import run_bench


@click.command()
@model_options
@decoding_options
@click.option("-b", "--batch-size", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--repeats", type=click.IntRange(min=1), default=3, show_default=True)
@click.option("--warmup", type=click.IntRange(min=0), default=1, show_default=True)
@click.option("--output", "output", type=click.Path(dir_okay=False), default=None, help="Also write the JSON here.")
def bench(model, dtype, device, sampler, chat, batch_size, repeats, warmup, output, **opts):
    """Time a fixed decoding workload: tokens/s (up to EOS), NFE, tokens per forward, latency, memory."""
    config, policy = resolve_options(sampler, generation_kwargs(opts))
    if output and not Path(output).parent.exists():
        raise ConfigError(f"--output {output!r}: folder {str(Path(output).parent)!r} does not exist")
    lm = dllm.load(model, dtype=dtype, device=device)
    result = run_bench(lm, policy, config, batch_size, repeats, warmup, chat)
    table = Table(title=f"dllm bench: {model} / {sampler} (batch {batch_size}, {config.max_new_tokens} new tokens)")
    for col in ("tokens/s", "NFE/row", "tokens/forward", "latency s", "ms/step", "peak MB", "KV MB"):
        table.add_column(col, justify="right")
    table.add_row(f"{result['tokens_per_s']:.1f}", f"{result['nfe_per_row']:.1f}", f"{result['tokens_per_forward']:.3f}",
                  f"{result['latency_s_mean']:.3f}", f"{result['latency_ms_per_step']:.2f}", f"{result['peak_memory_mb']:.0f}",
                  f"{result['kv_cache_peak_mb']:.1f}")
    Console(stderr=True).print(table)
    line = json.dumps(result)
    if output:
        Path(output).write_text(line + "\n")
    click.echo(line)

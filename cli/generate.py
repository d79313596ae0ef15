"""``dllm generate``: decode prompts and report NFE, tokens per forward and tokens/s."""

from __future__ import annotations

import json
import sys
import time

import click

import dllm
from dllm.cli.common import decoding_options, generation_kwargs, model_options
from dllm.env import environment
from dllm.errors import ConfigError


def read_prompts(prompt: str | None, prompts_file: str | None) -> list[str]:
    """PROMPT, '-' or piped stdin for one prompt; --prompts-file for a batch (lines or JSONL)."""
    if prompt is not None and prompts_file is not None:
        raise ConfigError("give either PROMPT or --prompts-file, not both")
    if prompts_file is not None:
        try:
            lines = [line for line in open(prompts_file, encoding="utf-8").read().splitlines() if line.strip()]
        except OSError as exc:
            raise ConfigError(f"cannot read --prompts-file {prompts_file!r} ({exc.strerror})") from None
        prompts = [json.loads(line)["prompt"] if line.lstrip().startswith("{") else line for line in lines]
        if not prompts:
            raise ConfigError(f"--prompts-file {prompts_file!r} holds no prompts; write one per line")
        return prompts
    if prompt == "-" or (prompt is None and not sys.stdin.isatty()):
        return [sys.stdin.read()]
    if prompt is None:
        raise ConfigError("no prompt; pass PROMPT, '-' for stdin, or --prompts-file FILE")
    return [prompt]


def live_view(lm, live):
    """An ``on_step`` callback drawing the canvas: masks dim, this step's commits bold green."""
    from rich.text import Text

    def render(state) -> Text:
        text = Text()
        for row in range(state.tokens.shape[0]):
            for pos, tok in enumerate(state.tokens[row].tolist()):
                if tok == lm.special.mask_id:
                    text.append("░", style="dim")
                else:
                    piece = lm.tokenizer.decode([tok], skip_special_tokens=False)
                    text.append(piece, style="bold green" if bool(state.committed[row, pos]) else "")
            text.append(f"\n[block {state.block} step {state.step} nfe {int(state.nfe[row])}]\n", style="cyan")
        return text

    def on_step(state) -> None:
        live.update(render(state), refresh=True)

    return on_step


@click.command()
@click.argument("prompt", required=False)
@click.option("--prompts-file", type=str, default=None, help="A batch: one prompt per line, or JSONL with a 'prompt' key.")
@model_options
@decoding_options
@click.option("--visualize", "show_live", is_flag=True, help="Show the canvas being denoised live (needs a terminal).")
@click.option("--json", "as_json", is_flag=True, help="Make the last stdout line one JSON object.")
def generate(prompt, prompts_file, model, dtype, device, sampler, chat, show_live, as_json, **opts):
    """Generate text for PROMPT with a diffusion LM."""
    prompts = read_prompts(prompt, prompts_file)
    kwargs = generation_kwargs(opts)
    if show_live and not sys.stderr.isatty():
        raise ConfigError("--visualize needs a terminal; drop it when output is piped")
    lm = dllm.load(model, dtype=dtype, device=device)
    start = time.perf_counter()
    if show_live:
        from rich.console import Console
        from rich.live import Live

        with Live(console=Console(stderr=True), auto_refresh=False) as live:
            results = lm.generate(prompts, sampler, chat=chat, on_step=live_view(lm, live), **kwargs)
    else:
        results = lm.generate(prompts, sampler, chat=chat, **kwargs)
    wall = time.perf_counter() - start
    report(lm, model, sampler, results, wall, as_json)


def report(lm, model: str, sampler: str, results, wall: float, as_json: bool) -> None:
    generated = sum(r.generated_tokens for r in results)
    nfe = sum(r.nfe for r in results)
    summary = {
        "text": results[0].text if len(results) == 1 else [r.text for r in results],
        "nfe": results[0].nfe if len(results) == 1 else [r.nfe for r in results],
        "tokens_per_forward": round(generated / nfe, 4) if nfe else 0.0,
        "generated_tokens": generated,
        "tokens_per_s": round(generated / wall, 2) if wall > 0 else 0.0,
        "wall_s": round(wall, 4),
        "model": model,
        "sampler": sampler,
        "env": environment(lm.device, lm.dtype, len(results)),
    }
    for i, r in enumerate(results):
        if len(results) > 1:
            click.echo(f"--- [{i + 1}]")
        click.echo(r.text)
    click.echo(
        f"[{sampler}] NFE {nfe} | {summary['tokens_per_forward']:.2f} tokens/forward | "
        f"{generated} tokens in {wall:.2f}s = {summary['tokens_per_s']:.1f} tokens/s",
        err=True,
    )
    if as_json:
        click.echo(json.dumps(summary))

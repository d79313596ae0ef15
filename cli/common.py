"""Options and helpers shared by the ``dllm`` commands."""

from __future__ import annotations

import functools
import json

import click

from dllm.errors import ConfigError

DEFAULT_MODEL = "tiny-llada"


def parse_sampler_args(pairs: tuple[str, ...], flag: str = "--sampler-arg") -> dict:
    """``k=v`` pairs; values are parsed as JSON when they can be (numbers, true/false, null)."""
    params = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"{flag} {pair!r} is not key=value; write e.g. {flag} name=0.5")
        try:
            params[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            params[key.strip()] = value
    return params


def model_options(f):
    """--model/--dtype/--device."""
    f = click.option("--device", default="auto", show_default=True, help="auto, cpu or cuda[:N].")(f)
    f = click.option("--dtype", default="auto", show_default=True,
                     type=click.Choice(["auto", "float32", "bfloat16", "float16"]),
                     help="Weights dtype; auto follows the checkpoint.")(f)
    return click.option("-m", "--model", default=DEFAULT_MODEL, show_default=True,
                        help="Checkpoint directory, bundled model name, or Hugging Face hub id.")(f)


def decoding_options(f):
    """The generation knobs, named as peers name them."""
    options = [
        click.option("--sampler", default="low_confidence", show_default=True, help="Sampler name (see `dllm samplers`)."),
        click.option("-n", "--max-new-tokens", "--gen-length", "max_new_tokens", type=click.IntRange(min=1), default=128,
                     show_default=True, help="Tokens to generate (the canvas)."),
        click.option("--block-length", "--block-size", "block_length", type=click.IntRange(min=1), default=None,
                     help="Semi-autoregressive block length; default: the sampler's (32 for LLaDA samplers, "
                          "the whole generation for Dream's)."),
        click.option("--steps", "--diffusion-steps", "steps", type=click.IntRange(min=1), default=None,
                     help="TOTAL denoising steps over all blocks; default: max-new-tokens (one token per step)."),
        click.option("-t", "--temperature", "--temp", "temperature", type=float, default=0.0, show_default=True),
        click.option("--top-p", type=float, default=None),
        click.option("--top-k", type=click.IntRange(min=1), default=None),
        click.option("-s", "--seed", type=int, default=0, show_default=True),
        click.option("--chat/--no-chat", default=None, help="Apply the chat template (default: when the tokenizer has one)."),
        click.option("--early-stop/--no-early-stop", default=True, show_default=True,
                     help="End a row after a finished block that holds EOS."),
        click.option("--sampler-arg", "sampler_args", multiple=True, metavar="KEY=VALUE",
                     help="A sampler parameter, repeatable (e.g. --sampler-arg cfg_scale=0.5)."),
        click.option("--cache", default="none", show_default=True, type=click.Choice(["none", "prefix", "dual", "sparse"]),
                     help="Block-wise approximate KV cache (Fast-dLLM prefix/dual, Sparse-dLLM)."),
        click.option("--cache-arg", "cache_args", multiple=True, metavar="KEY=VALUE",
                     help="A cache option, repeatable (refresh_interval=N; keep_ratio=R, kernel_size=K for sparse)."),
    ]
    return functools.reduce(lambda acc, opt: opt(acc), reversed(options), f)


def generation_kwargs(opts: dict) -> dict:
    kwargs = {k: opts[k] for k in ("max_new_tokens", "block_length", "steps", "temperature", "top_p", "top_k", "seed")}
    kwargs["early_stop"] = opts["early_stop"]
    kwargs["cache"] = opts["cache"]
    kwargs["cache_args"] = parse_sampler_args(opts["cache_args"], flag="--cache-arg") or None
    kwargs.update(parse_sampler_args(opts["sampler_args"]))
    return kwargs

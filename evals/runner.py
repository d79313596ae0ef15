"""Run a model over synthetic tasks and score it: what `dllm eval synthetic` does.

Each task decodes its own canvas (`Task.generation_length`: 64 for short answers, 256 for
the long lists) unless a length is given. Metrics, all from the same run: per-task
accuracy (mean score x 100), NFE per sample, tokens per forward (generated tokens up to
the first stop token / NFE) and generated tokens per second of decoding wall time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from dllm.api import DiffusionLM, resolve_options
from dllm.env import environment
from dllm.errors import ConfigError
from dllm.evals.synthetic import Task


@dataclass(slots=True)
class EvalSettings:
    """What to decode with; `tokens_per_step` sets steps = generation length / k per task."""

    sampler: str = "low_confidence"
    options: dict | None = None  # GenerationConfig fields and sampler parameters
    gen_length: int | None = None
    tokens_per_step: int | None = None
    limit: int = 100
    batch_size: int = 16
    chat: bool | None = None


def task_options(task: Task, settings: EvalSettings) -> dict:
    options = dict(settings.options or {})
    length = settings.gen_length or task.generation_length
    options["max_new_tokens"] = length
    if settings.tokens_per_step:
        if "steps" in options and options["steps"] is not None:
            raise ConfigError("give --steps or --tokens-per-step, not both")
        if length % settings.tokens_per_step:
            raise ConfigError(f"--tokens-per-step {settings.tokens_per_step} does not divide {task.name}'s "
                              f"generation length {length}; pick a divisor")
        options["steps"] = length // settings.tokens_per_step
    return options


def check_settings(tasks: list[Task], settings: EvalSettings) -> None:
    """Refuse bad options for any task before a model is loaded."""
    for task in tasks:
        resolve_options(settings.sampler, task_options(task, settings))


def evaluate_task(lm: DiffusionLM, task: Task, settings: EvalSettings,
                  advance: Callable[[int], None] | None = None) -> tuple[dict, list[dict]]:
    """Decode `settings.limit` test instances of `task` in batches; (summary, per-sample rows)."""
    config, sampler = resolve_options(settings.sampler, task_options(task, settings))
    instances = task.generate(settings.limit, "test")
    ids = [lm.encode(inst.prompt, settings.chat) for inst in instances]
    # Batches of similar prompt length waste less compute on left padding.
    order = sorted(range(len(instances)), key=lambda i: len(ids[i]))
    samples: list[dict | None] = [None] * len(instances)
    wall, kv_peak = 0.0, 0
    for start in range(0, len(order), settings.batch_size):
        chunk = order[start:start + settings.batch_size]
        began = time.perf_counter()
        results = lm.generate_ids([ids[i] for i in chunk], config, sampler)
        wall += time.perf_counter() - began
        kv_peak = max(kv_peak, results[0].kv_cache_peak_bytes)
        for i, res in zip(chunk, results):
            inst = instances[i]
            samples[i] = {
                "task": task.name, "index": i, "prompt": inst.prompt, "answer": inst.answer,
                "output": res.text, "score": task.score(inst, res.text), "nfe": res.nfe, "full_nfe": res.full_nfe,
                "generated_tokens": res.generated_tokens, "finish_reason": res.finish_reason,
            }
        if advance:
            advance(len(chunk))
    generated = sum(s["generated_tokens"] for s in samples)
    nfe = sum(s["nfe"] for s in samples)
    summary = {
        "accuracy": 100.0 * sum(s["score"] for s in samples) / len(samples),
        "n": len(samples),
        "nfe_per_sample": nfe / len(samples),
        "full_nfe_per_sample": sum(s["full_nfe"] for s in samples) / len(samples),
        "tokens_per_forward": generated / nfe if nfe else 0.0,
        "tokens_per_s": generated / wall if wall else 0.0,
        "generated_tokens": generated,
        "wall_s": wall,
        "kv_cache_peak_mb": kv_peak / 2**20,  # per batch of batch_size rows
        "cache": config.cache,
        "max_new_tokens": config.max_new_tokens,
        "block_length": config.block_length,
        "steps": config.steps,
    }
    return summary, samples


def evaluate(lm: DiffusionLM, tasks: list[Task], settings: EvalSettings,
             advance: Callable[[int], None] | None = None) -> tuple[dict, list[dict]]:
    """All tasks; returns the results dict (per task and mean) and every sample."""
    per_task, samples = {}, []
    for task in tasks:
        per_task[task.name], rows = evaluate_task(lm, task, settings, advance)
        samples.extend(rows)
    generated = sum(t["generated_tokens"] for t in per_task.values())
    nfe = sum(t["nfe_per_sample"] * t["n"] for t in per_task.values())
    wall = sum(t["wall_s"] for t in per_task.values())
    _, sampler = resolve_options(settings.sampler, task_options(tasks[0], settings))
    results = {
        "model": lm.name,
        "sampler": sampler.name,
        "sampler_params": {f.name: getattr(sampler, f.name) for f in sampler.parameters()},
        "options": settings.options or {},
        "tokens_per_step": settings.tokens_per_step,
        "limit": settings.limit,
        "mean_accuracy": sum(t["accuracy"] for t in per_task.values()) / len(per_task),
        "nfe_per_sample": nfe / len(samples),
        "full_nfe_per_sample": sum(t["full_nfe_per_sample"] * t["n"] for t in per_task.values()) / len(samples),
        "tokens_per_forward": generated / nfe if nfe else 0.0,
        "tokens_per_s": generated / wall if wall else 0.0,
        "tasks": per_task,
        "env": environment(lm.device, lm.dtype, settings.batch_size),
    }
    return results, samples

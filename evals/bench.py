"""A fixed decoding workload, timed after warm-up: what ``dllm bench`` runs.

Tokens/s counts generated tokens up to each row's first stop token (never prompt or
EOS padding); NFE and tokens per forward are reported beside it, all from one run.
"""

from __future__ import annotations

import resource
import statistics
import time

import torch

from dllm.api import DiffusionLM
from dllm.config import GenerationConfig
from dllm.env import environment
from dllm.samplers import Sampler

WORKLOAD = [
    "Write a short story about a robot learning to paint.",
    "Explain why the sky is blue in two sentences.",
    "List five fruits and their colours.",
    "What is 17 times 23? Show your steps.",
    "Translate 'good morning, friends' into French.",
    "Give three tips for writing clean Python code.",
    "Describe a sunrise over the sea.",
    "Summarise the rules of chess in one paragraph.",
]


def peak_memory_mb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # process peak RSS (KiB on Linux)


def run_bench(lm: DiffusionLM, sampler: Sampler, config: GenerationConfig, batch_size: int, repeats: int,
              warmup: int, chat: bool | None = None, prompts: list[str] | None = None) -> dict:
    """Time ``repeats`` decodes of one batch after ``warmup`` untimed ones; returns the results dict."""
    prompts = prompts or WORKLOAD
    batch = [prompts[i % len(prompts)] for i in range(batch_size)]
    ids = [lm.encode(p, chat) for p in batch]
    for _ in range(warmup):
        lm.generate_ids(ids, config, sampler)
    if lm.device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(lm.device)
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        results = lm.generate_ids(ids, config, sampler)
        wall = time.perf_counter() - start
        generated = sum(r.generated_tokens for r in results)
        nfe = sum(r.nfe for r in results)
        runs.append({"wall_s": wall, "generated_tokens": generated, "nfe_total": nfe,
                     "steps_max": max(r.steps for r in results),
                     "kv_cache_peak_bytes": max(r.kv_cache_peak_bytes for r in results)})
    walls = [r["wall_s"] for r in runs]
    generated = sum(r["generated_tokens"] for r in runs)
    nfe = sum(r["nfe_total"] for r in runs)
    return {
        "model": lm.name,
        "sampler": sampler.name,
        "sampler_params": {f.name: getattr(sampler, f.name) for f in sampler.parameters()},
        "cache": config.cache,
        "max_new_tokens": config.max_new_tokens,
        "block_length": config.block_length,
        "steps": config.steps,
        "temperature": config.temperature,
        "batch_size": batch_size,
        "prompt_tokens": [len(p) for p in ids],
        "repeats": repeats,
        "warmup": warmup,
        "tokens_per_s": generated / sum(walls),
        "generated_tokens_per_run": generated / repeats,
        "nfe_per_row": nfe / (repeats * batch_size),
        "tokens_per_forward": generated / nfe if nfe else 0.0,
        "latency_s_mean": statistics.fmean(walls),
        "latency_s_min": min(walls),
        "latency_ms_per_step": 1000 * sum(walls) / sum(r["steps_max"] for r in runs),
        "peak_memory_mb": peak_memory_mb(lm.device),
        "peak_memory_kind": "cuda max allocated" if lm.device.type == "cuda" else "process peak RSS",
        "kv_cache_peak_mb": max(r["kv_cache_peak_bytes"] for r in runs) / 2**20,
        "runs": runs,
        "env": environment(lm.device, lm.dtype, batch_size),
    }

"""Held-out decoding accuracy while training: the number that matters, not the loss.

A few train-split instances per short task that the training stream never sees (the
instances just past `--n-per-task`) are decoded greedily with the real engine, so the
loss curve in `training.json` comes with per-task accuracy at the same steps.
"""

from __future__ import annotations

import json
import time
from contextlib import nullcontext
from pathlib import Path

import torch

from dllm.api import DiffusionLM, resolve_options
from dllm.evals.synthetic import Instance, get_tasks
from dllm.models.tokens import resolve_special_tokens


class Probe:
    """Decodes `n` held-out instances of each short task with `low_confidence`, committing
    `tokens_per_step` tokens per step (the training budget cannot afford k = 1 often)."""

    def __init__(self, tokenizer, config: dict, task_names: list[str], n: int, offset: int,
                 tokens_per_step: int = 2, dtype: torch.dtype | None = torch.bfloat16) -> None:
        self.tokenizer, self.config, self.dtype = tokenizer, config, dtype
        self.tokens_per_step = tokens_per_step
        self.tasks = [t for t in get_tasks(task_names) if t.generation_length <= 64]
        self.instances: dict[str, list[Instance]] = {
            t.name: t.generate(offset + n, "train")[offset:] for t in self.tasks
        }
        self.history: list[dict] = []  # {"step", "accuracy"} per probe
        self.seconds = 0.0  # time spent probing, which is not training time

    def record(self, model: torch.nn.Module, step: int, tasks: tuple[str, ...] | list[str] | None = None) -> None:
        """Probe `tasks` (default: all) at `step` (once), keep the result and its cost, print it."""
        if self.history and self.history[-1]["step"] == step:
            return
        began = time.perf_counter()
        accuracy = self(model, tasks)
        self.seconds += time.perf_counter() - began
        self.history.append({"step": step, "accuracy": accuracy})
        print(f"probe step {step}: {json.dumps(accuracy)}", flush=True)

    def __call__(self, model: torch.nn.Module, tasks: tuple[str, ...] | list[str] | None = None) -> dict[str, float]:
        special = resolve_special_tokens(Path("/nonexistent"), self.config, self.tokenizer)
        lm = DiffusionLM(model, self.tokenizer, special, name="training", path=Path("."))
        accuracy = {}
        was_training = model.training
        model.eval()
        autocast = torch.autocast("cpu", dtype=self.dtype) if self.dtype else nullcontext()
        try:
            with torch.no_grad(), autocast:
                for task in self.tasks:
                    if tasks is not None and task.name not in tasks:
                        continue
                    gen = task.generation_length
                    config, sampler = resolve_options("low_confidence", {
                        "max_new_tokens": gen, "block_length": gen, "steps": gen // self.tokens_per_step})
                    insts = self.instances[task.name]
                    ids = [lm.encode(i.prompt, chat=True) for i in insts]
                    results = lm.generate_ids(ids, config, sampler)
                    accuracy[task.name] = round(100.0 * sum(task.score(i, r.text) for i, r in zip(insts, results)) / len(insts), 1)
        finally:
            model.train(was_training)
        if accuracy:
            accuracy["mean"] = round(sum(accuracy.values()) / len(accuracy), 1)
        return accuracy

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

from dllm.api import DiffusionLM, prompt_ids, resolve_options
from dllm.evals.synthetic import Instance, get_tasks
from dllm.models.tokens import resolve_special_tokens


class Probe:
    """Decodes `n` held-out instances of each short task (a quarter as many of the long
    ones, which cost ~4x per instance) with `low_confidence`, committing
    `tokens_per_step` tokens per step (the training budget cannot afford k = 1 often); after a
    causal phase, greedy left-to-right decoding under a causal mask (`causal`) instead.

    `block_length` None decodes in the sampler's default semi-AR blocks (32), as `dllm eval
    synthetic` and the README's bars do. Until 2026-11-24 the probe decoded the whole canvas
    as one block, which flattered the long lists: a Dream probed at 3 of 4 on each scored
    0 / 3% in blocks of 32 (`EXPERIMENTS.md`)."""

    def __init__(self, tokenizer, config: dict, task_names: list[str], n: int, offset: int,
                 tokens_per_step: int = 2, dtype: torch.dtype | None = torch.bfloat16,
                 block_length: int | None = None) -> None:
        self.tokenizer, self.dtype, self.block_length = tokenizer, dtype, block_length
        self.special = resolve_special_tokens(Path("/nonexistent"), config, tokenizer)
        self.tokens_per_step = tokens_per_step
        self.tasks = get_tasks(task_names)
        self.instances: dict[str, list[Instance]] = {}
        for t in self.tasks:
            count = n if t.generation_length <= 64 else max(2, n // 4)
            self.instances[t.name] = t.generate(offset + count, "train")[offset:]
        self.history: list[dict] = []  # {"step", "accuracy"} per probe
        self.seconds = 0.0  # time spent probing, which is not training time

    def record(self, model: torch.nn.Module, step: int, tasks: tuple[str, ...] | list[str] | None = None,
               causal: bool = False, slots: bool = False) -> None:
        """Probe `tasks` (default: all) at `step` (once), keep the result and its cost, print it.
        `causal`: decode left to right under a causal mask (what a causal phase trains); with
        `slots`, each token read at a mask slot in its own position (a masked_causal phase)."""
        if self.history and self.history[-1]["step"] == step:
            return
        began = time.perf_counter()
        accuracy = self.causal(model, tasks, slots) if causal else self(model, tasks)
        self.seconds += time.perf_counter() - began
        decode = ("masked_causal" if slots else "causal") if causal else "diffusion"
        self.history.append({"step": step, "accuracy": accuracy, "decode": decode})
        print(f"probe step {step} ({decode}): {json.dumps(accuracy)}", flush=True)

    def __call__(self, model: torch.nn.Module, tasks: tuple[str, ...] | list[str] | None = None) -> dict[str, float]:
        """Diffusion decoding with the real engine."""
        lm = DiffusionLM(model, self.tokenizer, self.special, name="training", path=Path("."))

        def decode(task, insts: list[Instance]) -> list[str]:
            gen = task.generation_length
            config, sampler = resolve_options("low_confidence", {
                "max_new_tokens": gen, "block_length": self.block_length, "steps": gen // self.tokens_per_step})
            return [r.text for r in lm.generate_ids([lm.encode(i.prompt, chat=True) for i in insts], config, sampler)]

        return self._accuracy(model, tasks, decode)

    def causal(self, model: torch.nn.Module, tasks: tuple[str, ...] | list[str] | None = None,
               slots: bool = False) -> dict[str, float]:
        """Greedy next-token decoding under a causal mask (the logits at i score token i + 1
        for both families, as in a causal phase; with `slots`, a mask slot at i + 1 scores it,
        as in a masked_causal phase) up to the first stop token."""
        from dllm.evals.tiny.slots import next_at_slot
        from dllm.evals.tiny.train import causal_mask

        stop = set(self.special.stop_ids)

        def next_token(x: torch.Tensor) -> int:
            return int(model(x, attention_mask=causal_mask(torch.ones_like(x, dtype=torch.bool)))[0, -1].argmax())

        def decode_one(prompt: str, limit: int) -> str:
            ids, out = prompt_ids(self.tokenizer, prompt, chat=True), []
            for _ in range(limit):
                token = next_at_slot(model, ids + out, self.tokenizer.mask_token_id) if slots \
                    else next_token(torch.tensor([ids + out]))
                if token in stop:
                    break
                out.append(token)
            return self.tokenizer.decode(out, skip_special_tokens=True)

        return self._accuracy(model, tasks, lambda task, insts: [decode_one(i.prompt, task.generation_length) for i in insts])

    def _accuracy(self, model: torch.nn.Module, tasks, decode) -> dict[str, float]:
        accuracy = {}
        was_training = model.training
        model.eval()
        autocast = torch.autocast("cpu", dtype=self.dtype) if self.dtype else nullcontext()
        try:
            with torch.no_grad(), autocast:
                for task in self.tasks:
                    if tasks is not None and task.name not in tasks:
                        continue
                    insts = self.instances[task.name]
                    outputs = decode(task, insts)
                    accuracy[task.name] = round(100.0 * sum(task.score(i, o) for i, o in zip(insts, outputs)) / len(insts), 1)
        finally:
            model.train(was_training)
        if accuracy:
            accuracy["mean"] = round(sum(accuracy.values()) / len(accuracy), 1)
        return accuracy

"""Decode order of name pairs: which half of a "First Last" pair a model commits first, and
whether the pair it writes is one of the prompt's.

A diagnostic for the list ops' failure mode (`EXPERIMENTS.md`): decoded greedily by confidence
(`low_confidence`, k tokens per step, the evaluation's blocks), the tiny models lay the
skeleton, then commit some last names before their first names; a pair is then intact only
if the model can find a first name from its last name (the backward lookup, `binding.py`).
For every adjacent first-name, last-name token pair in an output, the step each token was
committed at is compared; a pair is *intact* when the prompt holds the same pair.

    python -m dllm.evals.tiny.order --models tiny-llada tiny-dream --tasks sort,shuffle

The last output line is JSON: per model and task, pairs seen, the share decoded last name
first and the intact share of each order.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import torch

from dllm.env import environment
from dllm.evals.synthetic import get_tasks
from dllm.evals.tiny.binding import diagnostic_parser, name_pairs
from dllm.evals.tiny.recall import name_token_ids


@dataclass(slots=True)
class PairOrder:
    last_first: bool  # the last name was committed at an earlier step than its first name
    intact: bool  # the prompt holds this (first, last) pair


def prompt_pairs(prompt: list[int], first: set[int], last: set[int]) -> set[tuple[int, int]]:
    """Adjacent (first-name, last-name) token pairs of a prompt."""
    return {(prompt[j], prompt[k]) for j, k in name_pairs(prompt, first, last)}


def pair_orders(output: list[int], commit_step: list[int], prompt: list[int],
                first: set[int], last: set[int]) -> list[PairOrder]:
    """Every adjacent first-name, last-name pair of `output`, with `commit_step[i]` the step
    output token i was committed at. Ties (both halves in one step, k > 1) count first name first."""
    known = prompt_pairs(prompt, first, last)
    return [PairOrder(commit_step[k] < commit_step[j], (output[j], output[k]) in known)
            for j, k in name_pairs(output, first, last)]


def commit_steps(history: list[torch.Tensor], row: int, length: int) -> list[int]:
    """The first step at which each of a row's first `length` canvas positions was committed."""
    stacked = torch.stack([h[row, :length] for h in history])  # [steps, length]
    return stacked.float().argmax(0).tolist()  # the first True per column (every position ends committed)


def order_summary(orders: list[PairOrder]) -> dict[str, float]:
    def intact(group: list[PairOrder]) -> float | None:
        return round(100.0 * sum(o.intact for o in group) / len(group), 1) if group else None

    backward = [o for o in orders if o.last_first]
    forward = [o for o in orders if not o.last_first]
    return {"pairs": len(orders), "last_first_share": round(100.0 * len(backward) / max(1, len(orders)), 1),
            "intact_first_first": intact(forward), "intact_last_first": intact(backward)}


def decode_orders(lm, task_names: list[str], limit: int = 64, tokens_per_step: int = 1,
                  batch_size: int = 16) -> dict[str, dict[str, float]]:
    """Per task, `order_summary` over `limit` test instances decoded greedily."""
    first, last = (set(ids) for ids in name_token_ids(lm.tokenizer))
    out = {}
    for task in get_tasks(task_names):
        gen = task.generation_length
        instances = task.generate(limit, "test")
        orders: list[PairOrder] = []
        for start in range(0, len(instances), batch_size):
            chunk = instances[start:start + batch_size]
            history: list[torch.Tensor] = []
            results = lm.generate([i.prompt for i in chunk], "low_confidence", max_new_tokens=gen,
                                  steps=gen // tokens_per_step, on_step=lambda s: history.append(s.committed.clone()))
            for row, (inst, result) in enumerate(zip(chunk, results)):
                output = list(result.token_ids)
                orders += pair_orders(output, commit_steps(history, row, len(output)), lm.encode(inst.prompt),
                                      first, last)
        out[task.name] = order_summary(orders)
    return out


def main(argv: list[str] | None = None) -> None:
    import dllm

    p = diagnostic_parser(__doc__.split("\n")[0])
    p.add_argument("--tokens-per-step", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=16)
    args = p.parse_args(argv)
    for flag in ("limit", "tokens_per_step", "batch_size"):
        if getattr(args, flag) < 1:
            p.error(f"--{flag.replace('_', '-')} {getattr(args, flag)}: need a positive count (e.g. 1)")
    results, env = {}, None
    for name in args.models:
        lm = dllm.load(name, dtype="float32", device="cpu")
        env = environment(lm.device, lm.dtype, args.batch_size)
        results[name] = decode_orders(lm, args.tasks.split(","), args.limit, args.tokens_per_step, args.batch_size)
        for task, s in results[name].items():
            print(f"{name} {task}: {s['pairs']} pairs, {s['last_first_share']}% last name first; intact "
                  f"{s['intact_first_first']}% first-first, {s['intact_last_first']}% last-first")
    print(json.dumps({"decode_order": results, "limit": args.limit, "tokens_per_step": args.tokens_per_step,
                      "sampler": "low_confidence", "env": env}))


if __name__ == "__main__":
    main()

"""Pair binding: does a model use a name's partner to predict it?

A diagnostic for the list ops' failure mode (right first names, wrong last names). Each
test instance's reference answer is fed with every name token masked; then one name is
scored with its partner (the other half of the same "First Last") revealed and with it
masked. A model that binds pairs through the prompt (an induction step: find the revealed
half in the prompt, copy its neighbour) predicts far better with the partner; one that
predicts each name from its position and the prompt alone scores the same both ways.

    python -m dllm.evals.tiny.binding --models tiny-llada tiny-dream --tasks sort,shuffle

"last|first" is a last name scored from its revealed first name (forward, the direction
a causal model's induction runs); "first|last" the reverse. The last output line is JSON.
"""

from __future__ import annotations

import argparse
import json

import torch

from dllm.evals.synthetic import get_tasks
from dllm.evals.tiny.recall import name_token_ids

CONDITIONS = ("last|first", "last|none", "first|last", "first|none")


def name_pairs(answer: list[int], first: set[int], last: set[int]) -> list[tuple[int, int]]:
    """(first, last) positions of every adjacent first-name, last-name token pair."""
    return [(j, j + 1) for j in range(len(answer) - 1) if answer[j] in first and answer[j + 1] in last]


def probe_rows(answer: list[int], pairs: list[tuple[int, int]], mask_id: int) -> list[tuple[str, int, list[int]]]:
    """(condition, scored position, answer with every name masked but the revealed partner)."""
    hidden = list(answer)
    for j, k in pairs:
        hidden[j] = hidden[k] = mask_id
    rows = []
    for j, k in pairs:
        for scored, partner, name in ((k, j, "last"), (j, k, "first")):
            revealed = list(hidden)
            revealed[partner] = answer[partner]
            rows.append((f"{name}|{'first' if name == 'last' else 'last'}", scored, revealed))
            rows.append((f"{name}|none", scored, hidden))
    return rows


def binding_scores(lm, task_names: list[str], limit: int = 64) -> dict[str, dict[str, float]]:
    """Per task, the share of names predicted right (greedy) under each of `CONDITIONS`."""
    from dllm.models import aligned_logits

    tok = lm.tokenizer
    first, last = (set(ids) for ids in name_token_ids(tok))
    eos = lm.special.eos_id
    end_of_turn = next((i for i in lm.special.stop_ids if i != eos), eos)  # what closes a training answer
    out = {}
    for task in get_tasks(task_names):
        hits = {c: [0, 0] for c in CONDITIONS}
        for inst in task.generate(limit, "test"):
            prompt = lm.encode(inst.prompt)
            answer = tok(inst.answer, add_special_tokens=False)["input_ids"] + [end_of_turn]
            answer += [eos] * max(0, task.generation_length - len(answer))
            rows = probe_rows(answer, name_pairs(answer, first, last), lm.special.mask_id)
            if not rows:
                continue
            ids = torch.tensor([prompt + r for _, _, r in rows], device=lm.device)
            with torch.no_grad():
                logits = aligned_logits(lm.model, lm.model(ids))
            for i, (condition, scored, _) in enumerate(rows):
                hits[condition][0] += int(logits[i, len(prompt) + scored].argmax()) == answer[scored]
                hits[condition][1] += 1
        out[task.name] = {c: round(100.0 * h / max(1, n), 1) for c, (h, n) in hits.items()}
    return out


def main(argv: list[str] | None = None) -> None:
    import dllm

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--models", nargs="+", default=["tiny-llada", "tiny-dream"])
    p.add_argument("--tasks", default="sort,shuffle,insert_random,replace_random,copy")
    p.add_argument("--limit", type=int, default=64, help="test instances per task")
    args = p.parse_args(argv)
    results = {}
    for name in args.models:
        lm = dllm.load(name, dtype="float32", device="cpu")
        results[name] = binding_scores(lm, args.tasks.split(","), args.limit)
        for task, scores in results[name].items():
            print(f"{name} {task}: " + "  ".join(f"{c} {v:.1f}" for c, v in scores.items()))
    print(json.dumps({"binding": results, "limit": args.limit}))


if __name__ == "__main__":
    main()

"""Pair binding: does a model use a name's partner to predict it?

A diagnostic for the list ops' failure mode (right first names, wrong last names). Each
test instance's reference answer is fed with every name token masked; then one name is
scored with its partner (the other half of the same "First Last") revealed and with it
masked. A model that binds pairs through the prompt (an induction step: find the revealed
half in the prompt, copy its neighbour) predicts far better with the partner; one that
predicts each name from its position and the prompt alone scores the same both ways.

    python -m dllm.evals.tiny.binding --models tiny-llada tiny-dream --tasks sort,shuffle

"last|first" is a last name scored from its revealed first name (forward, the direction
a causal model's induction runs); "first|last" the reverse. "first|all last" scores every
first name with every other answer token shown (the state a confidence-ordered decode
reaches after committing the last names first, `order.py`); "last|all first" the reverse.
The last output line is JSON.
"""

from __future__ import annotations

import argparse
import json

import torch

from dllm.evals.synthetic import get_tasks
from dllm.evals.tiny.recall import name_token_ids

CONDITIONS = ("last|first", "last|none", "first|last", "first|none", "first|all last", "last|all first")


def end_of_turn_id(lm) -> int:
    """The token that closes a training answer (the family's end-of-turn; EOS if it has none)."""
    eos = lm.special.eos_id
    return next((i for i in lm.special.stop_ids if i != eos), eos)


def name_pairs(answer: list[int], first: set[int], last: set[int]) -> list[tuple[int, int]]:
    """(first, last) positions of every adjacent first-name, last-name token pair."""
    return [(j, j + 1) for j in range(len(answer) - 1) if answer[j] in first and answer[j + 1] in last]


def probe_rows(answer: list[int], pairs: list[tuple[int, int]], mask_id: int) -> list[tuple[list[int], list[tuple[str, int]]]]:
    """Canvases (the answer with every name masked, but at most one revealed partner), each
    with the (condition, position) it scores: one canvas with no name revealed scores every
    name; then one per name, with its partner revealed; then one with only the first names
    masked and one with only the last names masked, which score every masked name."""
    hidden = list(answer)
    for j, k in pairs:
        hidden[j] = hidden[k] = mask_id
    rows = [(hidden, [(cond, pos) for j, k in pairs for cond, pos in (("last|none", k), ("first|none", j))])]
    for j, k in pairs:
        for scored, partner, condition in ((k, j, "last|first"), (j, k, "first|last")):
            revealed = list(hidden)
            revealed[partner] = answer[partner]
            rows.append((revealed, [(condition, scored)]))
    for half, condition in ((0, "first|all last"), (1, "last|all first")):
        canvas = list(answer)
        for pair in pairs:
            canvas[pair[half]] = mask_id
        rows.append((canvas, [(condition, pair[half]) for pair in pairs]))
    return rows


def binding_scores(lm, task_names: list[str], limit: int = 64) -> dict[str, dict[str, float]]:
    """Per task, the share of names predicted right (greedy) under each of `CONDITIONS`."""
    from dllm.models import aligned_logits

    tok = lm.tokenizer
    first, last = (set(ids) for ids in name_token_ids(tok))
    eos = lm.special.eos_id
    end_of_turn = end_of_turn_id(lm)
    out = {}
    for task in get_tasks(task_names):
        hits = {c: [0, 0] for c in CONDITIONS}
        for inst in task.generate(limit, "test"):
            prompt = lm.encode(inst.prompt)
            answer = tok(inst.answer, add_special_tokens=False)["input_ids"] + [end_of_turn]
            answer += [eos] * max(0, task.generation_length - len(answer))
            pairs = name_pairs(answer, first, last)
            if not pairs:
                continue
            rows = probe_rows(answer, pairs, lm.special.mask_id)
            ids = torch.tensor([prompt + canvas for canvas, _ in rows], device=lm.device)
            with torch.no_grad():
                logits = aligned_logits(lm.model, lm.model(ids))
            for i, (_, scored) in enumerate(rows):
                for condition, pos in scored:
                    hits[condition][0] += int(logits[i, len(prompt) + pos].argmax()) == answer[pos]
                    hits[condition][1] += 1
        out[task.name] = {c: round(100.0 * h / max(1, n), 1) for c, (h, n) in hits.items()}
    return out


def diagnostic_parser(description: str) -> argparse.ArgumentParser:
    """The options the tiny-model diagnostics share (this one and `order.py`)."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--models", nargs="+", default=["tiny-llada", "tiny-dream"])
    p.add_argument("--tasks", default="sort,shuffle,insert_random,replace_random,copy")
    p.add_argument("--limit", type=int, default=64, help="test instances per task")
    return p


def main(argv: list[str] | None = None) -> None:
    import dllm

    args = diagnostic_parser(__doc__.split("\n")[0]).parse_args(argv)
    results = {}
    for name in args.models:
        lm = dllm.load(name, dtype="float32", device="cpu")
        results[name] = binding_scores(lm, args.tasks.split(","), args.limit)
        for task, scores in results[name].items():
            print(f"{name} {task}: " + "  ".join(f"{c} {v:.1f}" for c, v in scores.items()))
    print(json.dumps({"binding": results, "limit": args.limit}))


if __name__ == "__main__":
    main()

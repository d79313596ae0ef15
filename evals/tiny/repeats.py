"""Repeat suppression: does a model stop predicting a name once the answer already holds it?

A diagnostic for the random ops' failure mode (items written twice, `["Dee Pike", "Dee Pike",
...]`). In a shuffle, an insert or a replace every item appears once, so once some of the
reference answer's pairs are written, a still-masked slot can only hold one of the others.
Each test instance's reference answer is fed with every name masked but half of its pairs
(chosen at random, seeded), and at every still-masked first name the probability the model
gives the revealed pairs' first names is summed: the *repeat mass*, 0 for a model that does
the bookkeeping. The same sum over the same names with nothing revealed is the baseline: a
model that ignores the written items gives both the same mass.

    python -m dllm.evals.tiny.repeats --models tiny-llada tiny-dream --tasks shuffle

The last output line is JSON: per model and task, the mean repeat mass (%) with the pairs
revealed and with them masked, and the slots scored.
"""

from __future__ import annotations

import json
import random

import torch

from dllm.env import environment
from dllm.evals.synthetic import get_tasks
from dllm.evals.tiny.binding import diagnostic_parser, end_of_turn_id, name_pairs
from dllm.evals.tiny.recall import name_token_ids


def repeat_canvases(answer: list[int], pairs: list[tuple[int, int]], revealed: set[int],
                    mask_id: int) -> tuple[list[int], list[int]]:
    """The answer with every name masked, then the same with the pairs numbered in `revealed` shown."""
    hidden = list(answer)
    for j, k in pairs:
        hidden[j] = hidden[k] = mask_id
    shown = list(hidden)
    for index in revealed:
        j, k = pairs[index]
        shown[j], shown[k] = answer[j], answer[k]
    return hidden, shown


def instance_repeat_mass(lm, prompt: list[int], answer: list[int], pairs: list[tuple[int, int]],
                         revealed: set[int]) -> tuple[float, float, int]:
    """(mass with every pair masked, mass with the `revealed` pairs shown, slots scored): the
    probability the still-masked pairs' first names put on the revealed pairs' first names,
    summed. A pair (j, j) is a lone first name."""
    from dllm.models import aligned_logits

    used = torch.tensor([answer[pairs[i][0]] for i in revealed], device=lm.device)
    canvases = repeat_canvases(answer, pairs, revealed, lm.special.mask_id)
    ids = torch.tensor([prompt + canvas for canvas in canvases], device=lm.device)
    with torch.no_grad():
        probs = aligned_logits(lm.model, lm.model(ids)).float().softmax(-1)
    masked = [len(prompt) + pairs[i][0] for i in range(len(pairs)) if i not in revealed]
    hidden, shown = (float(probs[row, masked][:, used].sum()) for row in range(2))
    return hidden, shown, len(masked)


def repeat_mass(lm, task_names: list[str], limit: int = 64, seed: int = 0) -> dict[str, dict[str, float]]:
    """Per task, the mean probability (%) a still-masked first name puts on the revealed first names."""
    tok = lm.tokenizer
    first, last = (set(ids) for ids in name_token_ids(tok))
    eos = lm.special.eos_id
    end_of_turn = end_of_turn_id(lm)
    rng = random.Random(seed)
    out = {}
    for task in get_tasks(task_names):
        sums, slots = [0.0, 0.0], 0
        for inst in task.generate(limit, "test"):
            prompt = lm.encode(inst.prompt)
            answer = tok(inst.answer, add_special_tokens=False)["input_ids"] + [end_of_turn]
            answer += [eos] * max(0, task.generation_length - len(answer))
            pairs = name_pairs(answer, first, last)
            if len(pairs) < 2:
                continue
            revealed = set(rng.sample(range(len(pairs)), len(pairs) // 2))
            hidden, shown, scored = instance_repeat_mass(lm, prompt, answer, pairs, revealed)
            sums[0] += hidden
            sums[1] += shown
            slots += scored
        out[task.name] = {"revealed": round(100.0 * sums[1] / max(1, slots), 1),
                          "hidden": round(100.0 * sums[0] / max(1, slots), 1), "slots": slots}
    return out


def main(argv: list[str] | None = None) -> None:
    import dllm

    p = diagnostic_parser(__doc__.split("\n")[0])
    p.set_defaults(tasks="shuffle,insert_random,replace_random")
    args = p.parse_args(argv)
    if args.limit < 1:
        p.error(f"--limit {args.limit}: need a positive count (e.g. 64)")
    results, env = {}, None
    for name in args.models:
        lm = dllm.load(name, dtype="float32", device="cpu")
        env = environment(lm.device, lm.dtype, 2)
        results[name] = repeat_mass(lm, args.tasks.split(","), args.limit)
        for task, s in results[name].items():
            print(f"{name} {task}: repeat mass {s['revealed']}% with half the pairs written, "
                  f"{s['hidden']}% with them masked ({s['slots']} slots)")
    print(json.dumps({"repeat_mass": results, "limit": args.limit, "env": env}))


if __name__ == "__main__":
    main()

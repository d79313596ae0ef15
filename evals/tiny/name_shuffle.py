"""Name shuffle: a dense used-item task that grows tiny-llada's repeat suppression.

tiny-llada puts as much probability on names an answer already holds as on the others
(`repeats.py`: 39% either way on shuffle), so its random ops write items twice. Fine-tuning
on the random ops themselves, with random, names-only or whole-item masks, left that
unchanged (`EXPERIMENTS.md`). This task is the same operation with the part that needs the bookkeeping
made dense: a shuffle of 6-10 *first names* in the list format (`shuffle: ["Ann", "Bob", ...]`
-> `["Bob", "Ann", ...]`), trained under the masked-diffusion objective. Every masked name can
only be one of the names not yet shown, and there is no last name to look it up from.

    python -m dllm.evals.tiny.name_shuffle --init-from dllm/assets/tiny-llada --out /tmp/ns \
        --steps 3000 --share 0.9

A `share` of the steps draw name-task batches, the rest the suite's short tasks (plus the
long lists with `--long`). `--replace-share` makes that share of the name examples a replace of
one first name (`name_replace`, replace_random's prompt on first names): the answer must hold
the new name exactly once, which tiny-llada does not track (`replace_completion`). Both tasks
are also schedule tasks of `train.py` (`--task-weight name_shuffle=8`). The last output line
is JSON: the suppression probe on the name shuffle (repeat mass, half the names shown,
against all of them masked) and the replace-completion probe before and after, steps and
minutes. Pilot of 2026-12-07 (`EXPERIMENTS.md`): 3,000 steps at share 0.9 took the shuffle repeat mass
from 39 to 4%; the shipped tiny-llada's fourth stage is this command with `--long`, after a
long-list stage and before one with `name_shuffle` rows (README, "Bundled tiny models").
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

import torch

from dllm.api import prompt_ids
from dllm.env import environment
from dllm.evals.synthetic.base import format_list, parse_list
from dllm.evals.synthetic.pools import FIRST_NAMES
from dllm.evals.tiny.binding import end_of_turn_id, name_pairs
from dllm.evals.tiny.data import (NAME_REPLACE_TASK, NAME_SHUFFLE_TASK, TRAINING_ONLY_TASKS, Example, batches,
                                  encode_examples)
from dllm.evals.tiny.optim import OPTIMIZERS, make_optimizer
from dllm.evals.tiny.recall import name_token_ids
from dllm.evals.tiny.repeats import instance_repeat_mass
from dllm.evals.tiny.schedule import lr_at

# The pilot's order: it seeds which task each drawn example comes from (`data.batches`).
SHORT_TASKS = ["copy", "reverse", "sort", "shuffle", "insert_index", "insert_random", "remove_index",
               "remove_random", "replace_index", "replace_random", "json_record", "latin_square", "add", "sub"]


NAME_LENGTHS = (6, 10)  # names per list: the pilot's; the suite's list ops hold 3-6


def name_shuffle_pair(rng: random.Random, lengths: tuple[int, int]) -> tuple[str, str]:
    """(prompt, answer): distinct first names and a permutation of them that differs from the input."""
    items = rng.sample(FIRST_NAMES, rng.randint(*lengths))
    perm = list(items)
    while perm == items:
        rng.shuffle(perm)
    return f"shuffle: {format_list(items)}", format_list(perm)


def name_replace_pair(rng: random.Random, lengths: tuple[int, int]) -> tuple[str, str]:
    """(prompt, answer): distinct first names, one of them replaced by a first name not among them,
    in replace_random's prompt format."""
    *items, new = rng.sample(FIRST_NAMES, rng.randint(*lengths) + 1)
    pos = rng.randrange(len(items))
    return f'replace any one with "{new}": {format_list(items)}', format_list(items[:pos] + [new] + items[pos + 1:])


PAIRS = {NAME_SHUFFLE_TASK: name_shuffle_pair, NAME_REPLACE_TASK: name_replace_pair}


def name_task_examples(tasks: list[str], tokenizer, eot_id: int, n: int, seed: int,
                       lengths: tuple[int, int] = NAME_LENGTHS) -> dict[str, list[Example]]:
    """Per training-only name task in `tasks`, `n` seeded examples; each task draws from its own
    seed (`seed` + 17 for the name shuffle, + 18 for the replace: the pilots'), whichever others
    are asked for, so the runs here and `train.py`'s see the same examples."""
    return {task: name_examples(task, tokenizer, eot_id, n, lengths, seed + 17 + TRAINING_ONLY_TASKS.index(task))
            for task in tasks}


def name_examples(task: str, tokenizer, eot_id: int, n: int, lengths: tuple[int, int], seed: int) -> list[Example]:
    """`n` seeded train examples of a training-only name task (`data.TRAINING_ONLY_TASKS`)."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        prompt, answer = PAIRS[task](rng, lengths)
        out.append(Example(prompt_ids(tokenizer, prompt, chat=True),
                           tokenizer(answer, add_special_tokens=False)["input_ids"] + [eot_id], task))
    return out


def suppression(lm, n_names: int = 8, limit: int = 64, seed: int = 12345) -> tuple[float, float]:
    """Repeat mass (%) on held-out name shuffles (`repeats.instance_repeat_mass`, each name a
    pair of its own): at each still-masked name, the probability given to the names shown,
    with half the answer's names shown and with every name masked."""
    first = set(name_token_ids(lm.tokenizer)[0])
    eot = end_of_turn_id(lm)
    rng = random.Random(seed)
    sums, slots = [0.0, 0.0], 0
    for _ in range(limit):
        prompt, answer = name_shuffle_pair(rng, (n_names, n_names))
        answer_ids = lm.tokenizer(answer, add_special_tokens=False)["input_ids"] + [eot]
        names = [(j, j) for j, t in enumerate(answer_ids) if t in first]
        shown = set(rng.sample(range(len(names)), len(names) // 2))
        hidden, written, scored = instance_repeat_mass(lm, prompt_ids(lm.tokenizer, prompt, chat=True), answer_ids,
                                                       names, shown)
        sums[0] += hidden
        sums[1] += written
        slots += scored
    return round(100 * sums[1] / slots, 1), round(100 * sums[0] / slots, 1)


def replace_completion(lm, limit: int = 32) -> tuple[float, float]:
    """(new, old) in %: on held-out replace_random instances with every item written but the
    replaced one (both its names masked), the mean probability its first name gets of being the
    new name and of being the old one. A model that knows the replacement is still to be made puts
    it on the new name; the tiny-llada shipped until the seventeenth session gave 22 / 74, as at
    any other slot, so greedy decoding copied the list unchanged (`EXPERIMENTS.md`, "The last hole")."""
    from dllm.evals.synthetic import get_tasks
    from dllm.models import aligned_logits

    tok, eot = lm.tokenizer, end_of_turn_id(lm)
    first, last = (set(ids) for ids in name_token_ids(tok))
    sums = [0.0, 0.0]
    instances = get_tasks(["replace_random"])[0].generate(limit, "test")
    for inst in instances:
        answer = tok(inst.answer, add_special_tokens=False)["input_ids"] + [eot]
        pairs = name_pairs(answer, first, last)
        items = inst.meta["input"]
        slot = next(i for i, item in enumerate(parse_list(inst.answer)) if item != items[i])
        new_id, old_id = (tok(name.split()[0], add_special_tokens=False)["input_ids"][0]
                          for name in (inst.meta["new"], items[slot]))
        canvas = list(answer)
        for position in pairs[slot]:
            canvas[position] = lm.special.mask_id
        prompt = lm.encode(inst.prompt)
        with torch.no_grad():
            probs = aligned_logits(lm.model, lm.model(torch.tensor([prompt + canvas]))).float().softmax(-1)
        row = probs[0, len(prompt) + pairs[slot][0]]
        sums[0] += float(row[new_id])
        sums[1] += float(row[old_id])
    return round(100 * sums[0] / limit, 1), round(100 * sums[1] / limit, 1)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--init-from", type=Path, required=True, help="a tiny-llada checkpoint directory")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--share", type=float, default=0.9, help="share of the steps on name-shuffle batches")
    p.add_argument("--lengths", type=int, nargs=2, default=NAME_LENGTHS, metavar=("MIN", "MAX"))
    p.add_argument("--replace-share", type=float, default=0.0,
                   help="share of the name examples that replace one name instead of shuffling (name_replace)")
    p.add_argument("--long", action="store_true", help="add the long lists to the suite batches")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--optimizer", choices=OPTIMIZERS, default="adamw", help="see optim.py")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    if not 0.0 < args.share <= 1.0:
        p.error(f"--share {args.share}: need 0 < share <= 1 (e.g. 0.9)")
    if not 0.0 <= args.replace_share < 1.0:
        p.error(f"--replace-share {args.replace_share}: need 0 <= share < 1 (e.g. 0.5)")
    if not 2 <= args.lengths[0] <= args.lengths[1] <= len(FIRST_NAMES):
        p.error(f"--lengths {args.lengths[0]} {args.lengths[1]}: need 2 <= MIN <= MAX <= {len(FIRST_NAMES)} (e.g. 6 10)")
    if args.steps < 1:
        p.error(f"--steps {args.steps}: need at least 1")
    return args


def fine_tune(args: argparse.Namespace) -> dict:
    import dllm
    from dllm.evals.tiny.train import diffusion_loss, save_weights

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    lm = dllm.load(str(args.init_from), dtype="float32", device="cpu")
    tok, model = lm.tokenizer, lm.model
    before = suppression(lm), replace_completion(lm)
    eot = end_of_turn_id(lm)
    tasks = SHORT_TASKS + (["long_copy", "long_reverse"] if args.long else [])
    suite = batches(encode_examples(tok, eot, 12000, tasks), tok.pad_token_id, tok.eos_token_id, 3072, args.seed + 7)
    name_tasks = [NAME_SHUFFLE_TASK] + ([NAME_REPLACE_TASK] if args.replace_share > 0 else [])
    names = batches(name_task_examples(name_tasks, tok, eot, 12000, args.seed, tuple(args.lengths)), tok.pad_token_id, tok.eos_token_id, 3072, args.seed + 11,
                    task_weights={NAME_SHUFFLE_TASK: 1.0 - args.replace_share, NAME_REPLACE_TASK: args.replace_share})
    model.train().requires_grad_(True)
    opt = make_optimizer(model, args.lr, 0.1, args.optimizer)
    generator, draws, start = torch.Generator().manual_seed(args.seed + 3), random.Random(args.seed + 5), time.perf_counter()
    for step in range(args.steps):
        for group in opt.param_groups:
            group["lr"] = lr_at(step, args.steps, args.lr, 50)
        batch = next(names) if draws.random() < args.share else next(suite)
        loss = diffusion_loss(model, batch, tok.mask_token_id, generator, 1.0, "bf16")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if (step + 1) % 500 == 0:
            print(f"step {step + 1}/{args.steps} loss {loss.item():.4f}", flush=True)
    minutes = (time.perf_counter() - start) / 60
    model.eval()
    after = suppression(lm), replace_completion(lm)
    save_weights(args.out, model, json.loads((args.init_from / "config.json").read_text()), tok, "bfloat16")
    previous = json.loads((args.init_from / "training.json").read_text())
    record = {"name_shuffle": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
              "steps": args.steps, "minutes": round(minutes, 2),
              "suppression_before": before[0], "suppression_after": after[0],
              "replace_completion_before": before[1], "replace_completion_after": after[1], "previous": previous,
              "total_minutes": round(minutes + previous.get("total_minutes", previous["minutes"]), 2),
              "env": environment("cpu", torch.float32, None)}
    (args.out / "training.json").write_text(json.dumps(record, indent=2))
    return record


def main(argv: list[str] | None = None) -> None:
    record = fine_tune(parse_args(argv))
    print(json.dumps({k: record[k] for k in ("steps", "minutes", "suppression_before", "suppression_after",
                                             "replace_completion_before", "replace_completion_after",
                                             "total_minutes")}))


if __name__ == "__main__":
    main()

"""Name shuffle: a dense used-item task that grows tiny-llada's repeat suppression.

tiny-llada puts as much probability on names an answer already holds as on the others
(`repeats.py`: 39% either way on shuffle), so its random ops write items twice. Fine-tuning
on the random ops themselves, with random, names-only or whole-item masks, left that
unchanged (README). This task is the same operation with the part that needs the bookkeeping
made dense: a shuffle of 6-10 *first names* in the list format (`shuffle: ["Ann", "Bob", ...]`
-> `["Bob", "Ann", ...]`), trained under the masked-diffusion objective. Every masked name can
only be one of the names not yet shown, and there is no last name to look it up from.

    python -m dllm.evals.tiny.name_shuffle --init-from dllm/assets/tiny-llada --out /tmp/ns \
        --steps 3000 --share 0.9

A `share` of the steps draw name-shuffle batches, the rest the suite's short tasks (plus the
long lists with `--long`). The last output line is JSON: the suppression probe on this task
before and after (repeat mass, half the names shown, against all of them masked), steps and
minutes. Pilot of 2026-12-07 (README): 3,000 steps at share 0.9 took the shuffle repeat mass
from 39 to 4%. Not part of the shipped recipe yet.
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
from dllm.evals.synthetic.base import format_list
from dllm.evals.synthetic.pools import FIRST_NAMES
from dllm.evals.tiny.binding import end_of_turn_id
from dllm.evals.tiny.data import Example, batches, encode_examples
from dllm.evals.tiny.recall import name_token_ids
from dllm.evals.tiny.repeats import instance_repeat_mass
from dllm.evals.tiny.schedule import lr_at

# The pilot's order: it seeds which task each drawn example comes from (`data.batches`).
SHORT_TASKS = ["copy", "reverse", "sort", "shuffle", "insert_index", "insert_random", "remove_index",
               "remove_random", "replace_index", "replace_random", "json_record", "latin_square", "add", "sub"]


def name_shuffle_pair(rng: random.Random, lengths: tuple[int, int]) -> tuple[str, str]:
    """(prompt, answer): distinct first names and a permutation of them that differs from the input."""
    items = rng.sample(FIRST_NAMES, rng.randint(*lengths))
    perm = list(items)
    while perm == items:
        rng.shuffle(perm)
    return f"shuffle: {format_list(items)}", format_list(perm)


def name_shuffle_examples(tokenizer, eot_id: int, n: int, lengths: tuple[int, int], seed: int) -> list[Example]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        prompt, answer = name_shuffle_pair(rng, lengths)
        out.append(Example(prompt_ids(tokenizer, prompt, chat=True),
                           tokenizer(answer, add_special_tokens=False)["input_ids"] + [eot_id], "name_shuffle"))
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


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--init-from", type=Path, required=True, help="a tiny-llada checkpoint directory")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--share", type=float, default=0.9, help="share of the steps on name-shuffle batches")
    p.add_argument("--lengths", type=int, nargs=2, default=(6, 10), metavar=("MIN", "MAX"))
    p.add_argument("--long", action="store_true", help="add the long lists to the suite batches")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    if not 0.0 < args.share <= 1.0:
        p.error(f"--share {args.share}: need 0 < share <= 1 (e.g. 0.9)")
    if not 2 <= args.lengths[0] <= args.lengths[1] <= len(FIRST_NAMES):
        p.error(f"--lengths {args.lengths[0]} {args.lengths[1]}: need 2 <= MIN <= MAX <= {len(FIRST_NAMES)} (e.g. 6 10)")
    if args.steps < 1:
        p.error(f"--steps {args.steps}: need at least 1")
    return args


def fine_tune(args: argparse.Namespace) -> dict:
    import dllm
    from dllm.evals.tiny.train import diffusion_loss, make_optimizer, save_weights

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    lm = dllm.load(str(args.init_from), dtype="float32", device="cpu")
    tok, model = lm.tokenizer, lm.model
    before = suppression(lm)
    eot = end_of_turn_id(lm)
    tasks = SHORT_TASKS + (["long_copy", "long_reverse"] if args.long else [])
    suite = batches(encode_examples(tok, eot, 12000, tasks), tok.pad_token_id, tok.eos_token_id, 3072, args.seed + 7)
    names = batches({"name_shuffle": name_shuffle_examples(tok, eot, 12000, tuple(args.lengths), args.seed + 17)},
                    tok.pad_token_id, tok.eos_token_id, 3072, args.seed + 11, task_weights={"name_shuffle": 1.0})
    model.train().requires_grad_(True)
    opt = make_optimizer(model, args.lr, weight_decay=0.1)
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
    after = suppression(lm)
    save_weights(args.out, model, json.loads((args.init_from / "config.json").read_text()), tok, "bfloat16")
    previous = json.loads((args.init_from / "training.json").read_text())
    record = {"name_shuffle": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
              "steps": args.steps, "minutes": round(minutes, 2),
              "suppression_before": before, "suppression_after": after, "previous": previous,
              "total_minutes": round(minutes + previous.get("total_minutes", previous["minutes"]), 2),
              "env": environment("cpu", torch.float32, None)}
    (args.out / "training.json").write_text(json.dumps(record, indent=2))
    return record


def main(argv: list[str] | None = None) -> None:
    record = fine_tune(parse_args(argv))
    print(json.dumps({k: record[k] for k in ("steps", "minutes", "suppression_before", "suppression_after",
                                             "total_minutes")}))


if __name__ == "__main__":
    main()

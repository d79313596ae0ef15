"""Training examples for the tiny models: chat-formatted prompts, EOS-padded answers,
length-bucketed batches and the masked-diffusion corruption.

Layout of one example (LLaDA SFT, Nie et al. 2025, §2.3): `prompt | answer <eot> <eos>...`.
The answer region is padded with EOS to a *generation length* drawn per example, so the
model learns to fill every position after the answer with EOS whatever the canvas length
(the runtime decodes canvases of 64 to 1024 positions). Only the answer region is ever
masked and scored; the prompt is always clean.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

import torch

from dllm.api import prompt_ids
from dllm.evals.synthetic import get_tasks

# Relative sampling weight per task (examples, not tokens): the cheap but hard arithmetic
# and index ops get more, the expensive long lists less (each is ~4x a short example).
TASK_WEIGHTS = {
    "copy": 1.0, "reverse": 1.0, "sort": 2.0, "shuffle": 1.0,
    "insert_index": 1.5, "insert_random": 1.0, "remove_index": 1.5, "remove_random": 1.0,
    "replace_index": 1.5, "replace_random": 1.0, "long_copy": 0.7, "long_reverse": 1.0,
    "add": 3.0, "sub": 3.0, "latin_square": 1.2, "json_record": 1.5,
    "name_shuffle": 1.0, "name_replace": 1.0,
}
# Training-only tasks (`name_shuffle.py`: shuffles of 6-10 first names, and one of them replaced),
# listed in a schedule phase like suite tasks but not part of the evaluation suite.
NAME_SHUFFLE_TASK, NAME_REPLACE_TASK = "name_shuffle", "name_replace"
TRAINING_ONLY_TASKS = (NAME_SHUFFLE_TASK, NAME_REPLACE_TASK)
SUITE_TASKS = [name for name in TASK_WEIGHTS if name not in TRAINING_ONLY_TASKS]
SHORT_CANVAS, LONG_CANVAS, MAX_CANVAS = 64, 256, 1024
CANVAS_MIX = (0.1, 0.85)  # shares padded to the eval canvas / just past the answer (see train.py)
# The long lists keep a fifth of their canvases between 256 and 1024 positions: with 5% (the
# short tasks' share) the models ended them after ~50 tokens, or at once, on a 1024 canvas.
LONG_CANVAS_MIX = (0.1, 0.7)


@dataclass(slots=True)
class Example:
    prompt: list[int]
    answer: list[int]  # answer tokens + end-of-turn, before EOS padding
    task: str


def encode_examples(tokenizer, eot_id: int, n_per_task: int, tasks: list[str] | None = None) -> dict[str, list[Example]]:
    """`n_per_task` train instances of every task (or of `tasks`), tokenised as the runtime tokenises prompts."""
    out = {}
    for task in get_tasks(tasks or SUITE_TASKS):
        out[task.name] = [
            Example(prompt_ids(tokenizer, inst.prompt, chat=True),
                    tokenizer(inst.answer, add_special_tokens=False)["input_ids"] + [eot_id], task.name)
            for inst in task.generate(n_per_task, "train")
        ]
    return out


def generation_length(rng: random.Random, answer_len: int, long: bool,
                      mix: tuple[float, float] | None = CANVAS_MIX) -> int:
    """A canvas length >= the answer: the evaluation length (64 short, 256 long) with
    probability mix[0], just past the answer with mix[1], otherwise much longer, so the
    canvas end says nothing about where the answer ends. Tight canvases cost less compute
    per supervised answer token (EOS padding is easy to learn). `mix` None: one EOS only
    (causal phases, where decoding stops at end-of-turn and the padding teaches nothing)."""
    if mix is None:
        return answer_len + 1
    standard = LONG_CANVAS if long else SHORT_CANVAS
    u = rng.random()
    if u < mix[0]:
        length = standard
    elif u < mix[0] + mix[1]:
        length = answer_len + rng.randint(0, 16)
    else:
        length = rng.randint(standard, MAX_CANVAS if long else 4 * standard)
    return max(length, answer_len)


@dataclass(slots=True)
class Batch:
    input_ids: torch.Tensor  # [B, T] clean sequence, left-padded with pad_id
    attention_mask: torch.Tensor  # [B, T] bool, False on padding
    answer_region: torch.Tensor  # [B, T] bool, the maskable generation region
    query_first: torch.Tensor | None = None  # [B, T] bool, MQAR rows only: the queries' first names
    hole_rows: torch.Tensor | None = None  # [B] bool: rows of the tasks `--hole-tasks` names (None: any)


def batches(examples: dict[str, list[Example]], pad_id: int, eos_id: int, token_budget: int,
            seed: int, pool: int = 256, mix: tuple[float, float] | None = CANVAS_MIX,
            task_weights: dict[str, float] | None = None,
            long_mix: tuple[float, float] = LONG_CANVAS_MIX,
            hole_tasks: frozenset[str] | None = None) -> Iterator[Batch]:
    """Endless batches of about `token_budget` (padded) tokens: draw `pool` examples by
    task weight (`TASK_WEIGHTS`, overridden by `task_weights`), sort by length, cut into
    batches, shuffle their order. Canvases follow `mix` (`long_mix` for the long lists;
    None: one EOS per answer). `hole_tasks`: the batches flag the rows of those tasks
    (`Batch.hole_rows`, the only ones `first_name_mask` gives a hole)."""
    rng = random.Random(seed)
    names = list(examples)
    table = {**TASK_WEIGHTS, **(task_weights or {})}
    weights = [table[n] for n in names]
    cursor = {n: 0 for n in names}
    while True:
        drawn = []
        for name in rng.choices(names, weights, k=pool):
            ex = examples[name][cursor[name] % len(examples[name])]
            cursor[name] += 1
            long = name.startswith("long")
            gen = generation_length(rng, len(ex.answer), long, long_mix if long and mix is not None else mix)
            drawn.append((ex.prompt, ex.answer + [eos_id] * (gen - len(ex.answer)), name))
        drawn.sort(key=lambda row: len(row[0]) + len(row[1]))
        groups, current = [], []
        for item in drawn:
            longest = max(len(item[0]) + len(item[1]), *(len(p) + len(a) for p, a, _ in current)) if current else 0
            if current and longest * (len(current) + 1) > token_budget:
                groups.append(current)
                current = []
            current.append(item)
        groups.append(current)
        rng.shuffle(groups)
        for group in groups:
            batch = collate([(prompt, answer) for prompt, answer, _ in group], pad_id)
            if hole_tasks is not None:
                batch.hole_rows = torch.tensor([task in hole_tasks for *_, task in group])
            yield batch


def collate(items: list[tuple[list[int], list[int]]], pad_id: int) -> Batch:
    width = max(len(p) + len(a) for p, a in items)
    ids = torch.full((len(items), width), pad_id, dtype=torch.long)
    attn = torch.zeros((len(items), width), dtype=torch.bool)
    region = torch.zeros((len(items), width), dtype=torch.bool)
    for row, (prompt, answer) in enumerate(items):
        seq = prompt + answer
        ids[row, width - len(seq):] = torch.tensor(seq)
        attn[row, width - len(seq):] = True
        region[row, width - len(answer):] = True
    return Batch(ids, attn, region)


def corrupt(batch: Batch, mask_id: int, generator: torch.Generator, eps: float = 1e-3,
            suffix_share: float = 0.0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """LLaDA's forward process on the answer region: each row draws t ~ U(0, 1)
    (stratified across the batch to cut variance) and masks each answer token with
    probability p = (1 - eps) t + eps. Returns (noisy ids, masked positions, p per row).

    A `suffix_share` of the rows instead mask the last ceil(p * answer) answer tokens: the
    states a left-to-right-ish greedy decode visits (the answer's start decoded, the rest
    masked), which random masks of a long answer almost never produce."""
    rows = batch.input_ids.shape[0]
    u = (torch.rand((), generator=generator) + torch.arange(rows) / rows) % 1.0
    p = (1 - eps) * u + eps
    masked = (torch.rand(batch.input_ids.shape, generator=generator) < p[:, None]) & batch.answer_region
    if suffix_share > 0:
        region = batch.answer_region
        length = region.sum(1, keepdim=True)
        offset = region.cumsum(1) - 1  # index within the answer region
        cut = length - (p[:, None] * length).ceil().clamp(min=1)
        suffix = region & (offset >= cut)
        as_suffix = torch.rand(rows, generator=generator) < suffix_share
        masked = torch.where(as_suffix[:, None], suffix, masked)
    noisy = torch.where(masked, torch.full_like(batch.input_ids, mask_id), batch.input_ids)
    return noisy, masked, p


HOLE_MAX_NAMES = 10  # the short list ops hold 3-7 names, the long lists 20 or more


def first_name_mask(batch: Batch, first_ids: torch.Tensor, masked: torch.Tensor, p: torch.Tensor,
                    share: float, generator: torch.Generator, min_names: int = 1,
                    name_ids: torch.Tensor | None = None, name_share: float = 0.0,
                    last_ids: torch.Tensor | None = None, pair_share: float = 0.0,
                    hole_share: float = 0.0) -> torch.Tensor:
    """Replace a `share` of the rows' masks, in rows whose answer holds `min_names` or more first
    names, by a mask over those first names only (each with the row's p), every other answer
    token shown. `min_names` 2 keeps the list ops (3-6 names) and leaves the JSON record (one
    name) to random masks, so its other fields are still trained at share 1.0.

    The tiny models decode most name pairs last name first (`order.py`), and a first name must
    then be found from its shown last name; random masks over the whole answer rarely train
    that state, and the lookup never formed from them (`EXPERIMENTS.md`: it forms at a share of 0.9-1.0
    within 700-2,200 steps and survives a later phase at 0.3).

    A further `name_share` of the same rows masks every name token in `name_ids` (first and
    last names) with the row's p and shows the rest: the skeleton the models lay first, with
    some items written and others still masked. That is the state in which an item already
    written must not be written again (shuffle, sort, the random ops); the masks do not depend
    on which name sits where, so what the model learns to predict there is still the task's
    own distribution. A further `pair_share` masks whole "First Last" pairs (a first name
    followed by one of `last_ids`), each with the row's p: at small p one whole item hidden
    among written ones, where only the bookkeeping (which item is still unused) finds it, since
    no half of it is shown to look the other half up from. A further `hole_share` masks one pair
    only (its first name, its last name or both, a third each) and shows everything else: the
    last state a one-token-per-step decode reaches, where the item is fixed by the rest. That
    state decides replace_random (the new name if and only if the answer lacks it), and random
    masks reach it in a few rows in a hundred. Holes go to the short list ops only
    (`HOLE_MAX_NAMES`): on a long list a hole is one item in 50 and the row's random or suffix
    mask is what keeps the long lists (`EXPERIMENTS.md`: with holes in their rows too they fell 81 / 92 ->
    70 / 82)."""
    first = batch.answer_region & torch.isin(batch.input_ids, first_ids)
    rows, names_per_row = batch.input_ids.shape[0], first.sum(1)
    eligible = names_per_row >= max(min_names, 1)
    u = torch.rand(rows, generator=generator)  # one draw per row picks its band
    draw = torch.rand(batch.input_ids.shape, generator=generator) < p[:, None]
    out = torch.where((eligible & in_band(u, 0.0, share))[:, None], first & draw, masked)
    low = share
    if name_ids is not None and name_share > 0:
        names = batch.answer_region & torch.isin(batch.input_ids, name_ids)
        out = torch.where((eligible & in_band(u, low, name_share))[:, None], names & draw, out)
    low += name_share
    if last_ids is not None and pair_share > 0:
        pairs = pair_mask(first, batch.input_ids, last_ids, draw)
        out = torch.where((eligible & in_band(u, low, pair_share))[:, None], pairs, out)
    low += pair_share
    if last_ids is not None and hole_share > 0:
        as_hole = eligible & (names_per_row <= HOLE_MAX_NAMES) & in_band(u, low, hole_share)
        if batch.hole_rows is not None:
            as_hole &= batch.hole_rows
        hole = one_hole(first, batch.input_ids, last_ids, generator)
        out = torch.where((as_hole & hole.any(1))[:, None], hole, out)  # no pair (name_shuffle rows): as drawn
    return out


def in_band(u: torch.Tensor, low: float, width: float) -> torch.Tensor:
    """Rows whose draw `u` falls in [low, low + width): the mask bands share one draw per row,
    stacked in a fixed order, so a band's rows do not depend on the shares after it."""
    return (u >= low) & (u < low + width)


def pair_mask(first: torch.Tensor, ids: torch.Tensor, last_ids: torch.Tensor, draw: torch.Tensor) -> torch.Tensor:
    """Whole "First Last" pairs, each kept where `draw` holds at its first name."""
    starts = pair_starts(first, ids, last_ids) & draw
    pairs = starts.clone()
    pairs[:, 1:] |= starts[:, :-1]
    return pairs


def one_hole(first: torch.Tensor, ids: torch.Tensor, last_ids: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Per row, one "First Last" pair drawn uniformly (`first`: the answer's first-name
    positions) and masked as its first name, its last name or both; all False in rows without a pair."""
    starts = pair_starts(first, ids, last_ids)
    score = torch.rand(ids.shape, generator=generator).masked_fill(~starts, -1.0)
    pick = torch.zeros_like(starts).scatter_(1, score.argmax(1, keepdim=True), True) & starts
    part = torch.randint(0, 3, (ids.shape[0], 1), generator=generator)  # 0 first, 1 last, 2 both
    hole = pick & (part != 1)
    hole[:, 1:] |= pick[:, :-1] & (part != 0)
    return hole


def pair_starts(first: torch.Tensor, ids: torch.Tensor, last_ids: torch.Tensor) -> torch.Tensor:
    """The first-name positions (`first`) followed by one of `last_ids`: where a "First Last" pair starts."""
    starts = first.clone()
    starts[:, :-1] &= torch.isin(ids[:, 1:], last_ids)
    starts[:, -1] = False
    return starts

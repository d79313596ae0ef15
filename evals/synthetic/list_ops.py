"""ParallelBench "Waiting Line" list operations on 3-6 "First Last" names.

Source: ParallelBench §1.1-1.2 of shared/specs/evals_and_parallelbench.md (ops, list
format, lenient parsing, validity metrics of the random ops). Re-implemented, with our own
name pools. Deviations:

* 0-shot, compact prompts (`reverse: [...]`) instead of 1-shot chat turns: the models
  using this suite are tiny and trained on it.
* Positions in prompts are 1-based ("position 1" = first item) for every index op.
* Lengths cycle 3,4,5,6 with the instance index, so any 4m instances are balanced
  (ParallelBench draws until it has 25 lists per length).
* Within a list all first names are distinct and all last names are distinct (not just
  the full names), so "sort by first/last name" has no ties and a first/last swap across
  items yields a name that is not in the input.
"""

from __future__ import annotations

import math
import random
from collections import Counter

from .base import Instance, Task, format_list, parse_list
from .pools import FIRST_NAMES, LAST_NAMES


def sample_names(rng: random.Random, n: int) -> list[str]:
    """`n` "First Last" names whose first names are pairwise distinct and so are their last
    names (n <= 60, the pools' size)."""
    return [f"{f} {l}" for f, l in zip(rng.sample(FIRST_NAMES, n), rng.sample(LAST_NAMES, n))]


class ListTask(Task):
    """Common machinery: draw a list, build (instruction, answer list, meta), render.

    Exact-answer ops score by lenient-parsed equality with the reference answer; the
    random ops override `score` with ParallelBench's validity metric."""

    lengths: tuple[int, ...] = (3, 4, 5, 6)
    extra_names = 0  # names drawn besides the list (the "new" name of insert/replace)

    def build(self, rng: random.Random, items: list[str], new: list[str]) -> tuple[str, list[str], dict]:
        raise NotImplementedError

    def make(self, rng: random.Random, index: int) -> Instance:
        n = self.lengths[index % len(self.lengths)]
        names = sample_names(rng, n + self.extra_names)
        items, new = names[:n], names[n:]
        instruction, target, meta = self.build(rng, items, new)
        meta = {"input": items, **meta}
        return Instance(self.name, f"{instruction}: {format_list(items)}", format_list(target), meta)

    def content_key(self, instance: Instance) -> str:
        # The *set* of input names: a test list never appears in training, in any order.
        return "|".join(sorted(instance.meta["input"]))

    def score(self, instance: Instance, output: str) -> float:
        return float(parse_list(output) == parse_list(instance.answer))


class Copy(ListTask):
    name = "copy"

    def build(self, rng, items, new):
        return "copy", list(items), {}


class Reverse(ListTask):
    name = "reverse"

    def build(self, rng, items, new):
        return "reverse", items[::-1], {}


class Sort(ListTask):
    """Sort by the key the prompt names ("first name" or "last name"), ascending.

    ParallelBench v1's reference is `sorted()` of the whole "First Last" strings, i.e. an
    order by first name whatever key the prompt asks for (the spec's "buggy ref", §0.4).
    We do not copy that: the reference is sorted by the named key (ties are impossible
    since first and last names are distinct within a list)."""

    name = "sort"

    def build(self, rng, items, new):
        key = rng.choice(("first", "last"))
        part = 0 if key == "first" else 1
        return f"sort by {key} name", sorted(items, key=lambda s: s.split(" ")[part]), {"key": key}


class Shuffle(ListTask):
    """Valid iff the output is a permutation of the input *and* differs from it."""

    name = "shuffle"

    def build(self, rng, items, new):
        target = list(items)
        while target == items:  # the reference must itself be valid
            rng.shuffle(target)
        return "shuffle", target, {}

    def score(self, instance, output):
        got, ref = parse_list(output), instance.meta["input"]
        return float(got is not None and Counter(got) == Counter(ref) and got != ref)


class InsertIndex(ListTask):
    name = "insert_index"
    extra_names = 1

    def build(self, rng, items, new):
        pos = rng.randint(1, len(items) + 1)
        target = items[: pos - 1] + new + items[pos - 1 :]
        return f'insert "{new[0]}" at position {pos}', target, {"new": new[0], "position": pos}


class InsertRandom(ListTask):
    """Valid iff removing the given new name from the output yields the input list."""

    name = "insert_random"
    extra_names = 1

    def build(self, rng, items, new):
        pos = rng.randint(1, len(items) + 1)
        return f'insert "{new[0]}" anywhere', items[: pos - 1] + new + items[pos - 1 :], {"new": new[0]}

    def score(self, instance, output):
        got, new = parse_list(output), instance.meta["new"]
        if got is None or new not in got:
            return 0.0
        got.remove(new)
        return float(got == instance.meta["input"])


class RemoveIndex(ListTask):
    name = "remove_index"

    def build(self, rng, items, new):
        pos = rng.randint(1, len(items))
        return f"remove position {pos}", items[: pos - 1] + items[pos:], {"position": pos}


class RemoveRandom(ListTask):
    """Valid iff the output is the input with exactly one item dropped, order kept."""

    name = "remove_random"

    def build(self, rng, items, new):
        pos = rng.randint(1, len(items))
        return "remove any one", items[: pos - 1] + items[pos:], {}

    def score(self, instance, output):
        got, ref = parse_list(output), instance.meta["input"]
        if got is None or len(got) != len(ref) - 1:
            return 0.0
        return float(any(ref[:i] + ref[i + 1 :] == got for i in range(len(ref))))


class ReplaceIndex(ListTask):
    name = "replace_index"
    extra_names = 1

    def build(self, rng, items, new):
        pos = rng.randint(1, len(items))
        target = items[: pos - 1] + new + items[pos:]
        return f'replace position {pos} with "{new[0]}"', target, {"new": new[0], "position": pos}


class ReplaceRandom(ListTask):
    """Valid iff same length, the new name sits in some slot and every other slot is
    unchanged (so exactly one input item was replaced)."""

    name = "replace_random"
    extra_names = 1

    def build(self, rng, items, new):
        pos = rng.randint(1, len(items))
        return f'replace any one with "{new[0]}"', items[: pos - 1] + new + items[pos:], {"new": new[0]}

    def score(self, instance, output):
        got, ref, new = parse_list(output), instance.meta["input"], instance.meta["new"]
        if got is None or len(got) != len(ref):
            return 0.0
        return float(any(got == ref[:i] + [new] + ref[i + 1 :] for i in range(len(ref))))


LIST_OPS: tuple[type[ListTask], ...] = (
    Copy, Reverse, Sort, Shuffle, InsertIndex, InsertRandom,
    RemoveIndex, RemoveRandom, ReplaceIndex, ReplaceRandom,
)


def ideal_shuffle_accuracy(n: int, k: int | None = None) -> float:
    """Accuracy of an ideal, unbiased model on Shuffle of n items decoded k items per step.

    Source: ParallelBench Table 1 (spec §1.5). Each of the m still-masked slots has the
    uniform marginal over the m unused items; committing k slots at once in parallel picks
    k independent items, which are all distinct with probability P(m, k) / m**k. The
    accuracy is the product over steps, with m = n, n-k, ... :
    k = n (one step) gives n!/n**n (n=3: 22.2 %, n=6: 1.5 %); k = 2 gives (n-1)!!/n!!
    (n=6: 31.25 %); k = 1 gives 1. Items are counted as single tokens, so apply it to
    models whose tokenizer maps each list item to one token (or read k as items/step).
    The formula counts every permutation as correct, as the paper does; ParallelBench's
    metric also rejects the identity, so for a model sampling uniform permutations the
    measured accuracy is this times (1 - 1/n!) (n=3, k=3: 18.5 % instead of 22.2 %).
    """
    if n < 1:
        raise ValueError("n must be >= 1")
    k = n if k is None else k
    if k < 1:
        raise ValueError("k must be >= 1")
    acc, m = 1.0, n
    while m > 0:
        step = min(k, m)
        acc *= math.perm(m, step) / m**step
        m -= step
    return acc


def shuffle_one_step_accuracy(n: int) -> float:
    """n!/n**n: ideal-model Shuffle accuracy when all n items are decoded in one step
    (k = n tokens per step). See `ideal_shuffle_accuracy`."""
    return math.factorial(n) / n**n

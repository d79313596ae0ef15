"""Core types of the synthetic suite: `Instance`, the `Task` base class, split logic and
the lenient list parser.

Semantics follow ParallelBench (Kang et al., arXiv 2510.04767; see
shared/specs/evals_and_parallelbench.md §1.1-1.2), re-implemented from the description;
no ParallelBench code or data is used. Deviations are documented where they occur:

* Seeds are `sha256("<task>/<split>")` mod 2**32 instead of ParallelBench's
  `(sha256(name) + 42) mod 65535`, because we need separate train and test streams.
* Train and test are disjoint by construction: every instance has a *content key*
  (e.g. the set of names in the input list) and a fixed hash of that key decides its
  split (1/8 of keys are test-only). A train instance therefore never shares its input
  content with any test instance of the same task, whatever sizes are generated. As a
  second, explicit check the train generator also rejects any prompt found in the
  canonical test set (`Task.test_size` instances).
* Instances within one split are distinct (no repeated prompt); ParallelBench does not
  deduplicate but has no reason to repeat.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from typing import Any

SPLITS = ("train", "test")
# One key in TEST_MODULUS goes to test: enough test keys for 100s of test instances while
# leaving 7/8 of the input space for training.
TEST_MODULUS = 8


@dataclass(slots=True)
class Instance:
    """One example: `prompt` in, `answer` (the reference text a model is trained to emit)
    out. `meta` holds plain JSON-serialisable data the metric needs (input list, new
    name, symbols, record ...), so an instance scores the same after a JSON round trip."""

    task: str
    prompt: str
    answer: str
    meta: dict[str, Any] = field(default_factory=dict)


def _hash_int(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


def split_seed(task: str, split: str) -> int:
    """Deterministic RNG seed for (task, split); independent of Python's hash salt."""
    return _hash_int(f"{task}/{split}") % 2**32


def key_split(content_key: str) -> str:
    """The split a content key belongs to ("test" for 1 in TEST_MODULUS keys)."""
    return "test" if _hash_int("split:" + content_key) % TEST_MODULUS == 0 else "train"


class Task:
    """Base class of a synthetic task (nanochat style: a small object per task).

    Subclasses set `name` and implement `make` (draw one candidate instance) and `score`;
    they may override `content_key` (what decides the split) and `test_size`.
    """

    name: str = ""
    test_size: int = 100  # size of the canonical test set (ParallelBench uses 100 per task)
    generation_length: int = 64  # canvas the evaluation decodes (answers are <= 32 tokens)

    def __init__(self) -> None:
        self._test_prompts: frozenset[str] | None = None

    # -- to implement ---------------------------------------------------------------
    def make(self, rng: random.Random, index: int) -> Instance:
        """Draw one candidate. `index` is the position being filled in the output, so a
        task can balance lengths deterministically (e.g. `lengths[index % len(lengths)]`)."""
        raise NotImplementedError

    def score(self, instance: Instance, output: str) -> float:
        """1.0 if `output` solves `instance` (the validity metric for open-ended ops), else 0.0."""
        raise NotImplementedError

    def content_key(self, instance: Instance) -> str:
        """What must never be shared between train and test. Default: the prompt."""
        return instance.prompt

    # -- generation -----------------------------------------------------------------
    def generate(self, n: int, split: str = "test") -> list[Instance]:
        """`n` distinct instances of `split`; deterministic, and a prefix of any larger `n`."""
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        rng = random.Random(split_seed(self.name, split))
        banned = self.test_prompts() if split == "train" else frozenset()
        out: list[Instance] = []
        seen: set[str] = set()
        budget = 200 * n + 1000  # ~8 draws per test instance expected; guard against tiny spaces
        while len(out) < n:
            budget -= 1
            if budget < 0:
                raise RuntimeError(f"{self.name}: could not draw {n} distinct {split} instances")
            inst = self.make(rng, len(out))
            if key_split(self.content_key(inst)) != split:
                continue
            if inst.prompt in seen or inst.prompt in banned:
                continue
            seen.add(inst.prompt)
            out.append(inst)
        return out

    def test_prompts(self) -> frozenset[str]:
        """Prompts of the canonical test set, cached (used to double-check train draws)."""
        if self._test_prompts is None:
            self._test_prompts = frozenset(i.prompt for i in self.generate(self.test_size, "test"))
        return self._test_prompts

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


# -- list format ----------------------------------------------------------------------
def format_list(items: list[str]) -> str:
    """ParallelBench's list format: `["A B", "C D"]` with `", "` separators."""
    return "[" + ", ".join(f'"{x}"' for x in items) + "]"


def parse_list(text: str) -> list[str] | None:
    """Lenient list parse (ParallelBench's reported "score" mode): the text after the
    *last* `[` up to the next `]`, split on commas, each item stripped of spaces and
    quotes. Returns None when there is no `[`. Deviation: a missing `]` is tolerated
    (the rest of the text is used), which only matters for truncated outputs."""
    start = text.rfind("[")
    if start < 0:
        return None
    body = text[start + 1 :]
    end = body.find("]")
    if end >= 0:
        body = body[:end]
    if not body.strip():
        return []
    return [item.strip().strip("\"'").strip() for item in body.split(",")]

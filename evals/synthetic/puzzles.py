"""4x4 Latin square over 4 given symbols (`latin square: A, 7, K, Q`).

Source: ParallelBench `puzzle/latin_square_n4` (spec §1.1-1.2): symbols drawn from A-Z and
0-9, any valid square accepted. Output format: CSV rows, one per line (`A,7,K,Q`).
Deviations: a 0-shot compact prompt instead of a 1-shot chat turn; and the reference answer
is the cyclic square in the prompt's order (row r is the symbols rotated left by r), where
ParallelBench shuffles the rows and columns of it. The reference is what the tiny models
train on: one rule a 2-layer model learns like `reverse`, where random squares would ask it
to track the symbols already used in every row and column. A model trained so decodes one
deterministic answer, so for it this task no longer stresses parallel decoding the way a
many-answer target does (`EXPERIMENTS.md`).

Metric (as ParallelBench's, re-implemented): keep only output lines whose comma-separated
cells (spaces stripped) are exactly the 4 symbols, take the first 4 such lines and require
every column to hold all 4 symbols (rows already do by the filter).
"""

from __future__ import annotations

import random

from .base import Instance, Task
from .pools import SYMBOLS

SIZE = 4


def cyclic_latin_square(symbols: list[str]) -> list[list[str]]:
    """Row r is `symbols` rotated left by r: a valid square for any symbol order."""
    return [symbols[r:] + symbols[:r] for r in range(len(symbols))]


def parse_square(text: str, symbols: list[str]) -> list[list[str]] | None:
    """The first len(symbols) lines that are permutations of `symbols`, or None."""
    want = sorted(symbols)
    rows = []
    for line in text.splitlines():
        cells = [c.strip() for c in line.split(",")]
        if sorted(cells) == want:
            rows.append(cells)
            if len(rows) == len(symbols):
                return rows
    return None


def is_latin_square(rows: list[list[str]] | None, symbols: list[str]) -> bool:
    if rows is None or len(rows) != len(symbols):
        return False
    want = sorted(symbols)
    return all(sorted(r) == want for r in rows) and all(sorted(col) == want for col in zip(*rows))


class LatinSquare(Task):
    name = "latin_square"

    def make(self, rng: random.Random, index: int) -> Instance:
        symbols = rng.sample(SYMBOLS, SIZE)
        square = cyclic_latin_square(symbols)
        answer = "\n".join(",".join(row) for row in square)
        return Instance(self.name, f"latin square: {', '.join(symbols)}", answer, {"symbols": symbols})

    def content_key(self, instance: Instance) -> str:
        return "".join(sorted(instance.meta["symbols"]))  # the symbol set, in any order

    def score(self, instance: Instance, output: str) -> float:
        symbols = instance.meta["symbols"]
        return float(is_latin_square(parse_square(output, symbols), symbols))


PUZZLE_TASKS = (LatinSquare,)

"""Multi-digit addition and subtraction (`add: 0482 + 0037` -> `00519`).

Loosely modelled on ParallelBench's `math_op` family (spec §1.1, not one of its 17
benchmark tasks); our own, simpler design: one operation, operands of 2-4 digits (digit
count uniform, then value uniform within it), subtraction ordered so the result is
non-negative. Carries/borrows make later digits depend on earlier ones; the answer is still
a deterministic function of the prompt, so a model that has learnt the carries is as immune
to parallel decoding as on copy (the bundled tiny-llada: add 96-97%, sub 100% at every k up to 8;
`evals/tiny/EXPERIMENTS.md`).

Operands and result are written zero-padded to a fixed width (4 digits in, 5 out for a
sum, 4 for a difference), so a digit's place is its position: the k-th digit from the right
of the answer always sits a fixed distance from the k-th digits of the operands. With
natural widths those distances depend on all three lengths, and the 2-layer tiny models
stayed at 0-6% (`EXPERIMENTS.md`). Aligned digits are the standard remedy for small transformers
(Lee et al., "Teaching Arithmetic to Small Transformers", arXiv 2307.03381, zero-padding;
McLeish et al., arXiv 2405.17399, digit-position embeddings).

Metric: lenient, the first integer in the output must equal the result (so trailing
text after the number is ignored, as in the list parser).
"""

from __future__ import annotations

import random
import re

from .base import Instance, Task

_INT = re.compile(r"-?\d+")


def _operand(rng: random.Random, digits: tuple[int, ...]) -> int:
    d = rng.choice(digits)
    return rng.randint(10 ** (d - 1), 10**d - 1)


class _ArithTask(Task):
    digits: tuple[int, ...] = (2, 3, 4)
    symbol = "+"
    carry_place = 0  # 1 where the result can need one more place than the operands (a sum)

    @property
    def width(self) -> int:
        """Places of a zero-padded operand: the longest operand drawn."""
        return max(self.digits)

    def apply(self, a: int, b: int) -> int:
        raise NotImplementedError

    def make(self, rng: random.Random, index: int) -> Instance:
        a, b = _operand(rng, self.digits), _operand(rng, self.digits)
        if self.symbol == "-" and a < b:
            a, b = b, a
        result = self.apply(a, b)
        w = self.width
        return Instance(self.name, f"{self.name}: {a:0{w}d} {self.symbol} {b:0{w}d}",
                        f"{result:0{w + self.carry_place}d}", {"a": a, "b": b, "result": result})

    def content_key(self, instance: Instance) -> str:
        # Unordered operand pair, shared by add and sub: a test pair is never trained on
        # in either order or with either operation.
        a, b = sorted((instance.meta["a"], instance.meta["b"]))
        return f"{a},{b}"

    def score(self, instance: Instance, output: str) -> float:
        m = _INT.search(output)
        return float(m is not None and int(m.group()) == instance.meta["result"])


class Add(_ArithTask):
    name = "add"
    symbol = "+"
    carry_place = 1

    def apply(self, a: int, b: int) -> int:
        return a + b


class Sub(_ArithTask):
    name = "sub"
    symbol = "-"

    def apply(self, a: int, b: int) -> int:
        return a - b


ARITH_TASKS = (Add, Sub)

"""Multi-digit addition and subtraction (`add: 482 + 37` -> `519`).

Loosely modelled on ParallelBench's `math_op` family (spec §1.1, not one of its 17
benchmark tasks); our own, simpler design: one operation, operands of 2-4 digits (digit
count uniform, then value uniform within it), subtraction ordered so the result is
non-negative. Carries/borrows make later digits depend on earlier ones, which is what
stresses parallel decoding.

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

    def apply(self, a: int, b: int) -> int:
        raise NotImplementedError

    def make(self, rng: random.Random, index: int) -> Instance:
        a, b = _operand(rng, self.digits), _operand(rng, self.digits)
        if self.symbol == "-" and a < b:
            a, b = b, a
        result = self.apply(a, b)
        return Instance(self.name, f"{self.name}: {a} {self.symbol} {b}", str(result),
                        {"a": a, "b": b, "result": result})

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

    def apply(self, a: int, b: int) -> int:
        return a + b


class Sub(_ArithTask):
    name = "sub"
    symbol = "-"

    def apply(self, a: int, b: int) -> int:
        return a - b


ARITH_TASKS = (Add, Sub)

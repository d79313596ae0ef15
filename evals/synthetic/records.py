"""Render a key-value record as a small JSON object with keys in a stated order.

Not a ParallelBench task; our own structured-output probe (format tokens that must agree
with each other: braces, quotes, commas, a boolean literal). Prompt: the key order, then
the fields in a different, shuffled order, e.g.
`json keys age, name, vip, city: city Oslo; vip true; name Ann Lee; age 34`
-> `{"age": 34, "name": "Ann Lee", "vip": true, "city": "Oslo"}`.

Metric: the text from the first `{` to the last `}` parses as a JSON object equal to the
record, with types checked strictly (Python's `True == 1` and `34 == 34.0` would otherwise
accept `"vip": 1` or `"age": 34.0`). Key order is requested and present in the reference,
but not scored: JSON objects are unordered (RFC 8259).
"""

from __future__ import annotations

import json
import random
from typing import Any

from .base import Instance, Task
from .list_ops import sample_names
from .pools import CITIES, FLAG_KEYS


def _value_text(v: Any) -> str:
    return json.dumps(v) if isinstance(v, bool) else str(v)


def parse_object(text: str) -> dict[str, Any] | None:
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end < start:
        return None
    try:
        obj = json.loads(text[start : end + 1])
    except json.JSONDecodeError:
        return None
    return obj if isinstance(obj, dict) else None


def same_record(got: dict[str, Any] | None, want: dict[str, Any]) -> bool:
    return (
        got is not None
        and got.keys() == want.keys()
        and all(type(got[k]) is type(v) and got[k] == v for k, v in want.items())
    )


class JsonRecord(Task):
    name = "json_record"

    def make(self, rng: random.Random, index: int) -> Instance:
        fields = {
            "name": sample_names(rng, 1)[0],
            "age": rng.randint(18, 90),
            "city": rng.choice(CITIES),
            rng.choice(FLAG_KEYS): rng.random() < 0.5,
        }
        order = list(fields)
        rng.shuffle(order)
        given = list(fields)
        while given == order:  # values are listed out of order so the model must reorder
            rng.shuffle(given)
        record = {k: fields[k] for k in order}
        prompt = f"json keys {', '.join(order)}: " + "; ".join(f"{k} {_value_text(fields[k])}" for k in given)
        return Instance(self.name, prompt, json.dumps(record), {"record": record})

    def content_key(self, instance: Instance) -> str:
        return instance.meta["record"]["name"]  # a test person never appears in training

    def score(self, instance: Instance, output: str) -> float:
        return float(same_record(parse_object(output), instance.meta["record"]))


RECORD_TASKS = (JsonRecord,)

"""Offline, seeded synthetic task suite (ParallelBench-style list ops, long lists,
arithmetic, Latin squares, JSON records) for training and evaluating tiny diffusion LMs.

    from dllm.evals.synthetic import get_tasks, make_corpus
    for task in get_tasks(["list_ops"]):
        for inst in task.generate(100, "test"):
            acc = task.score(inst, model_output(inst.prompt))

Semantics and metrics follow ParallelBench (arXiv 2510.04767) as summarised in
shared/specs/evals_and_parallelbench.md §1; the code, name pools and prompts are our own
(ParallelBench has no licence). Each module documents its deviations.
"""

from __future__ import annotations

import random

from .arith import ARITH_TASKS
from .base import Instance, Task, format_list, parse_list
from .list_ops import LIST_OPS, ideal_shuffle_accuracy, sample_names, shuffle_one_step_accuracy
from .long_lists import LONG_TASKS
from .puzzles import PUZZLE_TASKS
from .records import RECORD_TASKS

TASKS: dict[str, Task] = {
    cls.name: cls() for cls in (*LIST_OPS, *LONG_TASKS, *ARITH_TASKS, *PUZZLE_TASKS, *RECORD_TASKS)
}

GROUPS: dict[str, tuple[str, ...]] = {
    "list_ops": tuple(cls.name for cls in LIST_OPS),
    "long": tuple(cls.name for cls in LONG_TASKS),
    "arith": tuple(cls.name for cls in ARITH_TASKS),
    "puzzles": tuple(cls.name for cls in PUZZLE_TASKS),
    "records": tuple(cls.name for cls in RECORD_TASKS),
    "all": tuple(TASKS),
}


def suite_names() -> list[str]:
    """All task names, in registry order."""
    return list(TASKS)


def get_tasks(names: list[str] | None = None) -> list[Task]:
    """Tasks by task or group name (e.g. `["list_ops", "add"]`), deduplicated, in the
    order given; None means the whole suite."""
    out: dict[str, Task] = {}
    for name in names if names is not None else ["all"]:
        if name in GROUPS:
            out.update((n, TASKS[n]) for n in GROUPS[name])
        elif name in TASKS:
            out[name] = TASKS[name]
        else:
            raise KeyError(f"unknown synthetic task or group {name!r}; tasks: {suite_names()}, groups: {list(GROUPS)}")
    return list(out.values())


def make_corpus(n_per_task: int, split: str = "train", names: list[str] | None = None,
                seed: int | None = 0) -> list[Instance]:
    """`n_per_task` instances of every selected task, interleaved by a seeded shuffle
    (`seed=None` keeps them grouped by task). Train instances never share content with
    the test split (see `base`)."""
    corpus = [inst for task in get_tasks(names) for inst in task.generate(n_per_task, split)]
    if seed is not None:
        random.Random(seed).shuffle(corpus)
    return corpus


__all__ = [
    "GROUPS", "Instance", "TASKS", "Task", "format_list", "get_tasks", "ideal_shuffle_accuracy",
    "make_corpus", "parse_list", "sample_names", "shuffle_one_step_accuracy", "suite_names",
]

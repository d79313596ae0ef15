"""Training schedules: a list of phases, each a task set, an objective and a step count.

    list_ops:causal:8500  list_ops:diffusion:7500  all:diffusion:3000

Task sets are comma-separated task or group names of the synthetic suite (`list_ops`,
`all`, ...), `name_shuffle` and `name_replace` (shuffles of 6-10 first names, and one of them
replaced, `name_shuffle.py`: training-only tasks drawn with the suite's batches, weighted
through `train.py --task-weight`) and `mqar`: multi-query associative recall on the name tokens (`recall.py`),
alone (a causal or diffusion phase that grows the induction step the list ops need) or next
to suite tasks (a share of the phase's batches, `train.py --mqar-share`). Every phase
restarts the learning-rate schedule (a short warm-up, then a cosine decay to a tenth) and
keeps the optimizer state, so a later phase can add tasks or switch objective on the
weights the earlier ones trained (see `train.py`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from dllm.evals.synthetic import get_tasks
from dllm.evals.tiny.data import TRAINING_ONLY_TASKS
from dllm.evals.tiny.recall import RECALL_TASK

OBJECTIVES = ("causal", "diffusion", "mixed", "masked_causal")  # masked_causal: LLaDA only (slots.py)
# The plain first stage (two threads): the ten list ops, the JSON record and the Latin square,
# a causal warm start then masked diffusion; the bundled models then add the long lists in a
# diffusion stage at half the learning rate through `--init-from` (commands in the README,
# held-out numbers in `EXPERIMENTS.md`). Growing from copy a family at a time never got past copy + reverse,
# and the long lists in every phase from the start kept the diffusion phase at 0-1%.
# Prepending `mqar:causal:600` lifts the causal probe from 65% (8,000 steps) to 90% (5,000);
# both bundled models' first stages prepend it (tiny-llada also mixes MQAR into its diffusion
# phase, which keeps LLaDA's forward lookup, and trains add,sub in both diffusion phases), so
# this default is the ablation without it.
DEFAULT_SCHEDULE = ("list_ops,json_record,latin_square:causal:8000", "list_ops,json_record,latin_square:diffusion:10000")


@dataclass(slots=True, frozen=True)
class Phase:
    tasks: tuple[str, ...]
    objective: str
    steps: int

    @property
    def recall(self) -> bool:
        """Whether the phase draws MQAR batches."""
        return RECALL_TASK in self.tasks

    @property
    def suite_tasks(self) -> tuple[str, ...]:
        return tuple(t for t in self.tasks if t != RECALL_TASK)

    @property
    def eval_tasks(self) -> tuple[str, ...]:
        """The suite tasks among them that the evaluation has (not the training-only name tasks)."""
        return tuple(t for t in self.suite_tasks if t not in TRAINING_ONLY_TASKS)

    def __str__(self) -> str:
        return f"{','.join(self.tasks)}:{self.objective}:{self.steps}"


def parse_phase(text: str) -> Phase:
    """`TASKS:OBJECTIVE:STEPS` -> Phase; a one-line error naming the bad part otherwise."""
    parts = text.rsplit(":", 2)
    if len(parts) != 3:
        raise ValueError(f"schedule phase {text!r} is not TASKS:OBJECTIVE:STEPS (e.g. copy,reverse:causal:1000)")
    names, objective, steps = parts
    if objective not in OBJECTIVES:
        raise ValueError(f"schedule phase {text!r}: objective {objective!r} is not one of {', '.join(OBJECTIVES)}")
    if not steps.isdigit() or int(steps) == 0:
        raise ValueError(f"schedule phase {text!r}: steps {steps!r} must be a positive integer")
    listed = names.split(",")
    recall = (RECALL_TASK,) if RECALL_TASK in listed else ()
    if recall and objective == "mixed":
        raise ValueError(f"schedule phase {text!r}: {RECALL_TASK} trains causal or diffusion only (e.g. {RECALL_TASK}:causal:600)")
    names_only = tuple(name for name in TRAINING_ONLY_TASKS if name in listed)
    suite = [name for name in listed if name != RECALL_TASK and name not in TRAINING_ONLY_TASKS]
    try:
        tasks = tuple(t.name for t in get_tasks(suite)) if suite else ()
    except KeyError as err:
        raise ValueError(f"schedule phase {text!r}: {err.args[0]}") from None
    return Phase(tasks + names_only + recall, objective, int(steps))


def parse_schedule(texts: list[str]) -> list[Phase]:
    if not texts:
        raise ValueError("the schedule is empty: give at least one TASKS:OBJECTIVE:STEPS phase")
    return [parse_phase(t) for t in texts]


def all_tasks(phases: list[Phase]) -> list[str]:
    """Every task the schedule draws suite batches from, in first-seen order (not the MQAR
    phase's data; the training-only name tasks included)."""
    return list(dict.fromkeys(t for phase in phases for t in phase.suite_tasks))


def eval_tasks(phases: list[Phase]) -> list[str]:
    """The evaluation-suite tasks among `all_tasks`: what the probe decodes."""
    return list(dict.fromkeys(t for phase in phases for t in phase.eval_tasks))


def lr_at(step_in_phase: int, phase_steps: int, lr: float, warmup: int) -> float:
    """Linear warm-up over `warmup` steps, then cosine from `lr` down to `lr / 10`."""
    if step_in_phase < warmup:
        return lr * (step_in_phase + 1) / warmup
    progress = (step_in_phase - warmup) / max(1, phase_steps - warmup)
    return lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))

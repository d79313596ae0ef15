"""The sampler contract: logits for the active block in, a commit decision out.

Samplers are small policies; the engine owns the loop (see ``dllm.engine``). A sampler
is a dataclass whose fields are its parameters, so names, defaults and types are
discoverable (``dllm samplers``) and validated in one place.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch


@dataclass(slots=True)
class StepInput:
    """What a sampler sees at one denoising step, for the rows still decoding this block.

    ``logits`` are float32 ``[R, N, V]`` over the block's N positions, already aligned so
    that row i is the distribution for position i (Dream's shift undone), with the mask
    token's column at -inf. ``rows`` are the batch indices of the R rows.
    """

    logits: torch.Tensor
    tokens: torch.Tensor
    masked: torch.Tensor
    rows: torch.Tensor
    step: int
    steps: int
    block: int
    temperature: float
    top_p: float | None
    top_k: int | None
    stop_ids: tuple[int, ...]
    generator: torch.Generator | None
    state: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Decision:
    """Proposed tokens ``[R, N]``, which of them to commit, and the confidence used to rank."""

    tokens: torch.Tensor
    commit: torch.Tensor
    confidence: torch.Tensor


@dataclass(slots=True)
class BlockProbe:
    """What a block-planning sampler sees at a block start: aligned float32 logits
    ``[R, W, V]`` of each row's next W generation positions (``valid`` marks those inside
    the canvas and the generation), the columns each row has left, the configured block
    length, the tokenizer's line-break ids, and whether the model predicts shifted."""

    logits: torch.Tensor
    valid: torch.Tensor
    remaining: torch.Tensor
    gen_length: int
    default_length: int
    delimiter_ids: tuple[int, ...]
    temperature: float
    generator: torch.Generator | None
    shifted: bool


@dataclass
class Sampler:
    """Base class: subclasses are dataclasses whose fields are the sampler's parameters."""

    name: ClassVar[str] = ""
    # None: one block spanning the whole generation (Dream's reference); an int: that length
    # when it divides the generation length.
    default_block_length: ClassVar[int | None] = 32
    # Classifier-free guidance scale; the engine runs the unconditional pass when > 0.
    cfg_scale: ClassVar[float] = 0.0

    # True for samplers that choose each row's block extent (the engine's block-plan hook).
    plans_blocks: ClassVar[bool] = False

    def start_block(self, inp: StepInput) -> None:
        """Called before the first step of each block with the rows decoding it."""

    def lookahead(self, gen_length: int) -> int:
        """Positions past a block start that ``plan_block`` wants scored (planners only)."""
        return 0

    def plan_block(self, probe: BlockProbe) -> torch.Tensor:
        """Length of each row's next block, from the look-ahead logits (planners only)."""
        raise NotImplementedError

    def step(self, inp: StepInput) -> Decision:
        raise NotImplementedError

    @classmethod
    def parameters(cls) -> list[dataclasses.Field]:
        return [f for f in dataclasses.fields(cls) if not f.name.startswith("_")]

    @classmethod
    def summary(cls) -> str:
        return (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""

"""LocalLeap: confident anchors relax the threshold for their neighbours."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from dllm.samplers.base import Decision, Sampler, StepInput
from dllm.samplers.registry import register_sampler
from dllm.samplers.threshold import chosen_confidence, most_confident


def near_anchors(anchors: torch.Tensor, radius: int) -> torch.Tensor:
    """Positions within ``radius`` (inclusive) of any anchor, one hop only."""
    kernel = torch.ones(1, 1, 2 * radius + 1, device=anchors.device)
    spread = torch.nn.functional.conv1d(anchors.float()[:, None], kernel, padding=radius)
    return spread[:, 0] > 0


@register_sampler("localleap")
@dataclass
class LocalLeap(Sampler):
    """LocalLeap: masked tokens with confidence >= ``threshold`` (kappa) are anchors; within
    ``radius`` positions of an anchor the bar drops to ``relaxed_threshold`` (tau). Commits
    the best token always, anchors, and relaxed neighbours; equality commits.

    Source: Kong et al., arXiv 2510.07081 (defaults kappa 0.9, tau 0.75, W 4, block 32), rule
    as in the vendored ``llada/generate.py`` of third-party research repos (the official
    repo was not available). Previously committed tokens are not anchors, as there.
    """

    threshold: float = 0.9
    relaxed_threshold: float = 0.75
    radius: int = 4

    def __post_init__(self) -> None:
        if not 0.0 <= self.relaxed_threshold <= self.threshold <= 1.0:
            raise ValueError("localleap needs 0 <= relaxed_threshold <= threshold <= 1, got "
                             f"{self.relaxed_threshold} and {self.threshold}")
        if self.radius < 0:
            raise ValueError(f"radius must be >= 0, got {self.radius}")

    def step(self, inp: StepInput) -> Decision:
        tokens, conf = chosen_confidence(inp)
        anchors = (conf >= self.threshold) & inp.masked
        relaxed = (conf >= self.relaxed_threshold) & near_anchors(anchors, self.radius)
        commit = (anchors | relaxed | most_confident(conf, inp.masked)) & inp.masked
        return Decision(tokens=tokens, commit=commit, confidence=conf)

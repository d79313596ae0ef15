"""Native LLaDA and Dream models and their checkpoint loader."""

from __future__ import annotations

import torch

from dllm.models.dream import DreamConfig, DreamModel
from dllm.models.llada import LLaDAConfig, LLaDAModelLM


def prediction_offset(model: torch.nn.Module) -> int:
    """How many positions a model's logit rows lag the token they score (Dream: 1, LLaDA: 0)."""
    return 1 if getattr(model, "shifted_logits", False) else 0


def aligned_logits(model: torch.nn.Module, logits: torch.Tensor) -> torch.Tensor:
    """Row i becomes the distribution for position i (row 0 keeps itself, as Dream's sampler)."""
    k = prediction_offset(model)
    return logits if k == 0 else torch.cat([logits[:, :k], logits[:, :-k]], dim=1)


__all__ = ["DreamConfig", "DreamModel", "LLaDAConfig", "LLaDAModelLM", "aligned_logits", "prediction_offset"]

"""Sampler registry: ``make_sampler(name, **params)``, ``available_samplers()``."""

from dllm.samplers import (  # noqa: F401  (importing registers the built-ins)
    adablock,
    credit,
    dream_origin,
    entropy,
    factor,
    localleap,
    low_confidence,
    maskgit_plus,
    random_remasking,
    threshold,
    topk_margin,
)
from dllm.samplers.base import BlockProbe, Decision, Sampler, StepInput
from dllm.samplers.registry import available_samplers, make_sampler, register_sampler

__all__ = ["BlockProbe", "Decision", "Sampler", "StepInput", "available_samplers", "make_sampler", "register_sampler"]

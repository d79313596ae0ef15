"""dllm: a fast, tested runtime for diffusion language models (LLaDA, Dream)."""

from dllm.api import DiffusionLM, GenerationResult, load
from dllm.config import GenerationConfig
from dllm.engine import StepState
from dllm.errors import CheckpointError, ConfigError, DllmError
from dllm.samplers import Sampler, available_samplers, make_sampler, register_sampler

__version__ = "0.1.0"
__all__ = [
    "CheckpointError", "ConfigError", "DiffusionLM", "DllmError", "GenerationConfig", "GenerationResult",
    "Sampler", "StepState", "available_samplers", "load", "make_sampler", "register_sampler",
]

"""The Python API: ``lm = dllm.load(...)``, ``lm.generate(...)``, ``lm.stream(...)``."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Sequence

import torch

from dllm.config import GenerationConfig
from dllm.engine import DenoisingEngine, StepState
from dllm.errors import ConfigError
from dllm.models.loader import load_model, read_json, resolve_checkpoint
from dllm.models.tokens import SpecialTokens, load_tokenizer, resolve_special_tokens
from dllm.samplers import Sampler, make_sampler


@dataclass(slots=True)
class GenerationResult:
    """One prompt's output. ``token_ids`` and ``generated_tokens`` stop before the first stop token."""

    text: str
    token_ids: list[int]
    generated_tokens: int
    prompt_tokens: int
    nfe: int
    steps: int
    finish_reason: str  # "stop" (a stop token was generated) or "length"
    wall_s: float = 0.0
    kv_cache_peak_bytes: int = 0  # the batch's stored K/V at its peak (0 without a cache)
    full_nfe: int = 0  # forwards over the whole canvas: all of ``nfe`` without a cache, the refreshes with one
    canvas_ids: list[int] = field(default_factory=list, repr=False)

    @property
    def tokens_per_forward(self) -> float:
        return self.generated_tokens / self.nfe if self.nfe else 0.0


class DiffusionLM:
    """A loaded diffusion LM: ``model`` computes logits, the engine decodes, samplers decide."""

    def __init__(self, model: torch.nn.Module, tokenizer, special: SpecialTokens, name: str, path: Path) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.special = special
        self.name = name
        self.path = path
        self.engine = DenoisingEngine(model, special)

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @property
    def dtype(self) -> torch.dtype:
        return next(self.model.parameters()).dtype

    @property
    def max_length(self) -> int:
        return self.model.max_length

    def encode(self, prompt: str, chat: bool | None = None) -> list[int]:
        """Token ids of a prompt; ``chat=None`` applies the chat template when the tokenizer has one."""
        if not prompt or not prompt.strip():
            raise ConfigError("the prompt is empty; pass some text")
        if chat and not getattr(self.tokenizer, "chat_template", None):
            raise ConfigError(f"{self.name} has no chat template; use chat=False (--no-chat) for a raw prompt")
        return prompt_ids(self.tokenizer, prompt, chat)

    def stream(self, prompts: str | Sequence[str], sampler: str | Sampler = "low_confidence", *, chat: bool | None = None,
               **options) -> Iterator[StepState]:
        """Yield the state after every denoising step (for live views and step hooks)."""
        ids, config, policy = self._prepare(prompts, sampler, chat, options)
        yield from self.engine.denoise(ids, config, policy)

    def generate(self, prompts: str | Sequence[str], sampler: str | Sampler = "low_confidence", *, chat: bool | None = None,
                 on_step: Callable[[StepState], None] | None = None, **options) -> list[GenerationResult]:
        """Decode each prompt; options are ``GenerationConfig`` fields plus the sampler's parameters.

        ``on_step`` is called with every step's state (live views, logging).
        """
        ids, config, policy = self._prepare(prompts, sampler, chat, options)
        return self.generate_ids(ids, config, policy, on_step)

    def generate_ids(self, ids: list[list[int]], config: GenerationConfig, sampler: Sampler,
                     on_step: Callable[[StepState], None] | None = None) -> list[GenerationResult]:
        """Decode already-tokenised prompts with a resolved config (benchmarks use this)."""
        start = time.perf_counter()
        last = None
        for last in self.engine.denoise(ids, config, sampler):
            if on_step is not None:
                on_step(last)
        if self.device.type == "cuda":
            torch.cuda.synchronize()
        wall = time.perf_counter() - start
        return [self._result(ids[r], last, r, wall) for r in range(len(ids))]

    def _prepare(self, prompts, sampler, chat, options) -> tuple[list[list[int]], GenerationConfig, Sampler]:
        prompts = [prompts] if isinstance(prompts, str) else list(prompts)
        if not prompts:
            raise ConfigError("no prompts given; pass at least one prompt")
        config, sampler = resolve_options(sampler, options)
        ids = [self.encode(p, chat) for p in prompts]
        for i, p in enumerate(ids):
            total = len(p) + config.max_new_tokens
            if total > self.max_length:
                raise ConfigError(
                    f"prompt {i + 1} has {len(p)} tokens; with max_new_tokens={config.max_new_tokens} the canvas needs "
                    f"{total} > the model maximum {self.max_length}; shorten the prompt or lower max_new_tokens"
                )
        return ids, config, sampler

    def _result(self, prompt: list[int], state: StepState, row: int, wall: float) -> GenerationResult:
        canvas = state.tokens[row].tolist()
        stops = set(self.special.stop_ids)
        cut = next((i for i, t in enumerate(canvas) if t in stops), None)
        tokens = canvas if cut is None else canvas[:cut]
        return GenerationResult(
            text=self.tokenizer.decode(tokens, skip_special_tokens=True),
            token_ids=tokens,
            generated_tokens=len(tokens),
            prompt_tokens=len(prompt),
            nfe=int(state.nfe[row]),
            steps=int(state.steps[row]),
            finish_reason="length" if cut is None else "stop",
            wall_s=wall,
            kv_cache_peak_bytes=state.kv_cache_peak_bytes,
            full_nfe=int(state.full_nfe[row]),
            canvas_ids=canvas,
        )


def resolve_options(sampler: str | Sampler, options: dict) -> tuple[GenerationConfig, Sampler]:
    """Split keyword options into ``GenerationConfig`` fields and sampler parameters, and check both."""
    config_keys = set(GenerationConfig.__dataclass_fields__)
    config_opts = {k: v for k, v in options.items() if k in config_keys}
    sampler_opts = {k: v for k, v in options.items() if k not in config_keys}
    if isinstance(sampler, str):
        sampler = make_sampler(sampler, **sampler_opts)
    elif sampler_opts:
        raise ConfigError(f"options {sorted(sampler_opts)} apply to a sampler given by name; set them on the Sampler object")
    return GenerationConfig(**config_opts).resolve(sampler.default_block_length), sampler


def load(model: str | Path, dtype: str | torch.dtype = "auto", device: str = "auto", trust_remote_code: bool = False) -> DiffusionLM:
    """Load a LLaDA or Dream checkpoint from a directory, a bundled name or a hub id."""
    path = resolve_checkpoint(str(model))
    net = load_model(path, dtype=dtype, device=device)
    tokenizer = load_tokenizer(path, trust_remote_code=trust_remote_code)
    special = resolve_special_tokens(path, read_json(path / "config.json"), tokenizer)
    return DiffusionLM(net, tokenizer, special, name=str(model), path=path)


def prompt_ids(tokenizer, prompt: str, chat: bool | None = None) -> list[int]:
    """Token ids of one user turn: the chat template with the assistant header when the
    tokenizer has one (or `chat=True`), else the raw text. Training data uses this too, so
    the bundled models see exactly the runtime's prompt layout."""
    if chat or (chat is None and getattr(tokenizer, "chat_template", None)):
        text = tokenizer.apply_chat_template([{"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=True)
        return tokenizer(text, add_special_tokens=False)["input_ids"]
    return tokenizer(prompt)["input_ids"]

"""Generation options, validated once, with every error naming the value and the fix."""

from __future__ import annotations

from dataclasses import dataclass, replace

from dllm.errors import ConfigError


@dataclass(slots=True, frozen=True)
class GenerationConfig:
    """How much to generate and how the canvas is split.

    ``steps`` is the TOTAL number of denoising steps over all blocks (LLaDA's convention);
    block b gets ``steps // num_blocks`` plus one of the remainder when b is among the
    first ``steps % num_blocks`` blocks. ``None`` means one token per step
    (steps = max_new_tokens). ``block_length=None`` takes the sampler's default.
    """

    max_new_tokens: int = 128
    block_length: int | None = None
    steps: int | None = None
    temperature: float = 0.0
    top_p: float | None = None
    top_k: int | None = None
    seed: int | None = None
    early_stop: bool = True
    cache: str = "none"  # KV-cache policy: none, prefix, dual, sparse (dllm.cache)
    cache_args: dict | None = None  # its options, e.g. {"refresh_interval": 4} or {"keep_ratio": 0.5}

    def resolve(self, default_block_length: int | None) -> "GenerationConfig":
        """Fill the defaults and check every value; raises ``ConfigError``."""
        g = self.max_new_tokens
        if not isinstance(g, int) or g < 1:
            raise ConfigError(f"max_new_tokens={g!r} must be a positive integer")
        block = self.block_length
        if block is None:
            block = default_block_length if default_block_length and g % default_block_length == 0 else g
        if block < 1 or g % block:
            raise ConfigError(
                f"block_length={block} does not divide max_new_tokens={g}; pick a divisor of {g} (e.g. {_divisor_near(g, block)})"
            )
        steps = g if self.steps is None else self.steps
        if steps < g // block:
            raise ConfigError(f"steps={steps} is fewer than the {g // block} blocks; use steps >= {g // block} or a longer block_length")
        if self.temperature < 0:
            raise ConfigError(f"temperature={self.temperature} is negative; use 0 for greedy or a positive value to sample")
        if self.top_p is not None and not 0 < self.top_p <= 1:
            raise ConfigError(f"top_p={self.top_p} must be in (0, 1]")
        if self.top_k is not None and self.top_k < 1:
            raise ConfigError(f"top_k={self.top_k} must be >= 1")
        from dllm.cache import make_cache

        make_cache(self.cache, **(self.cache_args or {}))  # refuses unknown names and options
        return replace(self, block_length=block, steps=steps)

    @property
    def num_blocks(self) -> int:
        return self.max_new_tokens // self.block_length

    def steps_per_block(self) -> list[int]:
        n = self.num_blocks
        return [self.steps // n + (b < self.steps % n) for b in range(n)]


def _divisor_near(n: int, target: int) -> int:
    divisors = [d for d in range(1, n + 1) if n % d == 0]
    return min(divisors, key=lambda d: (abs(d - target), -d))

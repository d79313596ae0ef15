"""Fast-dLLM dual cache."""

from __future__ import annotations

from dllm.cache.prefix import PrefixCache


class DualCache(PrefixCache):
    """Fast-dLLM DualCache: like the prefix cache, but the suffix K/V are cached too, so
    later steps feed only the block (the suffix keys stay as of the last refresh).

    Source: Wu et al., "Fast-dLLM" (arXiv 2505.22618), ``generate_with_dual_cache``.
    Deviations as ``PrefixCache`` (post-RoPE keys, batches with padding, Dream fed from one
    column before the block instead of force-committing the block's first token).
    """

    name = "dual"
    upto_canvas_end = False

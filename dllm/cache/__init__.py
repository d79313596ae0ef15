"""KV-cache policies selectable by name: ``none``, ``prefix``, ``dual``, ``sparse``."""

from __future__ import annotations

from dllm.cache.base import CachePolicy, NoCache
from dllm.cache.dual import DualCache
from dllm.cache.prefix import PrefixCache
from dllm.cache.sparse import SparseCache
from dllm.errors import ConfigError

CACHES: dict[str, type[CachePolicy]] = {"none": NoCache, "prefix": PrefixCache, "dual": DualCache, "sparse": SparseCache}


def make_cache(name: str, **params) -> CachePolicy:
    """A fresh policy (policies hold per-generation state); errors name the value and the fix."""
    if name not in CACHES:
        raise ConfigError(f"unknown cache {name!r}; choose one of {', '.join(CACHES)}")
    try:
        return CACHES[name](**params)
    except TypeError:
        import inspect

        allowed = [p for p in inspect.signature(CACHES[name].__init__).parameters if p != "self"]
        raise ConfigError(f"cache {name!r} takes {allowed or 'no options'}, got {sorted(params)}") from None
    except ValueError as exc:
        raise ConfigError(f"cache {name!r}: {exc}") from None


__all__ = ["CACHES", "CachePolicy", "DualCache", "NoCache", "PrefixCache", "SparseCache", "make_cache"]

"""Samplers by name: built-ins register with a decorator, third parties via entry points."""

from __future__ import annotations

import dataclasses
import typing
from importlib.metadata import entry_points

from dllm.errors import ConfigError
from dllm.samplers.base import Sampler

ENTRY_POINT_GROUP = "dllm.samplers"
SAMPLERS: dict[str, type[Sampler]] = {}
_plugins_loaded = False


def register_sampler(name: str):
    """Class decorator: ``@register_sampler("name")`` on a ``Sampler`` dataclass."""

    def wrap(cls: type[Sampler]) -> type[Sampler]:
        if name in SAMPLERS and SAMPLERS[name] is not cls:
            raise ValueError(f"sampler {name!r} is already registered by {SAMPLERS[name].__qualname__}")
        cls.name = name
        SAMPLERS[name] = cls
        return cls

    return wrap


def _load_plugins() -> None:
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        cls = ep.load()
        if not (isinstance(cls, type) and issubclass(cls, Sampler)):
            raise ConfigError(f"entry point {ep.name} = {ep.value} in group {ENTRY_POINT_GROUP} is not a dllm Sampler class")
        if ep.name not in SAMPLERS:
            register_sampler(ep.name)(cls)


def available_samplers() -> dict[str, type[Sampler]]:
    _load_plugins()
    return dict(sorted(SAMPLERS.items()))


def _coerce(cls: type[Sampler], field: dataclasses.Field, value):
    hint = typing.get_type_hints(cls).get(field.name, str)
    kinds = [t for t in typing.get_args(hint) if t is not type(None)] or [hint]
    if value is None and type(None) in typing.get_args(hint):
        return None
    for kind in kinds:
        try:
            if kind is bool:
                if isinstance(value, str):
                    if value.lower() not in ("true", "false", "1", "0", "yes", "no"):
                        continue
                    return value.lower() in ("true", "1", "yes")
                return bool(value)
            if kind in (int, float) and isinstance(value, bool):
                continue
            if kind is int and isinstance(value, float) and not value.is_integer():
                continue
            return kind(value)
        except (TypeError, ValueError):
            continue
    names = " or ".join(getattr(k, "__name__", str(k)) for k in kinds)
    raise ConfigError(f"sampler {cls.name} parameter {field.name}={value!r} is not a valid {names}")


def make_sampler(name: str, **params) -> Sampler:
    """Build the named sampler; unknown names, parameters and bad values raise ``ConfigError``."""
    samplers = available_samplers()
    if name not in samplers:
        raise ConfigError(f"unknown sampler {name!r}; choose one of: {', '.join(samplers)} (see `dllm samplers`)")
    cls = samplers[name]
    fields = {f.name: f for f in cls.parameters()}
    unknown = sorted(set(params) - set(fields))
    if unknown:
        valid = ", ".join(fields) or "none"
        raise ConfigError(f"sampler {name} has no parameter {unknown[0]!r}; its parameters are: {valid}")
    values = {k: _coerce(cls, fields[k], v) for k, v in params.items()}
    try:
        return cls(**values)
    except ValueError as exc:
        raise ConfigError(f"sampler {name}: {exc}") from None

"""Shared fixtures: tiny random checkpoints in the real formats, written once per session."""

from __future__ import annotations

import pytest
import torch

import dllm
from dllm.testing import write_tiny_checkpoint

torch.set_num_threads(2)


@pytest.fixture(scope="session")
def ckpt_dir(tmp_path_factory):
    """``ckpt_dir(family, **kw)`` -> a cached tiny checkpoint directory."""
    cache = {}

    def make(family: str, **kw):
        key = (family, tuple(sorted(kw.items())))
        if key not in cache:
            name = f"{family}-" + "-".join(f"{k}{v}" for k, v in sorted(kw.items()))
            cache[key] = write_tiny_checkpoint(tmp_path_factory.mktemp("ckpt") / name, family, **kw)
        return cache[key]

    return make


@pytest.fixture(scope="session")
def tiny_lm(ckpt_dir):
    """``tiny_lm(family)`` -> a loaded fp32 tiny model on CPU (cached)."""
    cache = {}

    def get(family: str):
        if family not in cache:
            cache[family] = dllm.load(ckpt_dir(family), device="cpu")
        return cache[family]

    return get

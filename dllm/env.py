"""What every results JSON records about where it was measured."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

import torch


def git_commit() -> str:
    """The checkout's commit (``-dirty`` with local changes); an installed copy has no
    checkout, so ``DLLM_GIT_COMMIT`` (set by whoever built it) is used, else "unknown"."""
    if os.environ.get("DLLM_GIT_COMMIT"):
        return os.environ["DLLM_GIT_COMMIT"]
    root = Path(__file__).resolve().parent.parent
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    if out.returncode != 0:
        return "unknown"
    dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True)
    return out.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


def device_name(device: torch.device | str) -> str:
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"cpu ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"


def environment(device: torch.device | str = "cpu", dtype: torch.dtype | None = None, batch_size: int | None = None) -> dict:
    import transformers

    import dllm

    return {
        "dllm": dllm.__version__,
        "git_commit": git_commit(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "python": platform.python_version(),
        "device": device_name(device),
        "dtype": str(dtype).removeprefix("torch.") if dtype is not None else None,
        "batch_size": batch_size,
    }

"""Write checkpoints in the exact Hugging Face layout of LLaDA and Dream.

Used by the tests (tiny random models) and by training scripts that ship trained
weights: config.json, generation_config.json, safetensors (single or sharded with an
index) and the tokenizer files.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import torch
from safetensors.torch import save_file

LLADA_AUTO_MAP = {
    "AutoConfig": "configuration_llada.LLaDAConfig",
    "AutoModel": "modeling_llada.LLaDAModelLM",
    "AutoModelForCausalLM": "modeling_llada.LLaDAModelLM",
}
DREAM_AUTO_MAP = {"AutoConfig": "configuration_dream.DreamConfig", "AutoModel": "modeling_dream.DreamModel"}


def _shards(state: dict[str, torch.Tensor], count: int) -> list[dict[str, torch.Tensor]]:
    names = list(state)
    per = -(-len(names) // count)
    return [{n: state[n] for n in names[i:i + per]} for i in range(0, len(names), per)]


def save_weights(state: dict[str, torch.Tensor], directory: Path, shards: int = 1) -> None:
    """Save tensors as ``model.safetensors`` or ``model-0000i-of-0000n.safetensors`` + index."""
    state = {k: v.detach().contiguous().cpu() for k, v in state.items()}
    if shards <= 1:
        save_file(state, str(directory / "model.safetensors"), metadata={"format": "pt"})
        return
    parts = _shards(state, shards)
    weight_map, total = {}, 0
    for i, part in enumerate(parts, 1):
        name = f"model-{i:05d}-of-{len(parts):05d}.safetensors"
        save_file(part, str(directory / name), metadata={"format": "pt"})
        for key, t in part.items():
            weight_map[key] = name
            total += t.numel() * t.element_size()
    index = {"metadata": {"total_size": total}, "weight_map": weight_map}
    (directory / "model.safetensors.index.json").write_text(json.dumps(index, indent=2))


def _default_permissions(directory: Path) -> None:
    """mkdtemp makes a private (0700) folder; a checkpoint should be readable like any file."""
    umask = os.umask(0)
    os.umask(umask)
    directory.chmod(0o777 & ~umask)
    for path in directory.iterdir():
        path.chmod(0o666 & ~umask)


def write_checkpoint(
    directory: str | Path,
    config: dict,
    state: dict[str, torch.Tensor],
    tokenizer=None,
    generation_config: dict | None = None,
    shards: int = 1,
) -> Path:
    """Write a complete checkpoint atomically: nothing half-written is left on failure."""
    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
    try:
        (staging / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True))
        if generation_config is not None:
            (staging / "generation_config.json").write_text(json.dumps(generation_config, indent=2))
        save_weights(state, staging, shards)
        if tokenizer is not None:
            tokenizer.save_pretrained(str(staging))
            _drop_load_state(staging / "tokenizer_config.json")
        _default_permissions(staging)
        if directory.exists():
            shutil.rmtree(directory)
        staging.rename(directory)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return directory


def _drop_load_state(path: Path) -> None:
    """A tokenizer loaded from disk saves how it was loaded (``is_local``, ``local_files_only``);
    those describe the writer's machine, not the checkpoint."""
    if path.exists():
        config = json.loads(path.read_text())
        dropped = [config.pop(key) for key in ("is_local", "local_files_only") if key in config]
        if dropped:
            path.write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n")

"""Find a checkpoint (directory or hub id), check it tensor by tensor, and build the model."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open

from dllm.errors import CheckpointError
from dllm.models.dream import DreamConfig, DreamModel
from dllm.models.llada import LLaDAConfig, LLaDAModelLM

FAMILIES = {"llada": (LLaDAConfig, LLaDAModelLM), "Dream": (DreamConfig, DreamModel)}
DTYPES = {"float32": torch.float32, "fp32": torch.float32, "bfloat16": torch.bfloat16, "bf16": torch.bfloat16,
          "float16": torch.float16, "fp16": torch.float16, "half": torch.float16, "float": torch.float32}
_STORED_DTYPES = {"F32": torch.float32, "BF16": torch.bfloat16, "F16": torch.float16}
# Tensors a checkpoint may carry that the graph derives itself (tied heads, RoPE tables).
_IGNORABLE_SUFFIXES = ("rotary_emb.inv_freq",)
_HUB_FILES = ["*.json", "*.safetensors", "*.txt", "*.model", "*.jinja", "tokenizer*"]
BUNDLED_DIR = Path(__file__).resolve().parent.parent / "assets"


def resolve_checkpoint(ref: str) -> Path:
    """A local directory, a model bundled with dllm, or a Hugging Face hub id -> local directory."""
    path = Path(ref).expanduser()
    if path.is_dir():
        return path
    if (BUNDLED_DIR / ref).is_dir():
        return BUNDLED_DIR / ref
    if path.exists():
        raise CheckpointError(f"model '{ref}' is a file; pass the checkpoint directory that holds config.json")
    if ref.count("/") != 1 or ref.startswith((".", "/", "~")):
        bundled = ", ".join(sorted(p.name for p in BUNDLED_DIR.glob("*") if p.is_dir())) or "none installed"
        raise CheckpointError(
            f"model '{ref}' not found: not a directory, a bundled model ({bundled}) "
            "or a hub id like 'GSAI-ML/LLaDA-8B-Instruct'; pass --model DIR"
        )
    return _download(ref)


def _download(repo_id: str) -> Path:
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError, RepositoryNotFoundError

    try:
        return Path(snapshot_download(repo_id, allow_patterns=_HUB_FILES))
    except RepositoryNotFoundError:
        raise CheckpointError(f"model '{repo_id}' not found on the Hugging Face hub; check the id or pass a local directory") from None
    except (LocalEntryNotFoundError, HfHubHTTPError, OSError) as exc:
        reason = str(exc).splitlines()[0][:120]
        raise CheckpointError(
            f"could not fetch '{repo_id}' from the Hugging Face hub ({reason}); "
            "download it elsewhere and pass the local directory with --model DIR"
        ) from None


def read_json(path: Path, required: bool = True) -> dict:
    if not path.is_file():
        if required:
            raise CheckpointError(f"{path} is missing; a checkpoint directory needs config.json and safetensors weights")
        return {}
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{path} is not valid JSON ({exc.__class__.__name__}); re-download the checkpoint") from None


def build_model(directory: Path | None, raw_config: dict, device: str = "meta") -> torch.nn.Module:
    """Instantiate the family named by ``model_type`` without allocating weights (on meta)."""
    model_type = raw_config.get("model_type")
    if model_type not in FAMILIES:
        known = ", ".join(FAMILIES)
        where = f" in {directory / 'config.json'}" if directory else ""
        raise CheckpointError(f"unknown model_type {model_type!r}{where}; dllm supports {known}")
    config_cls, model_cls = FAMILIES[model_type]
    with torch.device(device):
        return model_cls(config_cls.from_dict(raw_config))


def _weight_files(directory: Path) -> dict[str, list[str] | None]:
    """{file: tensor names listed by the index, or None when there is no index}."""
    index = directory / "model.safetensors.index.json"
    if index.is_file():
        weight_map = read_json(index).get("weight_map")
        if not isinstance(weight_map, dict):
            raise CheckpointError(f"{index} has no weight_map; re-download the checkpoint")
        files: dict[str, list[str]] = {}
        for name, file in weight_map.items():
            files.setdefault(file, []).append(name)
        for file in files:
            if not (directory / file).is_file():
                raise CheckpointError(f"shard {directory / file} named in {index.name} is missing; re-download the checkpoint")
        return files
    found = sorted(p.name for p in directory.glob("*.safetensors"))
    if not found:
        raise CheckpointError(f"no safetensors weights in {directory}; dllm loads model.safetensors or a sharded index")
    if len(found) > 1 and "model.safetensors" not in found:
        raise CheckpointError(f"{directory} has {len(found)} safetensors files but no model.safetensors.index.json")
    return {("model.safetensors" if "model.safetensors" in found else found[0]): None}


def checkpoint_dtype(directory: Path) -> torch.dtype:
    """The dtype the weights are stored in (what ``dtype='auto'`` follows)."""
    file = next(iter(_weight_files(directory)))
    with _open(directory / file, "cpu") as f:
        names = list(f.keys())
        if not names:
            raise CheckpointError(f"{directory / file} holds no tensors")
        stored = f.get_slice(names[0]).get_dtype()
    if stored not in _STORED_DTYPES:
        raise CheckpointError(f"{directory / file} stores {stored} weights; dllm loads F32, BF16 or F16 checkpoints")
    return _STORED_DTYPES[stored]


def _open(path: Path, device: str):
    try:
        return safe_open(str(path), framework="pt", device=device)
    except (SafetensorError, OSError) as exc:
        raise CheckpointError(f"{path} is not a readable safetensors file ({exc}); it may be truncated, re-download it") from None


def load_weights(model: torch.nn.Module, directory: Path, dtype: torch.dtype, device: str) -> None:
    """Load every tensor by exact name; refuse missing, extra or mis-shaped tensors."""
    expected = {name: tuple(t.shape) for name, t in model.state_dict().items()}
    tied_heads = {"lm_head.weight", "model.transformer.ff_out.weight"} - set(expected)
    state: dict[str, torch.Tensor] = {}
    for file, listed in _weight_files(directory).items():
        with _open(directory / file, "cpu" if device == "meta" else device) as f:
            names = set(f.keys())
            if listed is not None and set(listed) - names:
                missing = sorted(set(listed) - names)[0]
                raise CheckpointError(f"tensor {missing} is listed in the index but absent from {directory / file}")
            for name in names:
                if name.endswith(_IGNORABLE_SUFFIXES) or name in tied_heads:
                    continue
                if name not in expected:
                    raise CheckpointError(f"unexpected tensor {name} in {directory / file}; the config does not describe this checkpoint")
                shape = tuple(f.get_slice(name).get_shape())
                if shape != expected[name]:
                    raise CheckpointError(f"tensor {name} in {directory / file} has shape {list(shape)}, the config implies {list(expected[name])}")
                try:
                    state[name] = f.get_tensor(name).to(dtype)
                except (SafetensorError, RuntimeError) as exc:
                    raise CheckpointError(f"tensor {name} in {directory / file} could not be read ({exc}); the file may be truncated") from None
    missing = sorted(set(expected) - set(state))
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise CheckpointError(f"tensor {missing[0]}{more} missing from the checkpoint in {directory}")
    model.load_state_dict(state, strict=True, assign=True)


def resolve_dtype(dtype: str | torch.dtype, directory: Path) -> torch.dtype:
    if isinstance(dtype, torch.dtype):
        return dtype
    if dtype == "auto":
        return checkpoint_dtype(directory)
    if dtype not in DTYPES:
        raise CheckpointError(f"unknown dtype {dtype!r}; use auto, float32, bfloat16 or float16")
    return DTYPES[dtype]


def resolve_device(device: str) -> str:
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise CheckpointError(f"device {device!r} requested but CUDA is not available; use --device cpu")
    if not (device == "cpu" or device.startswith(("cuda", "mps"))):
        raise CheckpointError(f"unknown device {device!r}; use auto, cpu or cuda[:N]")
    return device


def load_model(directory: Path, dtype: str | torch.dtype = "auto", device: str = "auto") -> torch.nn.Module:
    raw = read_json(directory / "config.json")
    model = build_model(directory, raw)
    device = resolve_device(device)
    load_weights(model, directory, resolve_dtype(dtype, directory), device)
    return model.eval()


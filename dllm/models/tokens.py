"""Tokenizer loading and the special ids (mask, stop, pad) read from the checkpoint."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dllm.errors import CheckpointError
from dllm.models.loader import read_json

# End-of-turn markers of the chat formats in use; looked up in the vocabulary, never by id.
END_OF_TURN_STRINGS = ("<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>")
MASK_STRINGS = ("<|mdm_mask|>", "<|mask|>", "[MASK]", "<mask>")


@dataclass(slots=True, frozen=True)
class SpecialTokens:
    mask_id: int
    stop_ids: tuple[int, ...]  # the first is the EOS that fills a finished row
    pad_id: int
    newline_ids: tuple[int, ...] = ()  # tokens that are only line breaks (AdaBlock's delimiters)

    @property
    def eos_id(self) -> int:
        return self.stop_ids[0]


def load_tokenizer(directory: Path, trust_remote_code: bool = False):
    """AutoTokenizer without remote code; Dream's custom class is the Qwen2 byte-level BPE."""
    from transformers import AutoTokenizer

    tok_config = read_json(directory / "tokenizer_config.json", required=False)
    if tok_config.get("tokenizer_class") == "DreamTokenizer" and not trust_remote_code:
        from transformers import Qwen2TokenizerFast

        return _guarded(lambda: Qwen2TokenizerFast.from_pretrained(str(directory)), directory)
    return _guarded(lambda: AutoTokenizer.from_pretrained(str(directory), trust_remote_code=trust_remote_code), directory)


def _guarded(make, directory: Path):
    import warnings

    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # transformers warns that it does not know model_type llada/Dream
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return make()
    except (OSError, ValueError, TypeError) as exc:
        reason = str(exc).splitlines()[0][:160] if str(exc) else exc.__class__.__name__
        raise CheckpointError(f"could not load the tokenizer in {directory} ({reason}); it needs tokenizer.json or vocab files") from None
    finally:
        hf_logging.set_verbosity(verbosity)


def _ids(value) -> list[int]:
    if value is None:
        return []
    return [int(v) for v in value] if isinstance(value, (list, tuple)) else [int(value)]


def _vocab_id(tokenizer, text: str) -> int | None:
    found = tokenizer.convert_tokens_to_ids(text)
    return None if found is None or found == tokenizer.unk_token_id else int(found)


def resolve_special_tokens(directory: Path, config: dict, tokenizer) -> SpecialTokens:
    """Mask, stop and pad ids from config.json, generation_config.json and the tokenizer."""
    gen = read_json(directory / "generation_config.json", required=False)
    mask = next(iter(_ids(config.get("mask_token_id")) + _ids(gen.get("mask_token_id"))), None)
    if mask is None and tokenizer.mask_token_id is not None:
        mask = tokenizer.mask_token_id
    if mask is None:
        mask = next((i for s in MASK_STRINGS if (i := _vocab_id(tokenizer, s)) is not None), None)
    if mask is None:
        raise CheckpointError(f"no mask token id in {directory}; set mask_token_id in config.json")
    stops: list[int] = []
    for i in _ids(config.get("eos_token_id")) + _ids(gen.get("eos_token_id")) + _ids(tokenizer.eos_token_id):
        if i not in stops:
            stops.append(i)
    for s in END_OF_TURN_STRINGS:
        i = _vocab_id(tokenizer, s)
        if i is not None and i not in stops:
            stops.append(i)
    if not stops:
        raise CheckpointError(f"no EOS token id in {directory}; set eos_token_id in config.json")
    pads = _ids(config.get("pad_token_id")) + _ids(tokenizer.pad_token_id) + [stops[0]]
    pad = next((p for p in pads if p != mask), stops[0])
    if mask in stops:
        raise CheckpointError(f"mask token id {mask} is also an EOS id in {directory}; fix mask_token_id in config.json")
    return SpecialTokens(mask_id=int(mask), stop_ids=tuple(stops), pad_id=int(pad), newline_ids=newline_ids(tokenizer))


def newline_ids(tokenizer) -> tuple[int, ...]:
    """Ids whose text is one or more line breaks, possibly with spaces or tabs around them
    ("\n", "\n\n", " \n"), found in the vocabulary (byte-level "Ċ" or SentencePiece
    "<0x0A>" spellings) rather than hard-coded per model."""
    found = []
    for piece, i in tokenizer.get_vocab().items():
        text = piece.replace("Ċ", "\n").replace("Ġ", " ").replace("ĉ", "\t").replace("<0x0A>", "\n")
        if "\n" in text and not text.strip(" \t\n▁"):
            found.append(int(i))
    return tuple(sorted(found))

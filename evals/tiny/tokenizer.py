"""Byte-level BPE for the tiny models, trained with `tokenizers` on the synthetic suite.

Digits are split one per token (LLaMA-style `Digits(individual_digits=True)`) so that
arithmetic answers have a fixed, position-per-digit layout; everything else follows the
GPT-2 byte-level scheme. Each family gets the special tokens and chat template of its
real checkpoint (LLaDA: `<|mdm_mask|>`, `<|eot_id|>`, header tokens; Dream: `<|mask|>`,
ChatML), so the runtime resolves mask, stop and pad ids exactly as for the 8B/7B models.
"""

from __future__ import annotations

from collections.abc import Iterable

from dllm.testing import CHATML_TEMPLATE, DREAM_SPECIALS, LLADA_CHAT_TEMPLATE, LLADA_SPECIALS

# Bos/eos/pad/mask names and chat template per family, as in the released tokenizers.
FAMILY_TOKENS = {
    "llada": dict(specials=LLADA_SPECIALS, bos_token="<|startoftext|>", eos_token="<|endoftext|>",
                  pad_token="<|endoftext|>", mask_token="<|mdm_mask|>", eot_token="<|eot_id|>",
                  chat_template=LLADA_CHAT_TEMPLATE),
    "dream": dict(specials=DREAM_SPECIALS, bos_token="<|beginoftext|>", eos_token="<|endoftext|>",
                  pad_token="<|endoftext|>", mask_token="<|mask|>", eot_token="<|im_end|>",
                  chat_template=CHATML_TEMPLATE),
}


def train_tokenizer(family: str, texts: Iterable[str], vocab_size: int = 1024):
    """A `PreTrainedTokenizerFast` of exactly `vocab_size` entries (specials included)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    spec = FAMILY_TOKENS[family]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
    ])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, min_frequency=2, special_tokens=list(spec["specials"]),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token=spec["bos_token"], eos_token=spec["eos_token"],
        pad_token=spec["pad_token"], mask_token=spec["mask_token"], chat_template=spec["chat_template"],
    )

"""The repeat-suppression diagnostic (evals/tiny/repeats.py) masks and sums what it says."""

from __future__ import annotations

import torch

from dllm.evals.tiny.repeats import repeat_canvases, repeat_mass
from mock import MockModel

MASK = 99


def test_repeat_canvases_mask_every_name_then_show_only_the_chosen_pairs():
    answer = [1, 10, 20, 2, 1, 11, 21, 2, 1, 12, 22, 2]
    hidden, shown = repeat_canvases(answer, [(1, 2), (5, 6), (9, 10)], {1}, MASK)
    assert hidden == [1, MASK, MASK, 2, 1, MASK, MASK, 2, 1, MASK, MASK, 2]
    assert shown == [1, MASK, MASK, 2, 1, 11, 21, 2, 1, MASK, MASK, 2]


def prompt_names(vocab: int, mask_id: int, first: set[int], prompt_end: int, skip_written: bool):
    """Rule for a same-position mock: a masked position puts its mass evenly on the prompt's
    first names (the prompt ends with the token `prompt_end`), leaving out, when `skip_written`,
    those the answer already holds."""

    def rule(ids: torch.Tensor, position: int) -> torch.Tensor:
        row, out = ids.tolist(), torch.zeros(vocab)
        if row[position] != mask_id:
            return out
        start = len(row) - row[::-1].index(prompt_end)
        written = {t for t in row[start:] if t in first}
        for t in set(row[:start]) & first:
            if not (skip_written and t in written):
                out[t] = 30.0
        return out

    return rule


def test_a_model_that_skips_written_names_has_no_repeat_mass_and_one_that_ignores_them_has_the_same():
    import dllm
    from dllm.evals.tiny.recall import name_token_ids

    lm = dllm.load("tiny-llada", dtype="float32", device="cpu")
    vocab, first = len(lm.tokenizer), set(name_token_ids(lm.tokenizer)[0])
    end = lm.encode("shuffle: []")[-1]  # the chat template's last token
    lm.model = MockModel(prompt_names(vocab, lm.special.mask_id, first, end, skip_written=True), vocab=vocab)
    bookkeeper = repeat_mass(lm, ["shuffle"], limit=3)["shuffle"]
    assert bookkeeper["revealed"] == 0.0 and bookkeeper["hidden"] > 20.0 and bookkeeper["slots"] > 0
    lm.model = MockModel(prompt_names(vocab, lm.special.mask_id, first, end, skip_written=False), vocab=vocab)
    blind = repeat_mass(lm, ["shuffle"], limit=3)["shuffle"]
    assert blind["revealed"] == blind["hidden"] == bookkeeper["hidden"]

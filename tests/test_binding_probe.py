"""The pair-binding diagnostic (evals/tiny/binding.py) masks and scores what it says."""

from __future__ import annotations

import torch

from dllm.evals.tiny.binding import CONDITIONS, binding_scores, name_pairs, probe_rows
from mock import MockModel

MASK = 99


def test_name_pairs_find_adjacent_first_last_tokens():
    first, last = {10, 11}, {20, 21}
    # ["A X", "B Y"] with quotes as 1, 2: only first-then-last neighbours pair up
    answer = [1, 10, 20, 2, 1, 11, 21, 2, 20, 10]
    assert name_pairs(answer, first, last) == [(1, 2), (5, 6)]


def test_probe_rows_reveal_only_the_scored_names_partner():
    answer = [1, 10, 20, 2, 1, 11, 21, 2]
    names = {1, 2, 5, 6}
    rows = probe_rows(answer, [(1, 2), (5, 6)], MASK)
    assert len(rows) == 7
    hidden, scored = rows[0]
    assert all(hidden[i] == MASK for i in names)
    assert sorted(scored) == [("first|none", 1), ("first|none", 5), ("last|none", 2), ("last|none", 6)]
    seen = []
    for ids, [(condition, pos)] in rows[1:5]:
        partner = pos - 1 if condition == "last|first" else pos + 1
        assert ids[pos] == MASK and [i for i in names if ids[i] != MASK] == [partner]
        assert ids[partner] == answer[partner]
        seen.append(condition)
    assert sorted(seen) == ["first|last"] * 2 + ["last|first"] * 2
    (first_half, first_scored), (last_half, last_scored) = rows[5:]
    assert first_half == [1, MASK, 20, 2, 1, MASK, 21, 2] and first_scored == [("first|all last", 1), ("first|all last", 5)]
    assert last_half == [1, 10, MASK, 2, 1, 11, MASK, 2] and last_scored == [("last|all first", 2), ("last|all first", 6)]
    for ids, _ in rows:
        assert [ids[i] for i in range(len(ids)) if i not in names] == [1, 2, 1, 2]
    assert {c for _, scored in rows for c, _ in scored} == set(CONDITIONS)


def binder(vocab: int, mask_id: int, first: set[int]):
    """Rule for a same-position mock: a masked position right after a revealed first name
    gets the token that follows that first name earliest in the row (the prompt); anything
    else gets token 0."""

    def rule(ids: torch.Tensor, position: int) -> torch.Tensor:
        row, out = ids.tolist(), torch.zeros(vocab)
        out[0] = 1.0
        if position > 0 and row[position] == mask_id and row[position - 1] in first:
            k = row.index(row[position - 1])
            if k < position - 1:
                out[row[k + 1]] = 2.0
        return out

    return rule


def test_a_model_that_binds_forward_scores_only_on_last_given_first():
    import dllm
    from dllm.evals.tiny.recall import name_token_ids

    lm = dllm.load("tiny-llada", dtype="float32", device="cpu")
    vocab = len(lm.tokenizer)
    lm.model = MockModel(binder(vocab, lm.special.mask_id, set(name_token_ids(lm.tokenizer)[0])), vocab=vocab)
    scores = binding_scores(lm, ["copy", "sort"], limit=3)
    for task in ("copy", "sort"):
        assert scores[task]["last|first"] == scores[task]["last|all first"] == 100.0
        assert scores[task]["last|none"] == scores[task]["first|none"] == scores[task]["first|last"] == 0.0
        assert scores[task]["first|all last"] == 0.0

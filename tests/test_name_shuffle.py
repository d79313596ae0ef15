"""The name-shuffle task (evals/tiny/name_shuffle.py): valid pairs, and a probe that tells bookkeeping apart."""

from __future__ import annotations

import random

import pytest

from dllm.evals.synthetic.base import parse_list
from dllm.evals.tiny.name_shuffle import name_shuffle_pair, parse_args, suppression
from mock import MockModel
from test_repeat_probe import prompt_names


def test_pairs_are_permutations_of_distinct_first_names_that_differ_from_the_input():
    rng = random.Random(0)
    for _ in range(50):
        prompt, answer = name_shuffle_pair(rng, (6, 10))
        items, perm = parse_list(prompt.split(": ", 1)[1]), parse_list(answer)
        assert 6 <= len(items) <= 10 and len(set(items)) == len(items)
        assert sorted(perm) == sorted(items) and perm != items
        assert all(" " not in name for name in items)


def test_probe_reads_zero_for_a_bookkeeper_and_the_masked_mass_for_a_blind_model():
    import dllm
    from dllm.evals.tiny.recall import name_token_ids

    lm = dllm.load("tiny-llada", dtype="float32", device="cpu")
    vocab, first = len(lm.tokenizer), set(name_token_ids(lm.tokenizer)[0])
    end = lm.encode("shuffle: []")[-1]
    lm.model = MockModel(prompt_names(vocab, lm.special.mask_id, first, end, skip_written=True), vocab=vocab)
    written, masked = suppression(lm, n_names=6, limit=3)
    assert written == 0.0 and masked == pytest.approx(50.0, abs=0.5)  # 3 of 6 names shown
    lm.model = MockModel(prompt_names(vocab, lm.special.mask_id, first, end, skip_written=False), vocab=vocab)
    assert suppression(lm, n_names=6, limit=3) == (masked, masked)


@pytest.mark.parametrize("argv, needle", [(["--share", "0"], "--share 0.0"), (["--lengths", "9", "3"], "--lengths 9 3"),
                                          (["--steps", "0"], "--steps 0")])
def test_bad_options_get_a_one_line_error(argv, needle, capsys):
    with pytest.raises(SystemExit) as exit_:
        parse_args(["--init-from", "x", "--out", "y", *argv])
    assert exit_.value.code == 2 and needle in capsys.readouterr().err

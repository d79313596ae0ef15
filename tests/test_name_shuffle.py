"""The name-shuffle task (evals/tiny/name_shuffle.py): valid pairs, and a probe that tells bookkeeping apart."""

from __future__ import annotations

import random

import pytest

import dllm

from dllm.evals.synthetic.base import parse_list
from dllm.evals.tiny.name_shuffle import name_replace_pair, name_shuffle_pair, parse_args, suppression
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


def test_replace_pairs_swap_exactly_one_name_for_a_new_first_name():
    rng = random.Random(0)
    for _ in range(50):
        prompt, answer = name_replace_pair(rng, (6, 10))
        head, listed = prompt.split(": ", 1)
        items, got, new = parse_list(listed), parse_list(answer), head.split('"')[1]
        assert head.startswith("replace any one with") and new not in items and len(got) == len(items)
        assert [i for i in range(len(items)) if got[i] != items[i]] == [got.index(new)]


def test_probe_reads_zero_for_a_bookkeeper_and_the_masked_mass_for_a_blind_model():
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
                                          (["--steps", "0"], "--steps 0"),
                                          (["--replace-share", "1"], "--replace-share 1.0")])
def test_bad_options_get_a_one_line_error(argv, needle, capsys):
    with pytest.raises(SystemExit) as exit_:
        parse_args(["--init-from", "x", "--out", "y", *argv])
    assert exit_.value.code == 2 and needle in capsys.readouterr().err


def test_schedule_lists_name_shuffle_as_a_training_only_task():
    from dllm.evals.tiny.schedule import all_tasks, eval_tasks, parse_schedule

    phases = parse_schedule(["copy,name_shuffle,mqar:diffusion:5", "name_shuffle:diffusion:3"])
    assert phases[0].tasks == ("copy", "name_shuffle", "mqar") and phases[0].suite_tasks == ("copy", "name_shuffle")
    assert all_tasks(phases) == ["copy", "name_shuffle"] and eval_tasks(phases) == ["copy"]
    assert eval_tasks(phases[1:]) == []


def test_train_draws_name_shuffles_and_probes_only_the_suite(tmp_path, monkeypatch):
    import json

    from dllm.evals.tiny import train as train_module

    seen = []
    real = train_module.diffusion_loss
    monkeypatch.setattr(train_module, "diffusion_loss", lambda model, batch, *a, **k: seen.append(batch) or real(model, batch, *a, **k))
    out = tmp_path / "m"
    args = train_module.parse_args(["--family", "llada", "--out", str(out), "--n-per-task", "4", "--d-model", "32",
                                    "--layers", "1", "--heads", "2", "--mlp", "48", "--token-budget", "512",
                                    "--probe-every", "2", "--probe-n", "2", "--task-weight", "name_shuffle=50",
                                    "--task-weight", "name_replace=50",
                                    "--schedule", "copy,name_shuffle:diffusion:2", "name_shuffle,name_replace:diffusion:2"])
    train_module.train(args)
    tok = dllm.load(str(out), device="cpu").tokenizer
    prompts = [tok.decode(row[mask]) for b in seen for row, mask in zip(b.input_ids, b.attention_mask & ~b.answer_region)]
    shuffles = [p for p in prompts if "shuffle: [" in p]
    replaces = [p for p in prompts if "replace any one with" in p]
    assert len(seen) == 4 and shuffles and replaces and all(6 <= p.count('"') // 2 <= 10 for p in shuffles)
    probes = json.loads((out / "training.json").read_text())["probes"]
    assert [p["step"] for p in probes] == [2, 4] and all(set(p["accuracy"]) == {"copy", "mean"} for p in probes)

"""The decode-order diagnostic (evals/tiny/order.py) times and checks name pairs as it says."""

from __future__ import annotations

import json

import torch

import pytest

from dllm.evals.tiny.order import PairOrder, commit_steps, main, order_summary, pair_orders, prompt_pairs

FIRST, LAST = {10, 11, 12}, {20, 21, 22}


def test_prompt_pairs_are_adjacent_first_then_last_tokens():
    assert prompt_pairs([1, 10, 20, 2, 1, 11, 21, 2, 22, 12], FIRST, LAST) == {(10, 20), (11, 21)}


def test_pair_orders_compare_commit_steps_and_check_the_prompt():
    prompt = [1, 10, 20, 2, 1, 11, 21, 2]
    output = [1, 11, 20, 2, 1, 10, 20, 2]  # a broken pair ("11 20"), then an intact one
    steps = [0, 5, 3, 1, 2, 4, 6, 7]  # the first pair's last name came first, the second's after
    assert pair_orders(output, steps, prompt, FIRST, LAST) == [PairOrder(True, False), PairOrder(False, True)]
    tie = pair_orders(output, [0, 2, 2, 0, 0, 1, 1, 0], prompt, FIRST, LAST)
    assert [o.last_first for o in tie] == [False, False]  # one step committed both: first name first


def test_commit_steps_take_the_first_step_each_position_is_on():
    history = [torch.tensor([[0, 1, 0], [1, 0, 0]]), torch.tensor([[1, 1, 0], [1, 0, 1]]),
               torch.tensor([[1, 1, 1], [1, 1, 1]])]
    history = [h.bool() for h in history]
    assert commit_steps(history, 0, 3) == [1, 0, 2]
    assert commit_steps(history, 1, 2) == [0, 2]


def test_order_summary_splits_intact_share_by_order():
    orders = [PairOrder(True, False), PairOrder(True, True), PairOrder(False, True), PairOrder(True, False)]
    assert order_summary(orders) == {"pairs": 4, "last_first_share": 75.0, "intact_first_first": 100.0,
                                     "intact_last_first": 33.3}
    assert order_summary([]) == {"pairs": 0, "last_first_share": 0.0, "intact_first_first": None,
                                 "intact_last_first": None}


def test_cli_decodes_the_bundled_model_and_ends_with_json(capsys):
    main(["--models", "tiny-llada", "--tasks", "copy", "--limit", "4"])
    lines = capsys.readouterr().out.strip().splitlines()
    result = json.loads(lines[-1])
    summary = result["decode_order"]["tiny-llada"]["copy"]
    assert result["limit"] == 4 and result["tokens_per_step"] == 1 and result["env"]["batch_size"] == 16
    assert {"torch", "transformers", "device", "dtype", "git_commit"} <= set(result["env"])
    assert summary["pairs"] >= 12 and 0.0 <= summary["last_first_share"] <= 100.0  # lists of 3-6 names
    assert lines[0].startswith("tiny-llada copy:")


@pytest.mark.parametrize("flag", ["--limit", "--tokens-per-step", "--batch-size"])
def test_cli_refuses_a_count_below_one(flag, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--models", "tiny-llada", flag, "0"])
    assert stop.value.code == 2 and f"{flag} 0: need a positive count" in capsys.readouterr().err

"""Tests for the offline synthetic task suite (dllm.evals.synthetic)."""

from __future__ import annotations

import json
import math

import pytest

from dllm.evals.synthetic import (
    GROUPS, TASKS, Instance, format_list, get_tasks, ideal_shuffle_accuracy, make_corpus,
    parse_list, shuffle_one_step_accuracy, suite_names,
)
from dllm.evals.synthetic.base import key_split
from dllm.evals.synthetic.list_ops import LIST_OPS
from dllm.evals.synthetic.long_lists import ANSWER_CHARS, LONG_LENGTHS
from dllm.evals.synthetic.pools import FIRST_NAMES, LAST_NAMES

N = 100
ALL = suite_names()
LIST_TASKS = [c.name for c in LIST_OPS] + ["long_copy", "long_reverse"]


def _test(name: str, n: int = N) -> list[Instance]:
    return TASKS[name].generate(n, "test")


def test_registry_and_groups():
    assert len(ALL) == 16 and len(set(ALL)) == 16
    assert set(GROUPS["list_ops"]) == {
        "copy", "reverse", "sort", "shuffle", "insert_index", "insert_random",
        "remove_index", "remove_random", "replace_index", "replace_random"}
    assert GROUPS["long"] == ("long_copy", "long_reverse") and GROUPS["arith"] == ("add", "sub")
    assert [t.name for t in get_tasks(["arith", "add", "latin_square"])] == ["add", "sub", "latin_square"]
    assert [t.name for t in get_tasks(None)] == ALL
    with pytest.raises(KeyError):
        get_tasks(["nope"])
    with pytest.raises(ValueError):
        TASKS["copy"].generate(1, "valid")


def test_pools_distinct_and_disjoint():
    assert len(set(FIRST_NAMES)) == len(FIRST_NAMES) >= 50
    assert len(set(LAST_NAMES)) == len(LAST_NAMES) >= 50
    assert not set(FIRST_NAMES) & set(LAST_NAMES)
    assert all(n.isascii() and n.isalpha() for n in FIRST_NAMES + LAST_NAMES)


@pytest.mark.parametrize("name", ALL)
def test_deterministic_and_prefix_stable(name):
    a, b = TASKS[name].generate(20, "test"), type(TASKS[name])().generate(20, "test")
    assert a == b
    assert TASKS[name].generate(10, "test") == a[:10]
    assert TASKS[name].generate(5, "train") == type(TASKS[name])().generate(5, "train")


@pytest.mark.parametrize("name", ALL)
def test_train_test_disjoint(name):
    task = TASKS[name]
    test, train = task.generate(N, "test"), task.generate(300, "train")
    assert not {i.prompt for i in test} & {i.prompt for i in train}
    # By construction: the content keys (e.g. name sets, operand pairs) never cross.
    assert all(key_split(task.content_key(i)) == "test" for i in test)
    assert not {task.content_key(i) for i in test} & {task.content_key(i) for i in train}
    assert len({i.prompt for i in test}) == N  # distinct within a split


@pytest.mark.parametrize("name", ALL)
def test_reference_scores_one(name):
    task = TASKS[name]
    for inst in task.generate(N, "test"):
        assert inst.task == name
        assert task.score(inst, inst.answer) == 1.0, inst
        # meta survives a JSON round trip and still scores (runs may store instances).
        rt = Instance(**json.loads(json.dumps({"task": inst.task, "prompt": inst.prompt,
                                               "answer": inst.answer, "meta": inst.meta})))
        assert task.score(rt, inst.answer) == 1.0


@pytest.mark.parametrize("name", ALL)
def test_garbage_scores_zero(name):
    task = TASKS[name]
    for inst in task.generate(10, "test"):
        assert task.score(inst, "") == 0.0
        assert task.score(inst, "I don't know") == 0.0


@pytest.mark.parametrize("name", LIST_TASKS)
def test_names_distinct_within_list(name):
    for inst in _test(name):
        names = inst.meta["input"] + ([inst.meta["new"]] if "new" in inst.meta else [])
        assert len(set(names)) == len(names)
        if name in GROUPS["list_ops"]:
            assert 3 <= len(inst.meta["input"]) <= 6
            firsts, lasts = zip(*(n.split(" ") for n in names))
            assert len(set(firsts)) == len(set(lasts)) == len(names)
    counts = [len(i.meta["input"]) for i in _test("copy")]
    assert {n: counts.count(n) for n in range(3, 7)} == {3: 25, 4: 25, 5: 25, 6: 25}


def test_parse_list_lenient():
    assert parse_list('["Ann Lee", "Bo Park"]') == ["Ann Lee", "Bo Park"]
    assert parse_list('sure: [Ann Lee,Bo Park ]  trailing') == ["Ann Lee", "Bo Park"]
    assert parse_list("first [\"X\"] then ['Ann Lee', 'Bo Park']") == ["Ann Lee", "Bo Park"]  # last [
    assert parse_list('["Ann Lee", "Bo Park"') == ["Ann Lee", "Bo Park"]  # truncated
    assert parse_list("[]") == [] and parse_list("no list") is None
    items = ["Ann Lee", "Bo Park", "Cy Diaz"]
    assert format_list(items) == '["Ann Lee", "Bo Park", "Cy Diaz"]'
    assert parse_list(format_list(items)) == items


def test_sort_by_named_key():
    keys = set()
    for inst in _test("sort"):
        key = inst.meta["key"]
        keys.add(key)
        assert f"sort by {key} name" in inst.prompt
        out = parse_list(inst.answer)
        part = 0 if key == "first" else 1
        assert [n.split(" ")[part] for n in out] == sorted(n.split(" ")[part] for n in out)
        assert sorted(out) == sorted(inst.meta["input"])
    assert keys == {"first", "last"}
    inst = Instance("sort", 'sort by last name: ["Ann Lee", "Bo Diaz", "Cy Park"]',
                    '["Bo Diaz", "Ann Lee", "Cy Park"]', {"input": ["Ann Lee", "Bo Diaz", "Cy Park"], "key": "last"})
    # The whole-string sort (ParallelBench v1's reference) is wrong for "by last name".
    assert TASKS["sort"].score(inst, format_list(sorted(inst.meta["input"]))) == 0.0


def _inst(task, items, **meta):
    return Instance(task, "", "", {"input": items, **meta})


def test_random_op_validity_metrics():
    abc = ["Ann Lee", "Bo Park", "Cy Diaz"]
    sh, ins, rem, rep = (TASKS[n] for n in ("shuffle", "insert_random", "remove_random", "replace_random"))
    assert sh.score(_inst("shuffle", abc), format_list(abc)) == 0.0  # identity is not a shuffle
    assert sh.score(_inst("shuffle", abc), format_list(abc[::-1])) == 1.0
    assert sh.score(_inst("shuffle", abc), format_list(["Bo Park", "Ann Lee", "Ann Lee"])) == 0.0
    assert sh.score(_inst("shuffle", abc), format_list(["Ann Park", "Bo Lee", "Cy Diaz"])) == 0.0  # swapped parts
    i = _inst("insert_random", abc, new="Dee Fox")
    assert ins.score(i, format_list(["Ann Lee", "Dee Fox", "Bo Park", "Cy Diaz"])) == 1.0
    assert ins.score(i, format_list(["Bo Park", "Dee Fox", "Ann Lee", "Cy Diaz"])) == 0.0
    assert ins.score(i, format_list(abc)) == 0.0
    r = _inst("remove_random", abc)
    assert rem.score(r, format_list(["Ann Lee", "Cy Diaz"])) == 1.0
    assert rem.score(r, format_list(["Cy Diaz", "Ann Lee"])) == 0.0  # order changed
    assert rem.score(r, format_list(["Ann Lee"])) == 0.0
    p = _inst("replace_random", abc, new="Dee Fox")
    assert rep.score(p, format_list(["Ann Lee", "Bo Park", "Dee Fox"])) == 1.0
    assert rep.score(p, format_list(["Dee Fox", "Dee Fox", "Cy Diaz"])) == 0.0
    assert rep.score(p, format_list(["Bo Park", "Dee Fox", "Cy Diaz"])) == 0.0
    assert rep.score(p, format_list(abc)) == 0.0


@pytest.mark.parametrize("name", ["copy", "reverse", "insert_index", "remove_index", "replace_index", "long_reverse"])
def test_exact_ops_reject_wrong_order(name):
    for inst in _test(name, 20):
        out = parse_list(inst.answer)
        wrong = out[1:] + out[:1]  # rotation: same items, wrong order
        assert TASKS[name].score(inst, format_list(wrong)) == 0.0
        assert TASKS[name].score(inst, "Answer: " + inst.answer + " done") == 1.0  # lenient


def test_index_ops_are_one_based():
    for inst in _test("insert_index", 30):
        assert parse_list(inst.answer)[inst.meta["position"] - 1] == inst.meta["new"]
    for inst in _test("replace_index", 30):
        assert parse_list(inst.answer)[inst.meta["position"] - 1] == inst.meta["new"]
    for inst in _test("remove_index", 30):
        assert inst.meta["input"][inst.meta["position"] - 1] not in parse_list(inst.answer)


@pytest.mark.parametrize("name", ["long_copy", "long_reverse"])
def test_long_answer_length(name):
    lo, hi = ANSWER_CHARS
    for inst in _test(name):
        assert LONG_LENGTHS[0] <= len(inst.meta["input"]) <= LONG_LENGTHS[-1]
        assert lo <= len(inst.answer) <= hi, len(inst.answer)
        firsts, lasts = zip(*(name.split() for name in inst.meta["input"]))
        assert len(set(firsts)) == len(firsts) and len(set(lasts)) == len(lasts)


def test_arith():
    for name, op in (("add", int.__add__), ("sub", int.__sub__)):
        for inst in _test(name):
            a, b = inst.meta["a"], inst.meta["b"]
            assert 10 <= a <= 9999 and 10 <= b <= 9999 and op(a, b) >= 0
            # Fixed width, zero-padded: digit places line up between operands and answer.
            symbol = "+" if name == "add" else "-"
            assert inst.prompt == f"{name}: {a:04d} {symbol} {b:04d}"
            assert inst.answer == f"{op(a, b):0{5 if name == 'add' else 4}d}"
            assert TASKS[name].score(inst, str(op(a, b) + 1)) == 0.0
            assert TASKS[name].score(inst, f" {op(a, b)}\n") == 1.0


def test_latin_square_metric():
    task = TASKS["latin_square"]
    inst = Instance("latin_square", "latin square: A, B, C, D", "", {"symbols": ["A", "B", "C", "D"]})
    good = "A,B,C,D\nB,C,D,A\nC,D,A,B\nD,A,B,C"
    assert task.score(inst, good) == 1.0
    assert task.score(inst, "Here:\n" + good.replace(",", ", ") + "\nend") == 1.0  # lenient lines/spaces
    assert task.score(inst, "A,B,C,D\nB,A,D,C\nC,D,A,B\nB,C,D,A") == 0.0  # repeated B in column 0
    assert task.score(inst, "A,B,C,D\nB,C,D,A\nC,D,A,B") == 0.0  # three rows
    assert task.score(inst, "A,B,C,D\nB,C,D,A\nC,D,A,B\nD,A,B,E") == 0.0  # foreign symbol
    for i in _test("latin_square", 20):
        assert len(set(i.meta["symbols"])) == 4
        rows = [r.split(",") for r in i.answer.splitlines()]
        assert rows[0] == i.meta["symbols"] and rows[1] == i.meta["symbols"][1:] + i.meta["symbols"][:1]
        assert task.score(i, i.answer) == 1.0  # the cyclic reference is itself valid


def test_json_record_metric():
    task = TASKS["json_record"]
    for inst in _test("json_record", 20):
        rec = inst.meta["record"]
        assert list(json.loads(inst.answer)) == list(rec)  # keys in the stated order
        assert inst.prompt.startswith("json keys " + ", ".join(rec) + ":")
        flag = next(k for k, v in rec.items() if isinstance(v, bool))
        assert task.score(inst, json.dumps({**rec, "age": rec["age"] + 1})) == 0.0  # wrong value
        assert task.score(inst, json.dumps({**rec, flag: int(rec[flag])})) == 0.0  # 1 is not true
        assert task.score(inst, json.dumps({**rec, "age": float(rec["age"])})) == 0.0
        assert task.score(inst, json.dumps({k: rec[k] for k in reversed(rec)})) == 1.0  # order not scored
        assert task.score(inst, inst.answer[:-1]) == 0.0  # does not parse


def test_make_corpus():
    corpus = make_corpus(3, names=["list_ops", "add"])
    assert len(corpus) == 33 and {i.task for i in corpus} == set(GROUPS["list_ops"]) | {"add"}
    assert corpus == make_corpus(3, names=["list_ops", "add"])
    grouped = make_corpus(2, names=["arith"], seed=None)
    assert [i.task for i in grouped] == ["add", "add", "sub", "sub"]


def test_ideal_shuffle_accuracy():
    assert shuffle_one_step_accuracy(3) == pytest.approx(6 / 27)  # 22.2 %
    assert ideal_shuffle_accuracy(6) == pytest.approx(math.factorial(6) / 6**6)  # 1.5 %
    assert ideal_shuffle_accuracy(6, 2) == pytest.approx(0.3125)  # (n-1)!!/n!!
    assert ideal_shuffle_accuracy(6, 3) == pytest.approx(120 / 216 * 6 / 27)  # 12.3 %
    assert ideal_shuffle_accuracy(5, 1) == 1.0
    assert ideal_shuffle_accuracy(15, 15) == pytest.approx(shuffle_one_step_accuracy(15))

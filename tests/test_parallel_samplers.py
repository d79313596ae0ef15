"""Parallel samplers (Fast-dLLM threshold and factor): spec vectors and loop invariants."""

import math

import pytest
import torch

from dllm.config import GenerationConfig
from dllm.engine import DenoisingEngine
from dllm.samplers import make_sampler
from dllm.samplers.factor import factor_counts
from mock import EOS, MASK, SPECIAL, MockModel, one_hot_rule
from test_samplers import step_input


def logits_with_confidence(confidences, vocab=32):
    """One row whose position i picks token i+1 with probability confidences[i]."""
    rows = []
    for i, c in enumerate(confidences):
        p = torch.full((vocab,), (1 - c) / (vocab - 1), dtype=torch.float64)
        p[(i + 1) % vocab] = c
        rows.append(p.log())
    return torch.stack(rows)[None].float()


def committed(sampler, confidences, masked=None):
    d = make_sampler(sampler[0], **sampler[1]).step(step_input(logits_with_confidence(confidences), masked=masked))
    return d.commit[0].nonzero().flatten().tolist()


def test_threshold_vectors():
    assert committed(("threshold", {"threshold": 0.9}), [0.95, 0.92, 0.5]) == [0, 1]
    assert committed(("threshold", {"threshold": 0.9}), [0.5, 0.4]) == [0]  # only the best
    assert committed(("threshold", {"threshold": 0.5}), [0.4, 0.5 + 1e-9]) == [1]  # equality commits (to fp)
    masked = torch.tensor([[False, True, True]])
    assert committed(("threshold", {"threshold": 0.9}), [0.99, 0.95, 0.2], masked) == [1]


@pytest.mark.parametrize("conf,factor,quirk,expected", [
    ([0.99, 0.7, 0.6], 1.0, False, 2),
    ([0.99, 0.7, 0.6], 1.0, True, 3),  # the reference's n = N off-by-one
    ([0.99, 0.6, 0.5, 0.4], 1.0, False, 1),
    ([0.99, 0.9, 0.5, 0.4], 1.0, False, 2),
    ([0.5, 0.4], 1.0, True, 2),  # quirk: two left always commit both
    ([0.5, 0.4], 1.0, False, 1),
    ([0.999] * 5, 1.0, False, 5),
])
def test_factor_vectors(conf, factor, quirk, expected):
    c = torch.tensor([conf], dtype=torch.float64)
    assert int(factor_counts(c, torch.ones_like(c, dtype=torch.bool), factor, quirk)[0]) == expected


def test_factor_matches_theorem_condition_on_random_rows():
    g = torch.Generator().manual_seed(0)
    conf = torch.rand(200, 12, generator=g, dtype=torch.float64) ** 0.2
    masked = torch.rand(200, 12, generator=g) < 0.7
    counts = factor_counts(conf, masked, 1.3)
    for row in range(200):
        c = sorted(conf[row][masked[row]].tolist(), reverse=True)
        want = max([1] + [n for n in range(1, len(c) + 1) if all((m + 1) * (1 - c[m - 1]) <= 1.3 for m in range(2, n + 1))])
        assert int(counts[row]) == (want if c else 0)


def test_factor_skips_full_rows():
    c = torch.tensor([[0.9, 0.8], [0.9, 0.8]], dtype=torch.float64)
    masked = torch.tensor([[False, False], [True, True]])
    assert factor_counts(c, masked, 1.0).tolist() == [0, 2]


def run(sampler, shifted=False, temperature=0.0, prompts=([1, 2, 3], [4, 5]), **params):
    # Confidence varies by position so several rows finish their blocks at different steps.
    rule = one_hot_rule(lambda pos: 3 + pos % 11, lambda pos: 2.0 + (pos * 7) % 9)
    model = MockModel(rule, shifted=shifted)
    config = GenerationConfig(max_new_tokens=16, block_length=8, temperature=temperature, seed=0).resolve(8)
    return list(DenoisingEngine(model, SPECIAL).denoise([list(p) for p in prompts], config, make_sampler(sampler, **params)))


@pytest.mark.parametrize("sampler,params", [("threshold", {"threshold": 0.5}), ("threshold", {}),
                                            ("factor", {"factor": 1.9}), ("factor", {"reference_quirk": True})])
@pytest.mark.parametrize("shifted", [False, True])
@pytest.mark.parametrize("temperature", [0.0, 1.0])
def test_invariants_in_the_loop(sampler, params, shifted, temperature):
    states = run(sampler, shifted, temperature, **params)
    last = states[-1]
    assert not (last.tokens == MASK).any()
    for s in states:
        active = s.rows.tolist()
        g0, g1 = s.block_range
        assert all(int(s.committed[r].sum()) >= 1 for r in active)  # progress on every unfinished row
        assert not s.committed[:, :g0].any() and not s.committed[:, g1:].any()  # never outside the block
    assert (last.nfe <= 16).all() and (last.nfe >= 2).all()  # at most one forward per masked token


def test_threshold_commits_more_than_one_per_step_when_confident():
    states = run("threshold", threshold=0.0)  # everything passes: one step per block
    assert states[-1].nfe.tolist() == [2, 2]


def test_threshold_early_stop_on_eos():
    def rule(ids, pos):
        row = torch.zeros(32)
        row[EOS if pos >= 6 else 7] = 9.0
        return row

    config = GenerationConfig(max_new_tokens=24, block_length=8, seed=0).resolve(8)
    states = list(DenoisingEngine(MockModel(rule), SPECIAL).denoise([[1, 2, 3]], config, make_sampler("threshold")))
    assert states[-1].finished.all() and int(states[-1].nfe[0]) == 1  # one confident step, then EOS ends the row


def test_credit_fused_probability_sequence():
    # A constant two-token distribution with p_top = 0.75 (samplers.md §4 test 1).
    logits = torch.log(torch.tensor([[[0.75, 0.25]]]))
    sampler = make_sampler("credit")
    inp = step_input(logits)
    sampler.start_block(inp)
    fused = []
    for step in range(9):
        inp.step = step
        d = sampler.step(inp)
        fused.append(round(float(d.confidence[0, 0]), 4))
    assert fused[:8] == [0.8269, 0.8574, 0.8738, 0.8840, 0.8908, 0.8956, 0.8990, 0.9016]
    assert min(i for i, p in enumerate(fused) if p >= 0.9) == 7  # first >= 0.9 at step 8
    weak = make_sampler("credit", alpha=0.65, beta=0.7)
    weak.start_block(inp)
    for step in range(40):
        inp.step = step
        c = float(weak.step(inp).confidence[0, 0])
    assert 0.88 < c < 0.9  # saturates near 0.8825


def test_credit_only_on_masked_argmax_and_reset_per_block():
    logits = torch.log(torch.tensor([[[0.6, 0.3, 0.1], [0.2, 0.7, 0.1]]]))
    sampler = make_sampler("credit")
    inp = step_input(logits, masked=torch.tensor([[True, False]]))
    sampler.start_block(inp)
    sampler.step(inp)
    credit = inp.state["credit"][0]
    assert credit[0, 0] > 0 and credit[0, 1:].eq(0).all() and credit[1].eq(0).all()
    fresh = step_input(logits, masked=torch.tensor([[True, False]]))
    sampler.start_block(fresh)
    assert fresh.state["credit"].eq(0).all()


def test_localleap_commit_sets():
    def conf(values):
        c = [0.3] * 32
        for i, v in values.items():
            c[i] = v
        return c

    leap = ("localleap", {})
    assert committed(leap, conf({10: 0.95, 13: 0.80, 15: 0.80, 20: 0.85})) == [10, 13]
    assert committed(leap, conf({10: 0.85, 13: 0.80, 15: 0.80, 20: 0.84})) == [10]  # no anchor: top-1 only
    assert committed(leap, conf({10: 0.95, 14: 0.76})) == [10, 14]  # radius is inclusive
    same = conf({3: 0.95, 5: 0.91, 6: 0.89, 9: 0.6})
    assert committed(("localleap", {"relaxed_threshold": 0.9}), same) == committed(("threshold", {}), same)


@pytest.mark.parametrize("sampler", ["credit", "localleap"])
@pytest.mark.parametrize("shifted", [False, True])
def test_credit_and_localleap_in_the_loop(sampler, shifted):
    states = run(sampler, shifted, temperature=0.0)
    assert not (states[-1].tokens == MASK).any()
    for s in states:
        assert all(int(s.committed[r].sum()) >= 1 for r in s.rows.tolist())
    assert (states[-1].nfe <= 16).all()


# -- AdaBlock ---------------------------------------------------------------------------
NL = 27
NL_SPECIAL = type(SPECIAL)(mask_id=SPECIAL.mask_id, stop_ids=SPECIAL.stop_ids, pad_id=SPECIAL.pad_id, newline_ids=(NL,))


def probe_for(tokens_conf: dict, width=64, remaining=256, gen=256, shifted=False):
    from dllm.samplers import BlockProbe

    logits = torch.zeros(1, width, 32)
    logits[0, :, 3] = 2.0  # a plain token everywhere, moderately confident
    for pos, (tok, p) in tokens_conf.items():
        row = torch.full((32,), (1 - p) / 31).log()
        row[tok] = math.log(p)
        logits[0, pos] = row
    return BlockProbe(logits=logits, valid=torch.ones(1, width, dtype=torch.bool), remaining=torch.tensor([remaining]),
                      gen_length=gen, default_length=32, delimiter_ids=(NL,), temperature=0.0, generator=None,
                      shifted=shifted)


def test_adablock_ends_the_block_on_the_most_confident_delimiter():
    ada = make_sampler("adablock")
    assert ada.plan_block(probe_for({5: (NL, 0.6), 12: (NL, 0.8)})).tolist() == [13]
    assert ada.plan_block(probe_for({5: (NL, 0.2), 12: (NL, 0.25)})).tolist() == [32]  # all below delta 0.3
    assert ada.plan_block(probe_for({5: (NL, 0.2)}, remaining=20)).tolist() == [20]  # default clipped to what is left
    assert ada.plan_block(probe_for({5: (NL, 0.4)}, shifted=True)).tolist() == [32]  # Dream's delta is 0.5
    # The search window is floor(0.25 G): a delimiter at 20 counts for G = 256, not for G = 64.
    assert ada.plan_block(probe_for({20: (NL, 0.9)}, gen=256)).tolist() == [21]
    assert ada.plan_block(probe_for({20: (NL, 0.9)}, gen=64, remaining=64)).tolist() == [32]


def newline_rule(newline_at: dict[int, float]):
    """Token 3 + pos % 11 everywhere except newlines at given canvas positions (with a height)."""

    def rule(ids, pos):
        row = torch.zeros(32)
        if pos in newline_at:
            row[NL] = newline_at[pos]
        else:
            row[3 + pos % 11] = 2.0 + (pos * 7) % 9
        row[MASK] = 100.0
        return row

    return rule


def run_ada(prompts, newline_at, sampler="adablock", shifted=False, gen=64, **params):
    model = MockModel(newline_rule(newline_at), shifted=shifted)
    config = GenerationConfig(max_new_tokens=gen, block_length=32, seed=0).resolve(32)
    states = list(DenoisingEngine(model, NL_SPECIAL).denoise(prompts, config, make_sampler(sampler, **params)))
    return model, states


@pytest.mark.parametrize("shifted", [False, True])
def test_adablock_blocks_follow_delimiters_and_reuse_the_probe(shifted):
    prompt = [[1, 2, 3, 4]]
    model, states = run_ada(prompt, {4 + 6: 9.0}, shifted=shifted)  # newline at generation column 6
    ranges = [s.block_range for s in states if s.step == 0]
    assert ranges[0] == (0, 7) and ranges[1][0] == 7  # the first block ends on the newline
    assert len(model.calls) == int(states[-1].nfe[0])  # the look-ahead forward is the block's first step
    assert not (states[-1].tokens == MASK).any()


def test_adablock_without_delimiters_equals_threshold():
    prompt = [[1, 2, 3, 4]]
    _, ada = run_ada(prompt, {}, delimiter_threshold=float("inf"))
    _, thr = run_ada(prompt, {}, sampler="threshold")
    assert torch.equal(ada[-1].tokens, thr[-1].tokens) and torch.equal(ada[-1].nfe, thr[-1].nfe)


def test_adablock_batch_rows_plan_their_own_blocks_like_alone():
    prompts = [[1, 2, 3, 4], [5, 6]]
    newline = {4 + 6: 9.0, 2 + 10: 9.0}  # by canvas position: row 0 sees one at 6, row 1 at 10 (unpadded)
    _, batch = run_ada(prompts, newline)
    for r, p in enumerate(prompts):
        _, alone = run_ada([p], newline)
        assert torch.equal(batch[-1].tokens[r], alone[-1].tokens[0])
        assert int(batch[-1].nfe[r]) == int(alone[-1].nfe[0])

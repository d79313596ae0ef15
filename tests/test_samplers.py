"""Baseline samplers against the rules and test vectors of samplers.md §1."""

import math

import pytest
import torch

from dllm.errors import ConfigError
from dllm.samplers import StepInput, available_samplers, make_sampler
from dllm.samplers.dream_base import unmask_fraction
from dllm.samplers.functional import gumbel_argmax_scores, top_p_filter, transfer_counts
from mock import EOS, EOT


def step_input(logits, masked=None, step=0, steps=1, temperature=0.0, generator=None, **kw):
    r, n, _ = logits.shape
    masked = torch.ones(r, n, dtype=torch.bool) if masked is None else masked
    return StepInput(
        logits=logits, tokens=torch.zeros(r, n, dtype=torch.long), masked=masked, rows=torch.arange(r),
        step=step, steps=steps, block=0, temperature=temperature, top_p=kw.get("top_p"), top_k=kw.get("top_k"),
        stop_ids=(EOS, EOT), generator=generator,
    )


def test_transfer_schedule_vectors():
    assert transfer_counts(torch.tensor([32]), 5).tolist() == [[7, 7, 6, 6, 6]]
    assert transfer_counts(torch.tensor([32]), 32).tolist() == [[1] * 32]
    assert transfer_counts(torch.tensor([10, 3]), 4).tolist() == [[3, 3, 2, 2], [1, 1, 1, 0]]


def test_low_confidence_commits_top_k_by_probability():
    logits = torch.zeros(1, 6, 32)
    for pos, height in enumerate([1.0, 6.0, 3.0, 9.0, 2.0, 4.0]):
        logits[0, pos, pos + 1] = height
    sampler = make_sampler("low_confidence")
    inp = step_input(logits, steps=2)
    sampler.start_block(inp)
    d = sampler.step(inp)
    assert d.commit[0].nonzero().flatten().tolist() == [1, 3, 5]  # 6 masks / 2 steps -> 3, the most confident
    assert d.tokens[0].tolist() == [1, 2, 3, 4, 5, 6]
    masked = torch.tensor([[True, True, False, True, False, True]])
    later = step_input(logits, masked=masked, step=1, steps=2)
    later.state = inp.state
    d = sampler.step(later)
    assert not (d.commit & ~masked).any()


def test_gumbel_temperature_samples_softmax():
    z = torch.tensor([[1.0, 0.0, -1.0, 0.5]])
    g = torch.Generator().manual_seed(0)
    draws = torch.stack([gumbel_argmax_scores(z, 1.0, g).argmax(-1) for _ in range(20000)]).flatten()
    expected = z.softmax(-1)[0] * len(draws)
    observed = torch.bincount(draws, minlength=4).double()
    chi2 = float(((observed - expected) ** 2 / expected).sum())
    assert chi2 < 16.3  # chi-square, 3 dof, p = 0.001
    assert gumbel_argmax_scores(z, 0.0, g) is z  # T = 0 returns the logits themselves
    assert gumbel_argmax_scores(z, 0.7, g).dtype == torch.float64


@pytest.mark.parametrize("temperature", [0.0, 0.8])
def test_confidence_eos_eot_inf_ranks_stop_tokens_last(temperature):
    # Deliberate deviation: the reference zeroes EOS confidence only at T = 0; we do it always.
    logits = torch.full((1, 3, 32), -5.0)
    logits[0, 0, EOS] = 20.0
    logits[0, 1, EOT] = 20.0
    logits[0, 2, 7] = 1.0
    sampler = make_sampler("low_confidence", confidence_eos_eot_inf=True)
    inp = step_input(logits, steps=3, temperature=temperature, generator=torch.Generator().manual_seed(1))
    sampler.start_block(inp)
    d = sampler.step(inp)
    assert d.commit[0].tolist() == [False, False, True]


def test_logits_eos_inf_forbids_eos():
    logits = torch.zeros(1, 2, 32)
    logits[0, :, EOS] = 10.0
    sampler = make_sampler("low_confidence", logits_eos_inf=True)
    inp = step_input(logits, steps=1)
    sampler.start_block(inp)
    assert not (sampler.step(inp).tokens == EOS).any()


def test_dream_schedule_quirk_zero_first_then_ones_then_two():
    # S = G = 256: int(256 * (1 - s/t)) truncates to 0 on step 0, then 1 each, the rest on the last step.
    remaining, counts = 256, []
    for step in range(256):
        frac = unmask_fraction(step, 256, 1e-3)
        n = remaining if frac == 1.0 else int(torch.tensor(float(remaining)) * frac)
        counts.append(n)
        remaining -= n
    assert counts[0] == 0 and counts[-1] == 2 and set(counts[1:-1]) == {1}


def test_dream_confidence_orderings():
    probs_sharp = torch.tensor([0.6, 0.39, 0.01])
    probs_flat = torch.tensor([0.5, 0.1, 0.1, 0.1, 0.1, 0.1])
    logits = torch.full((1, 2, 32), -30.0)
    logits[0, 0, :3] = probs_sharp.log()
    logits[0, 1, :6] = probs_flat.log()
    # maskgit_plus prefers position 0 (0.6 > 0.5); topk_margin prefers 1 (0.4 > 0.21); entropy prefers 0.
    expectations = {"maskgit_plus": 0, "topk_margin": 1, "entropy": 0}
    for name, best in expectations.items():
        d = make_sampler(name).step(step_input(logits, step=0, steps=2))
        assert int(d.confidence[0].argmax()) == best, name


def test_alg_temp_draws_positions_from_softmax_of_scores():
    logits = torch.full((1, 3, 32), -30.0)
    for pos, p in enumerate([0.9, 0.6, 0.75]):
        logits[0, pos, 0] = math.log(p)
        logits[0, pos, 1] = math.log(1 - p)
    sampler = make_sampler("maskgit_plus", alg_temp=0.5)
    g = torch.Generator().manual_seed(3)
    hits = torch.zeros(3)
    for _ in range(3000):
        hits += sampler.step(step_input(logits, step=1, steps=3, generator=g)).commit[0].float()
    expected = (torch.tensor([0.9, 0.6, 0.75]) / 0.5).softmax(-1)
    assert torch.allclose(hits / hits.sum(), expected, atol=0.03)


def test_top_p_keeps_crossing_token():
    logits = torch.tensor([[0.5, 0.3, 0.15, 0.05]]).log()
    kept = top_p_filter(logits, 0.7).isfinite()[0].tolist()
    assert kept == [True, True, False, False]


def test_registry_errors_and_coercion():
    assert {"low_confidence", "random", "origin", "maskgit_plus", "topk_margin", "entropy"} <= set(available_samplers())
    with pytest.raises(ConfigError, match="unknown sampler 'nope'"):
        make_sampler("nope")
    with pytest.raises(ConfigError, match="no parameter 'tau'"):
        make_sampler("low_confidence", tau=1)
    with pytest.raises(ConfigError, match="cfg_scale"):
        make_sampler("low_confidence", cfg_scale="lots")
    with pytest.raises(ConfigError, match="cfg_scale must be >= 0"):
        make_sampler("low_confidence", cfg_scale=-1)
    assert make_sampler("low_confidence", cfg_scale="0.5", logits_eos_inf="true").cfg_scale == 0.5
    assert make_sampler("entropy", alg_temp=None).alg_temp is None


def test_entry_point_plugins_register(monkeypatch):
    from dataclasses import dataclass

    from dllm.samplers import registry
    from dllm.samplers.low_confidence import LowConfidence

    @dataclass
    class Plugin(LowConfidence):
        """A third-party sampler."""

    class EntryPoint:
        name, value = "plugin_sampler", "pkg:Plugin"

        def load(self):
            return Plugin

    monkeypatch.setattr(registry, "_plugins_loaded", False)
    monkeypatch.setattr(registry, "entry_points", lambda group: [EntryPoint()] if group == "dllm.samplers" else [])
    monkeypatch.setattr(registry, "SAMPLERS", dict(registry.SAMPLERS))
    assert "plugin_sampler" in available_samplers()
    assert isinstance(make_sampler("plugin_sampler"), Plugin)

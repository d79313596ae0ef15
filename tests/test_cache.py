"""KV-cache policies: exactness right after a refresh, refresh-every-step equivalence,
measured approximation after edits, sparse retention share, every sampler x cache."""

import math

import pytest
import torch

import dllm
from dllm.cache import make_cache
from dllm.cache.sparse import SparseCache
from dllm.config import GenerationConfig
from dllm.engine import Canvas
from dllm.errors import ConfigError
from dllm.samplers import available_samplers

PROMPTS = ["Hello there, how are you", "Hi"]


def canvas_for(lm, gen=32):
    ids = [lm.encode(p, chat=False) for p in PROMPTS]
    return Canvas(ids, gen, lm.special, lm.device)


@pytest.mark.parametrize("family", ["llada", "dream"])
@pytest.mark.parametrize("name", ["prefix", "dual"])
def test_cached_logits_equal_full_forward_when_nothing_changed(tiny_lm, family, name):
    lm = tiny_lm(family)
    canvas = canvas_for(lm)
    rows = torch.arange(2)
    start = canvas.prompt_width + 8
    policy = make_cache(name)
    with torch.inference_mode():
        first = policy.logits(lm.engine, canvas, rows, start, start + 8, 0, 0.0)
        again = policy.logits(lm.engine, canvas, rows, start, start + 8, 1, 0.0)
        full = lm.engine.block_logits(canvas, rows, start, start + 8, 0.0)
    assert torch.equal(first, full)
    # Fewer queries change the matmul shapes, so equality is to float32 rounding (documented).
    assert torch.allclose(again, full, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("family", ["llada", "dream"])
def test_sparse_with_everything_kept_is_exact_and_keeps_the_share(tiny_lm, family):
    lm = tiny_lm(family)
    canvas = canvas_for(lm)
    canvas.ids[:, canvas.prompt_width:] = canvas.ids[:, canvas.prompt_width:]  # all masks
    rows = torch.arange(2)
    start = canvas.prompt_width
    with torch.inference_mode():
        full = make_cache("sparse", keep_ratio=1.0)
        for step in range(3):
            got = full.logits(lm.engine, canvas, rows, start, start + 8, step, 0.0)
        ref = lm.engine.block_logits(canvas, rows, start, start + 8, 0.0)
        assert torch.allclose(got, ref, atol=1e-5, rtol=1e-5)
        half = make_cache("sparse", keep_ratio=0.5)
        for step in range(2):
            half.logits(lm.engine, canvas, rows, start, start + 8, step, 0.0)
    fed = 8 + lm.engine.offset
    real = canvas.attention_mask.sum(-1)  # each row's real columns (prompt + generation)
    for kept in half.kept_valid:
        assert kept.sum(-1).tolist() == [math.floor(0.5 * (n - fed)) for n in real.tolist()]
    assert half.peak_bytes <= 0.5 * full.peak_bytes + 1


def test_approximation_after_edits_is_measured(tiny_lm):
    lm = tiny_lm("llada")
    canvas = canvas_for(lm)
    rows = torch.arange(2)
    start = canvas.prompt_width
    policy = make_cache("dual")
    with torch.inference_mode():
        policy.logits(lm.engine, canvas, rows, start, start + 8, 0, 0.0)
        canvas.ids[:, start:start + 4] = 65  # commit four tokens of the block
        cached = policy.logits(lm.engine, canvas, rows, start + 8, start + 16, 1, 0.0)  # stale suffix keys
        exact = lm.engine.block_logits(canvas, rows, start + 8, start + 16, 0.0)
    finite = torch.isfinite(exact)
    gap = (cached - exact)[finite].abs().max().item()
    assert 0 < gap < 50  # an approximation (not exact), and finite


@pytest.mark.parametrize("family", ["llada", "dream"])
@pytest.mark.parametrize("cache", ["prefix", "dual", "sparse"])
def test_refresh_every_step_equals_no_cache(tiny_lm, family, cache):
    lm = tiny_lm(family)
    args = {"refresh_interval": 1} if cache != "sparse" else {"keep_ratio": 1.0}
    base = lm.generate(PROMPTS, max_new_tokens=16, block_length=8)
    cached = lm.generate(PROMPTS, max_new_tokens=16, block_length=8, cache=cache, cache_args=args)
    if cache == "sparse":  # keep_ratio 1: exact up to float rounding, so compare logits-level outcome loosely
        assert [len(r.token_ids) for r in cached] and all(r.nfe == b.nfe for r, b in zip(cached, base))
    else:
        assert [r.token_ids for r in cached] == [r.token_ids for r in base]


@pytest.mark.parametrize("family", ["llada", "dream"])
@pytest.mark.parametrize("cache", ["prefix", "dual", "sparse"])
def test_cached_batch_decodes_like_rows_alone(tiny_lm, family, cache):
    lm = tiny_lm(family)
    prompts = PROMPTS + ["A much longer prompt with many more tokens in it"]
    batch = lm.generate(prompts, max_new_tokens=24, block_length=8, cache=cache)
    for prompt, got in zip(prompts, batch):
        alone = lm.generate([prompt], max_new_tokens=24, block_length=8, cache=cache)[0]
        assert got.token_ids == alone.token_ids and got.nfe == alone.nfe


SAMPLERS = sorted(available_samplers())


@pytest.mark.parametrize("family", ["llada", "dream"])
@pytest.mark.parametrize("cache", ["prefix", "dual", "sparse"])
def test_every_sampler_runs_with_every_cache(tiny_lm, family, cache):
    lm = tiny_lm(family)
    for sampler in SAMPLERS:
        results = lm.generate(PROMPTS, sampler, max_new_tokens=16, block_length=8, cache=cache, temperature=0.5, seed=1)
        for r in results:
            assert lm.special.mask_id not in r.token_ids and 1 <= r.nfe <= 16, (sampler, r)


def test_cache_option_errors(tiny_lm):
    lm = tiny_lm("llada")
    with pytest.raises(ConfigError, match="unknown cache 'lru'"):
        lm.generate("Hi", max_new_tokens=8, cache="lru")
    with pytest.raises(ConfigError, match="keep_ratio"):
        lm.generate("Hi", max_new_tokens=8, cache="sparse", cache_args={"keep_ratio": 2})
    with pytest.raises(ConfigError, match="takes"):
        lm.generate("Hi", max_new_tokens=8, cache="dual", cache_args={"bogus": 1})
    with pytest.raises(ConfigError, match="guidance"):
        lm.generate("Hi", max_new_tokens=8, cache="dual", cfg_scale=1.0)


@pytest.mark.parametrize("family", ["llada", "dream"])
def test_full_forwards_are_counted_per_policy(tiny_lm, family):
    """Without a cache every forward feeds the whole canvas; prefix/dual do so once per
    block (the refresh), sparse twice (step 0, then the step that evicts), plus refreshes."""
    lm = tiny_lm(family)
    opts = dict(max_new_tokens=16, block_length=8, steps=16, early_stop=False)  # 2 blocks of 8 steps
    none = lm.generate(PROMPTS, **opts)
    assert all(r.full_nfe == r.nfe == 16 for r in none)
    for cache, args, full in [("prefix", {}, 2), ("dual", {}, 2), ("dual", {"refresh_interval": 2}, 8), ("sparse", {}, 4)]:
        for r in lm.generate(PROMPTS, cache=cache, cache_args=args, **opts):
            assert (r.nfe, r.full_nfe) == (16, full), (cache, args, r)

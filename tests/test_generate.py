"""End to end on tiny random checkpoints: batch == one by one, NFE, streaming, API errors."""

import pytest
import torch

from dllm.errors import ConfigError

PROMPTS = ["Hi", "What is the capital of France, and why?", "Count: 1 2 3"]


@pytest.mark.parametrize(
    "family,sampler,opts",
    [
        ("llada", "low_confidence", dict(block_length=8)),
        ("llada", "low_confidence", dict(block_length=16, steps=8)),
        ("dream", "maskgit_plus", dict()),
        ("dream", "entropy", dict(block_length=8)),
        ("dream", "topk_margin", dict(block_length=16, steps=16)),
        ("dream", "low_confidence", dict(block_length=8)),
    ],
)
def test_batch_equals_one_by_one(tiny_lm, family, sampler, opts):
    lm = tiny_lm(family)
    batch = lm.generate(PROMPTS, sampler, max_new_tokens=32, seed=0, **opts)
    for prompt, together in zip(PROMPTS, batch):
        alone = lm.generate(prompt, sampler, max_new_tokens=32, seed=0, **opts)[0]
        assert together.canvas_ids == alone.canvas_ids
        assert together.nfe == alone.nfe


def test_nfe_equals_steps_without_early_stop(tiny_lm):
    lm = tiny_lm("llada")
    r = lm.generate("Hello", max_new_tokens=32, block_length=8, steps=16, early_stop=False)[0]
    assert r.nfe == r.steps == 16
    r = lm.generate("Hello", max_new_tokens=32, block_length=8, early_stop=False)[0]
    assert r.nfe == 32


def test_stream_yields_every_step(tiny_lm):
    lm = tiny_lm("dream")
    states = [s.committed.clone() for s in lm.stream("Hello", "entropy", max_new_tokens=16, block_length=8, steps=8)]
    assert len(states) == 8
    total = torch.stack(states).sum(0)
    assert (total == 1).all()  # every position committed exactly once


def test_temperature_sampling_is_seeded(tiny_lm):
    lm = tiny_lm("llada")
    a = lm.generate("Hello", max_new_tokens=16, temperature=1.0, seed=7)[0]
    b = lm.generate("Hello", max_new_tokens=16, temperature=1.0, seed=7)[0]
    c = lm.generate("Hello", max_new_tokens=16, temperature=1.0, seed=8)[0]
    assert a.canvas_ids == b.canvas_ids and a.canvas_ids != c.canvas_ids


def test_chat_template_applied_when_present(tiny_lm):
    lm = tiny_lm("llada")
    chat = lm.encode("Hi")
    raw = lm.encode("Hi", chat=False)
    assert len(chat) > len(raw)
    assert lm.tokenizer.decode(chat).startswith("<|startoftext|><|start_header_id|>user")
    dream = tiny_lm("dream")
    assert "You are a helpful assistant." in dream.tokenizer.decode(dream.encode("Hi"))


@pytest.mark.parametrize(
    "opts,words",
    [
        (dict(max_new_tokens=30, block_length=8), ["block_length=8", "does not divide", "30"]),
        (dict(max_new_tokens=32, block_length=8, steps=2), ["steps=2", "4 blocks"]),
        (dict(temperature=-0.1), ["temperature=-0.1"]),
        (dict(max_new_tokens=600), ["model maximum 512"]),
        (dict(top_p=1.5), ["top_p=1.5"]),
    ],
)
def test_bad_options_are_refused(tiny_lm, opts, words):
    lm = tiny_lm("llada")
    with pytest.raises(ConfigError) as err:
        lm.generate("Hello", **opts)
    assert all(w in str(err.value) for w in words), str(err.value)


def test_empty_prompt_and_missing_template(tiny_lm, ckpt_dir):
    lm = tiny_lm("llada")
    with pytest.raises(ConfigError, match="empty"):
        lm.generate("   ")
    lm.tokenizer.chat_template, saved = None, lm.tokenizer.chat_template
    try:
        with pytest.raises(ConfigError, match="no chat template"):
            lm.generate("Hi", chat=True)
        assert lm.generate("Hi", chat=None, max_new_tokens=8)[0].nfe == 8
    finally:
        lm.tokenizer.chat_template = saved

"""The denoising loop on a scripted model: block discipline, prompt safety, EOS stop, Dream shift."""

import pytest
import torch

from dllm.config import GenerationConfig
from dllm.engine import DenoisingEngine
from dllm.samplers import make_sampler
from mock import EOS, MASK, SPECIAL, MockModel, one_hot_rule

PROMPT = [[1, 2, 3, 4]]


def run(model, prompts=PROMPT, sampler="low_confidence", **cfg):
    config = GenerationConfig(**cfg).resolve(32)
    states = []
    for s in DenoisingEngine(model, SPECIAL).denoise(prompts, config, make_sampler(sampler)):
        states.append((s.block_range, s.tokens.clone(), s.committed.clone(), s.nfe.clone()))
    return states


def test_commits_stay_in_block_and_never_rewrite():
    model = MockModel(one_hot_rule(lambda pos: pos % 7, lambda pos: 1.0 + pos % 5))
    states = run(model, max_new_tokens=16, block_length=8, steps=8)
    assert len(states) == 8  # NFE == steps for low_confidence
    prev = torch.full((1, 16), MASK)
    for (g0, g1), tokens, committed, _ in states:
        assert not committed[:, :g0].any() and not committed[:, g1:].any()
        assert (tokens[:, g1:] == MASK).all()
        was = prev != MASK
        assert torch.equal(tokens[was], prev[was])  # committed tokens never change
        assert int(committed.sum()) == 2  # 8 masks over 4 steps per block
        prev = tokens
    assert not (prev == MASK).any()
    for ids in model.calls:
        assert ids[0, :4].tolist() == [1, 2, 3, 4]  # the prompt is never touched


def test_mask_token_never_chosen_and_positions_follow_confidence():
    model = MockModel(one_hot_rule(lambda pos: pos, lambda pos: float(pos)))
    states = run(model, max_new_tokens=8, block_length=8, steps=8)
    first = states[0][2][0].nonzero().flatten().tolist()
    assert first == [7]  # most confident = last position
    assert (states[-1][1] != MASK).all()


def test_eos_stops_a_row_after_its_block():
    # Row 0 (prompt starting with 1) says EOS at generation position 3; row 1 never does.
    def rule(ids, pos):
        row = torch.zeros(32)
        row[EOS if (pos == 7 and int(ids[0]) == 1) else 5] = 5.0
        return row

    model = MockModel(rule)
    states = run(model, prompts=[[1, 2, 3, 4], [9, 8, 7, 6]], max_new_tokens=32, block_length=8, steps=32)
    final, nfe = states[-1][1], states[-1][3]
    assert final[0, 3] == EOS and (final[0, 8:] == EOS).all()
    assert nfe.tolist() == [8, 32]  # row 0 left after its first block
    no_stop = run(model, prompts=[[1, 2, 3, 4], [9, 8, 7, 6]], max_new_tokens=32, block_length=8, steps=32, early_stop=False)
    assert no_stop[-1][3].tolist() == [32, 32]


def test_dream_shift_reads_previous_row():
    # A shifted model puts the prediction for position p at row p-1; the engine must undo it.
    model = MockModel(one_hot_rule(lambda pos: pos % 13), shifted=True)
    states = run(model, max_new_tokens=8, block_length=8, steps=8)
    gen = states[-1][1][0].tolist()
    assert gen == [(4 + i) % 13 for i in range(8)]


@pytest.mark.parametrize("steps,expected", [(8, [2, 2, 2, 2]), (5, [2, 1, 1, 1]), (16, [4, 4, 4, 4])])
def test_steps_are_total_over_blocks(steps, expected):
    config = GenerationConfig(max_new_tokens=32, block_length=8, steps=steps).resolve(32)
    assert sum(config.steps_per_block()) == steps
    assert config.steps_per_block()[: len(expected)] == expected


def test_classifier_free_guidance_masks_the_prompt():
    model = MockModel(one_hot_rule(lambda pos: 3))
    config = GenerationConfig(max_new_tokens=4, block_length=4, steps=4).resolve(32)
    sampler = make_sampler("low_confidence", cfg_scale=1.5)
    last = list(DenoisingEngine(model, SPECIAL).denoise(PROMPT, config, sampler))[-1]
    assert last.nfe.tolist() == [8]  # two network evaluations per step
    batch = model.calls[0]
    assert batch.shape[0] == 2 and batch[1, :4].eq(MASK).all() and batch[0, :4].tolist() == [1, 2, 3, 4]

"""The masked_causal objective (evals/tiny/slots.py): next-token prediction at a mask slot in
the token's own position, with nothing from that position on in view."""

from pathlib import Path

import pytest
import torch

from dllm.evals.tiny import data
from dllm.evals.tiny.slots import masked_causal_loss, next_at_slot, slot_accuracy, slot_layout, slot_logits
from dllm.evals.tiny.train import parse_args, train
from dllm.models.loader import build_model
from dllm.testing import byte_tokenizer, tiny_config

MASK = 99


def _batch():
    return data.collate([([5, 6, 7, 8], [10, 11, 12]), ([5, 6], [20, 21, 22, 23])], pad_id=0)


def test_slots_see_only_the_clean_tokens_before_them_and_themselves():
    batch = _batch()
    x, positions, mask, slots = slot_layout(batch, MASK)
    width = batch.input_ids.shape[1]
    assert slots == 4 and x.shape == (2, width + 4) and (x[:, width:] == MASK).all()
    assert positions[0, width:].tolist() == list(range(width - 4, width))  # a slot sits at its token's position
    mask = mask[:, 0]
    for j in range(slots):
        row = mask[0, width + j]
        assert row[:width].tolist() == [k < width - 4 + j for k in range(width)]  # the clean prefix, no padding here
        assert row[width:].tolist() == [k == j for k in range(slots)]  # itself, no other slot
    assert not mask[1, 1:, 0].any()  # row 1's padding column is hidden from its real tokens and slots
    assert not mask[:, :width, width:].any()  # the clean copy never sees a slot
    assert not torch.triu(mask[1, :width, :width], diagonal=1).any()  # and it is causal


class _Copier(torch.nn.Module):
    """All mass on the token `truth` holds at each position id: the oracle of scoring a token
    at its own position."""

    def __init__(self, truth: torch.Tensor):
        super().__init__()
        self.truth = truth

    def forward(self, ids, attention_mask=None, position_ids=None):
        logits = torch.full((*ids.shape, 100), -30.0, requires_grad=True).clone()
        target = self.truth.gather(1, position_ids)
        return logits.scatter(2, target[..., None], 30.0)


def test_loss_scores_each_answer_token_at_its_own_position():
    batch = _batch()
    right = masked_causal_loss(_Copier(batch.input_ids), batch, MASK)
    shifted = masked_causal_loss(_Copier(batch.input_ids.roll(1, dims=1)), batch, MASK)
    assert right.item() < 1e-6 and shifted.item() > 10
    _, _, scored = slot_logits(_Copier(batch.input_ids), batch, MASK)
    assert scored.sum() == batch.answer_region.sum() == 7
    assert slot_accuracy(_Copier(batch.input_ids), batch, MASK) == 100.0


def test_a_slot_never_sees_its_token_or_anything_after_it():
    tok = byte_tokenizer("llada")
    model = build_model(Path("."), tiny_config("llada", tok), device="cpu").float().eval()
    batch = data.collate([([5, 6, 7, 8], [10, 11, 12, 13, 14])], pad_id=0)
    changed = data.collate([([5, 6, 7, 8], [10, 11, 40, 41, 42])], pad_id=0)
    with torch.no_grad():
        a = slot_logits(model, batch, tok.mask_token_id)[0]
        b = slot_logits(model, changed, tok.mask_token_id)[0]
    assert torch.allclose(a[0, :3], b[0, :3], atol=1e-5)  # slots 10, 11, 12: their view is unchanged
    assert not torch.allclose(a[0, 3:], b[0, 3:], atol=1e-5)  # slots after the change see it
    # decoding left to right reads the same number the loss trains
    prefix = batch.input_ids[0, :6].tolist()
    assert next_at_slot(model, prefix, tok.mask_token_id) == int(a[0, 2].argmax())


def test_masked_causal_phase_trains_and_probes_left_to_right(tmp_path):
    args = parse_args(["--family", "llada", "--out", str(tmp_path / "tiny"), "--n-per-task", "4", "--d-model", "32",
                       "--layers", "1", "--heads", "2", "--mlp", "48", "--token-budget", "512", "--log-every", "1",
                       "--probe-every", "10", "--probe-n", "1", "--mqar-pairs", "3", "5",
                       "--schedule", "mqar:masked_causal:2", "copy:masked_causal:1", "copy:diffusion:1"])
    record = train(args)
    assert all(0 <= point["recall_accuracy"] <= 100 for point in record["loss_curve"][:2])
    assert [p["decode"] for p in record["probes"]] == ["masked_causal", "diffusion"]


@pytest.mark.parametrize("schedule, message", [("copy:masked_causal:5", "masked_causal scores a token at its own position"),
                                               ("copy:sideways:5", "objective 'sideways' is not one of")])
def test_bad_schedules_are_refused_in_one_line(schedule, message, capsys):
    with pytest.raises(SystemExit):
        parse_args(["--family", "dream", "--out", "x", "--schedule", schedule])
    assert message in capsys.readouterr().err

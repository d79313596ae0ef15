"""Native models reproduce the reference modeling code's logits bit for bit (fixtures/reference)."""

from pathlib import Path

import pytest
import torch

import dllm
from dllm.models import aligned_logits
from dllm.models.layers import positions_from_mask

FIXTURES = Path(__file__).parent / "fixtures" / "reference"
NAMES = ["llada-fp32", "llada-bf16-sharded", "dream-fp32", "dream-bf16-sharded"]


@pytest.mark.parametrize("name", NAMES)
def test_logits_equal_reference_code(name):
    ref = torch.load(FIXTURES / name / "reference_logits.pt", weights_only=True)
    lm = dllm.load(FIXTURES / name, device="cpu")
    assert lm.dtype == (torch.bfloat16 if "bf16" in name else torch.float32)  # dtype=auto follows the checkpoint
    with torch.no_grad():
        plain = lm.model(ref["input_ids"])
        mask = ref["attention_mask"]
        # Dream's reference generate passes cumsum positions under padding; LLaDA's uses 0..L-1.
        positions = positions_from_mask(mask) if lm.model.shifted_logits else None
        padded = lm.model(ref["input_ids_padded"], attention_mask=mask, position_ids=positions)
    assert plain.dtype == ref["logits_nomask"].dtype
    assert torch.equal(plain, ref["logits_nomask"])
    real = mask.bool()
    assert torch.equal(padded[real], ref["logits_padded"][real])


def test_dream_shift_maps_row_before():
    lm = dllm.load(FIXTURES / "dream-fp32", device="cpu")
    ref = torch.load(FIXTURES / "dream-fp32" / "reference_logits.pt", weights_only=True)
    raw = ref["logits_nomask"]
    shifted = aligned_logits(lm.model, raw)
    assert torch.equal(shifted[:, 1:], raw[:, :-1])
    assert torch.equal(shifted[:, 0], raw[:, 0])
    llada = dllm.load(FIXTURES / "llada-fp32", device="cpu")
    assert aligned_logits(llada.model, raw) is raw


def test_special_tokens_come_from_checkpoint():
    lm = dllm.load(FIXTURES / "llada-fp32", device="cpu")
    assert lm.special.mask_id == 250
    assert lm.special.eos_id == 251
    assert lm.tokenizer.convert_ids_to_tokens(255) == "<|eot_id|>"
    assert 255 in lm.special.stop_ids
    dream = dllm.load(FIXTURES / "dream-fp32", device="cpu")
    assert dream.special.mask_id == 250
    assert dream.tokenizer.convert_tokens_to_ids("<|im_end|>") in dream.special.stop_ids

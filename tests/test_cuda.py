"""CUDA path (runs where a GPU is present; CI without one skips it)."""

from pathlib import Path

import pytest
import torch

import dllm

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
FIXTURES = Path(__file__).parent / "fixtures" / "reference"


@pytest.mark.parametrize("name,atol", [("llada-fp32", 1e-3), ("dream-fp32", 1e-3), ("llada-bf16-sharded", 0.5), ("dream-bf16-sharded", 0.5)])
def test_cuda_logits_match_reference(name, atol):
    ref = torch.load(FIXTURES / name / "reference_logits.pt", weights_only=True)
    lm = dllm.load(FIXTURES / name, device="cuda")
    with torch.no_grad():
        out = lm.model(ref["input_ids"].cuda()).cpu().float()
    assert (out - ref["logits_nomask"].float()).abs().max() < atol


@pytest.mark.parametrize("family,sampler", [("llada", "low_confidence"), ("dream", "entropy")])
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_cuda_batch_equals_one_by_one(tmp_path, family, sampler, dtype):
    from dllm.testing import write_tiny_checkpoint

    lm = dllm.load(write_tiny_checkpoint(tmp_path / "ckpt", family, dtype=dtype), device="cuda")
    prompts = ["Hi", "What is the capital of France, and why?", "Count: 1 2 3"]
    batch = lm.generate(prompts, sampler, max_new_tokens=32, block_length=8, seed=0)
    for prompt, together in zip(prompts, batch):
        assert together.canvas_ids == lm.generate(prompt, sampler, max_new_tokens=32, block_length=8, seed=0)[0].canvas_ids

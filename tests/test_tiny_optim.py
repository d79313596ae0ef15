"""The training runs' optimizers: Muon on the blocks' matrices, AdamW on everything else."""

import pytest
import torch

from dllm.evals.tiny.data import Batch
from dllm.evals.tiny.optim import HybridOptimizer, is_hidden_matrix, make_optimizer
from dllm.evals.tiny.train import diffusion_loss, parse_args
from dllm.models.loader import build_model
from dllm.testing import byte_tokenizer, tiny_config


def tiny_model(family: str):
    torch.manual_seed(0)
    tok = byte_tokenizer(family)
    return build_model(".", tiny_config(family, tok), device="cpu").float(), tok


@pytest.mark.parametrize("family", ["llada", "dream"])
def test_muon_takes_the_block_matrices_and_adamw_the_rest(family):
    model, _ = tiny_model(family)
    opt = make_optimizer(model, 1e-3, 0.05, "muon")
    assert isinstance(opt, HybridOptimizer)
    muon, adamw = opt.optimizers
    assert isinstance(muon, torch.optim.Muon) and isinstance(adamw, torch.optim.AdamW)
    in_muon = {id(p) for group in muon.param_groups for p in group["params"]}
    in_adamw = {id(p) for group in adamw.param_groups for p in group["params"]}
    named = dict(model.named_parameters())
    assert not in_muon & in_adamw and in_muon | in_adamw == {id(p) for p in named.values()}
    assert in_muon == {id(p) for name, p in named.items() if p.dim() == 2 and (".blocks." in name or ".layers." in name)}
    embedding = next(name for name in named if "wte" in name or "embed_tokens" in name)
    assert not is_hidden_matrix(embedding, named[embedding]) and id(named[embedding]) in in_adamw


@pytest.mark.parametrize("kind", ["adamw", "muon"])
def test_a_step_lowers_the_loss_and_follows_the_loops_learning_rate(kind):
    model, tok = tiny_model("llada")
    opt = make_optimizer(model, 1e-2, 0.0, kind)
    ids = torch.tensor([tok.encode("copy: [\"Amy Lee\"] [\"Amy Lee\"]")] * 4)
    batch = Batch(ids, torch.ones_like(ids, dtype=torch.bool), torch.arange(ids.shape[1]).expand_as(ids) >= ids.shape[1] // 2)

    def loss() -> torch.Tensor:
        return diffusion_loss(model, batch, tok.mask_token_id, torch.Generator().manual_seed(0), 1.0, "fp32")

    before = loss().item()
    for _ in range(5):
        opt.zero_grad()
        loss().backward()
        opt.step()
    assert loss().item() < before
    for group in opt.param_groups:  # what the training loops do every step
        group["lr"] = 0.0
    frozen = [p.detach().clone() for p in model.parameters()]
    opt.zero_grad()
    loss().backward()
    opt.step()
    assert all(torch.equal(a, b) for a, b in zip(frozen, model.parameters()))


def test_unknown_optimizer_is_refused(capsys):
    with pytest.raises(SystemExit):
        parse_args(["--family", "llada", "--out", "x", "--optimizer", "sgd"])
    assert "--optimizer" in capsys.readouterr().err
    with pytest.raises(ValueError, match="sgd"):
        make_optimizer(torch.nn.Linear(2, 2), 1e-3, 0.0, "sgd")

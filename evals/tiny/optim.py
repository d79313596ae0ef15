"""Optimizers for the tiny-model training runs (`train.py`, `name_shuffle.py`).

``adamw``: AdamW on every parameter, the matrices decayed and the norms' gains not.

``muon``: Muon (Jordan et al., 2024; "Muon is Scalable for LLM Training", Liu et al., arXiv
2502.16982) on the transformer blocks' matrices, AdamW on the rest (token embeddings, the
output head, norms and biases), as Muon's authors prescribe. It is `torch.optim.Muon` with
``adjust_lr_fn="match_rms_adamw"`` (Moonshot's scaling), so the update RMS of every matrix
matches AdamW's and the recipes' AdamW learning rates and weight decay carry over unchanged.
"""

from __future__ import annotations

import torch
from torch import nn

OPTIMIZERS = ("adamw", "muon")
ADAM_BETAS = (0.9, 0.98)


def is_hidden_matrix(name: str, param: torch.Tensor) -> bool:
    """A matrix inside a transformer block (LLaDA's ``blocks.N``, Dream's ``layers.N``): what Muon
    orthogonalises. Embeddings and the output head are matrices too, but stay on AdamW."""
    return param.dim() == 2 and (".blocks." in name or ".layers." in name)


class HybridOptimizer:
    """Several optimizers stepped as one: the training loops set ``group["lr"]`` on
    `param_groups` and call `zero_grad` / `step`, as they would on a single optimizer."""

    def __init__(self, optimizers: list[torch.optim.Optimizer]) -> None:
        self.optimizers = optimizers

    @property
    def param_groups(self) -> list[dict]:
        return [group for opt in self.optimizers for group in opt.param_groups]

    def zero_grad(self, set_to_none: bool = True) -> None:
        for opt in self.optimizers:
            opt.zero_grad(set_to_none=set_to_none)

    def step(self) -> None:
        for opt in self.optimizers:
            opt.step()


def make_optimizer(model: nn.Module, lr: float, weight_decay: float, kind: str = "adamw"):
    """The named optimizer over `model`; matrices decayed, the norms' gains and biases not."""
    if kind not in OPTIMIZERS:
        raise ValueError(f"optimizer {kind!r}: choose one of {', '.join(OPTIMIZERS)}")
    named = list(model.named_parameters())
    hidden = [p for name, p in named if kind == "muon" and is_hidden_matrix(name, p)]
    taken = {id(p) for p in hidden}
    matrices = [p for _, p in named if p.dim() > 1 and id(p) not in taken]
    vectors = [p for _, p in named if p.dim() <= 1]
    adamw = torch.optim.AdamW([{"params": matrices, "weight_decay": weight_decay},
                               {"params": vectors, "weight_decay": 0.0}], lr=lr, betas=ADAM_BETAS)
    if not hidden:
        return adamw
    muon = torch.optim.Muon(hidden, lr=lr, weight_decay=weight_decay, adjust_lr_fn="match_rms_adamw")
    return HybridOptimizer([muon, adamw])

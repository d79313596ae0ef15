"""A scripted model for engine and sampler tests (no weights): logits from a Python rule."""

from __future__ import annotations

import torch
from torch import nn

from dllm.models.tokens import SpecialTokens

VOCAB = 32
MASK, EOS, EOT, PAD = 31, 30, 29, 28
SPECIAL = SpecialTokens(mask_id=MASK, stop_ids=(EOS, EOT), pad_id=PAD)


class MockModel(nn.Module):
    """``rule(ids, position) -> logits row``; Dream-like models report the next position's row."""

    max_length = 4096

    def __init__(self, rule, shifted: bool = False, vocab: int = VOCAB) -> None:
        super().__init__()
        self.rule, self.vocab = rule, vocab
        self.shifted_logits = shifted
        self.anchor = nn.Parameter(torch.zeros(1))
        self.calls: list[torch.Tensor] = []

    def forward(self, input_ids, attention_mask=None, position_ids=None):
        self.calls.append(input_ids.clone())
        b, n = input_ids.shape
        if position_ids is None:
            position_ids = torch.arange(n).expand(b, -1)
        out = torch.zeros(b, n, self.vocab)
        for r in range(b):
            for i in range(n):
                target = int(position_ids[r, i]) + (1 if self.shifted_logits else 0)
                out[r, i] = self.rule(input_ids[r], target)
        return out


def one_hot_rule(token_at, confidence_at=lambda pos: 5.0):
    """Logits peaked on ``token_at(pos)`` with height ``confidence_at(pos)``; the mask column is highest."""

    def rule(ids, pos):
        row = torch.zeros(VOCAB)
        row[token_at(pos) % VOCAB] = confidence_at(pos)
        row[MASK] = 100.0  # the engine must never let the mask token be chosen
        return row

    return rule

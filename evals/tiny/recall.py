"""Multi-query associative recall (MQAR): a short phase that grows the induction step.

Zoology's MQAR (Arora et al., arXiv 2312.04927, §3) on the name tokens of the list ops:

    Jack Baker Kurt Kahn Ola Bell <eot> Ola Bell Jack Baker Ola Bell Kurt Kahn ...

2-4 "first last" pairs (``--mqar-pairs``), a separator, then 8 queries drawn with
replacement, each a first name followed by its last name. The loss is on the queried last
names only: every one is an induction step (find the first name in the pairs, copy the token
after it). Sort, shuffle and the random ops fail exactly there (right first names, wrong last
names; see `evals/tiny/EXPERIMENTS.md`). The tiny models never learnt the step from the list ops, nor from a
one-query lookup task (13,500 steps at chance; a bare GPT was at chance after 4,000 too), but
on MQAR, with 8 queries per row, a 2-layer d 128 model learns it causally within ~500 steps
and it transfers: held-out one-query lookups rose to 91-99% with no lookup training. Under
the diffusion objective it forms only on top of a causal one (from scratch: chance after 800
steps). Deviation from Zoology: the keys and values are the suite's first- and last-name
tokens (disjoint pools), not random vocabulary.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch

from dllm.evals.synthetic.pools import FIRST_NAMES, LAST_NAMES
from dllm.evals.tiny.data import Batch, collate

RECALL_TASK = "mqar"  # the schedule's name for this phase's data (causal or diffusion phases)
# 2-4 pairs: with 3-6 (the list ops' lengths) the step formed within 300 steps for three
# seeds and model pairs and not in 600-2,000 steps for three others (Dream seed 0 among them);
# with 2-4 it formed within 300 steps in all three runs tried, two of them failures at 3-6.
PAIRS, QUERIES = (2, 4), 8


def name_token_ids(tokenizer) -> tuple[list[int], list[int]]:
    """First names as they follow a quote (`Jack`), last names after a space (`ĠBaker`): the
    single tokens the list ops use. A one-line error if the tokenizer splits any of them."""
    vocab = tokenizer.get_vocab()
    first = [vocab.get(name) for name in FIRST_NAMES]
    last = [vocab.get(pieces[0]) if len(pieces := tokenizer.tokenize(" " + name)) == 1 else None for name in LAST_NAMES]
    missing = [n for n, i in zip(FIRST_NAMES + LAST_NAMES, first + last) if i is None]
    if missing:
        raise ValueError(f"MQAR needs every name as one token; the tokenizer splits {missing[:5]}: "
                         "train it on the suite (evals/tiny/tokenizer.py)")
    return first, last


def recall_rows(first: list[int], last: list[int], sep: int, rows: int, generator: torch.Generator,
                pairs: tuple[int, int] = PAIRS, both_ways: bool = False,
                backward: float = 0.0) -> list[tuple[list[int], list[bool]]]:
    """`rows` MQAR sequences of `pairs` (min, max) pairs, each with its target flags (True on
    the queried last names, and on the queries' first names too when `both_ways`: under
    masked diffusion a query then asks for the lookup in either direction, last -> first
    when only its first name is masked). A `backward` share of the queries is written last
    name first (`Bell Ola`), targeting the first name: the lookup a causal model needs to
    sort by last name, which forward queries never train (see `binding.py`)."""
    out = []
    for _ in range(rows):
        n = int(torch.randint(pairs[0], pairs[1] + 1, (), generator=generator))
        keys = torch.randperm(len(first), generator=generator)[:n].tolist()
        values = torch.randperm(len(last), generator=generator)[:n].tolist()
        seq = [tok for k, v in zip(keys, values) for tok in (first[k], last[v])] + [sep]
        target = [False] * len(seq)
        queries = torch.randint(n, (QUERIES,), generator=generator).tolist()
        # Drawn only when asked for, so the default stream stays the one the shipped models saw.
        flips = (torch.rand(QUERIES, generator=generator) < backward).tolist() if backward else [False] * QUERIES
        for q, flip in zip(queries, flips):
            query = [first[keys[q]], last[values[q]]]
            seq += query[::-1] if flip else query
            target += [both_ways, True]  # the second name answers the first, either way round
        out.append((seq, target))
    return out


def recall_batch(rows: list[tuple[list[int], list[bool]]], pad_id: int,
                 names: tuple[list[int], int] | None = None) -> Batch:
    """Left-padded by `data.collate`; `answer_region` holds the targets, so the causal loss
    (`train.next_token_ce`) scores exactly the queried last names. Given `names` (the
    first-name ids and the separator), `query_first` marks the first names after the
    separator, the queries' (for `directed_mask` and the backward probe)."""
    batch = collate([(seq, []) for seq, _ in rows], pad_id)
    width = batch.input_ids.shape[1]
    for row, (seq, target) in enumerate(rows):
        batch.answer_region[row, width - len(seq):] = torch.tensor(target)
    if names is not None:
        first, sep = names
        after_separator = (batch.input_ids == sep).cumsum(1) > 0
        batch.query_first = after_separator & torch.isin(batch.input_ids, torch.tensor(first))
    return batch


def directed_mask(batch: Batch, masked: torch.Tensor, p: torch.Tensor, share: float,
                  generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Replace a `share` of the MQAR rows' random masks by directed ones: every query's last
    name masked and its first name shown (the forward lookup), or, in half of them, every
    first name masked and its last name shown (the backward lookup). Returns (masked, p).

    Random masks over both names rarely leave a first name masked beside its shown partner,
    and the backward lookup never formed from them in a mixed phase; eight backward lookups
    per row grow it within ~100 steps (`EXPERIMENTS.md`)."""
    rows = batch.input_ids.shape[0]
    directed = torch.rand(rows, generator=generator) < share
    backward = torch.rand(rows, generator=generator) < 0.5
    half = torch.where(backward[:, None], batch.query_first, batch.answer_region & ~batch.query_first)
    return torch.where(directed[:, None], half, masked), torch.where(directed, torch.ones_like(p), p)


def recall_probe_batch(tokenizer, sep: int, seed: int, pairs: tuple[int, int] = PAIRS, rows: int = 256,
                       backward: float = 0.0) -> Batch:
    """A fixed held-out batch (its own seed) for `recall_accuracy`."""
    first, last = name_token_ids(tokenizer)
    return recall_batch(recall_rows(first, last, sep, rows, torch.Generator().manual_seed(seed), pairs,
                                    backward=backward), tokenizer.pad_token_id, (first, sep))


def recall_batches(tokenizer, sep: int, token_budget: int, seed: int, pairs: tuple[int, int] = PAIRS,
                   both_ways: bool = False, backward: float = 0.0) -> Iterator[Batch]:
    """Endless MQAR batches of about `token_budget` tokens."""
    first, last = name_token_ids(tokenizer)
    generator = torch.Generator().manual_seed(seed)
    rows = max(1, token_budget // (2 * pairs[1] + 1 + 2 * QUERIES))
    while True:
        yield recall_batch(recall_rows(first, last, sep, rows, generator, pairs, both_ways, backward),
                           tokenizer.pad_token_id, (first, sep))


def recall_accuracy(model: torch.nn.Module, batch: Batch, mask_id: int | None = None, backward: bool = False) -> float:
    """Held-out accuracy (%) on the queried last names: teacher-forced under a causal mask, or,
    given `mask_id`, with every target masked and bidirectional attention (what a diffusion
    phase trains; each family's logits aligned to the position they score). `backward` (with
    `mask_id`): the queries' first names masked and scored instead, their last names shown."""
    from dllm.evals.tiny.train import causal_mask
    from dllm.models import aligned_logits

    target = batch.query_first if backward else batch.answer_region
    if backward and (mask_id is None or target is None):
        raise ValueError("the backward recall probe needs mask_id and a batch built with names")
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            if mask_id is None:
                logits = model(batch.input_ids, attention_mask=causal_mask(batch.attention_mask))
                hits = logits[:, :-1].argmax(-1)[target[:, 1:]] == batch.input_ids[:, 1:][target[:, 1:]]
            else:
                noisy = batch.input_ids.masked_fill(target, mask_id)
                logits = aligned_logits(model, model(noisy, attention_mask=batch.attention_mask))
                hits = logits.argmax(-1)[target] == batch.input_ids[target]
    finally:
        model.train(was_training)
    return round(100.0 * hits.float().mean().item(), 1)

"""Train `tiny-llada` or `tiny-dream` on the synthetic suite with the masked-diffusion objective.

    python -m dllm.evals.tiny.train --family llada --out /tmp/tiny-llada
    python -m dllm.evals.tiny.train --family dream --out /tmp/tiny-dream

(the default schedule; the bundled models come from two-stage runs whose commands are in the
README's "Bundled tiny models" section)

A schedule (``--schedule``, `schedule.py`) of phases, each a task set, an objective and a
step count, on length-bucketed batches of its tasks. Two objectives (and a third, below):

1. ``causal`` (warm start): causal attention and next-token cross-entropy on the answer
   (the logits at i - 1 score token i), as Dream starts from Qwen2.5's AR weights.
2. ``diffusion``: masked diffusion (LLaDA SFT, Nie et al., arXiv 2502.09992, Eq. 5): bidirectional
   attention, the prompt clean, every answer token (EOS padding included) masked with
   probability t ~ U(0, 1), cross-entropy on masked tokens weighted by 1/t, capped at
   ``--max-weight``. LLaDA predicts at the same position, Dream with its shift (through
   `dllm.models.aligned_logits`).

3. ``masked_causal`` (LLaDA only, `slots.py`): the causal warm start in LLaDA's layout, each
   answer token scored at a mask slot in its own position that sees the clean tokens before
   it (Block Diffusion's two-copy layout with blocks of one token). Not in a shipped recipe
   (`EXPERIMENTS.md`, "repeat suppression").

Deviations from the papers, each measured (names copy, d 128, 2 layers, one CPU thread):

* The warm start, for LLaDA too (the paper trains from scratch). Pure masked diffusion did
  not learn to copy at all in 3,000 steps: the decoded names never depend on the prompt, and
  revealing the left context of each answer slot does not help (copy held-out token
  accuracy 0.54 = the punctuation, whether the rest of the answer is masked or not). The
  causal phase passes the same plateau around step 600-800 (loss 1.4 -> 0.06 by step 1,200):
  an induction circuit forms there far more easily than under random masks.
* Causal phases pad each answer with one EOS only (decoding stops at end-of-turn), so a
  batch holds more answers: ten list ops, 3,000 steps, held-out greedy causal accuracy 43%
  against 19% with the diffusion canvases (below); 1,536- or 6,144-token batches learnt
  slower per minute than 3,072.
* Tight canvases (``--canvas-mix``) in diffusion phases: most examples are padded just past
  the answer, not to the evaluation canvas. With 55% at the full canvas the causal phase
  stayed at its plateau (0.68 after 1,400 steps) because a batch held a third as many
  answers; with tight canvases it learned (0.06). Some full and longer canvases keep the EOS
  fill learnt.
* ``--max-weight 1`` (plain masked cross-entropy): with ~30 examples per batch the uncapped
  1/t weight lets the one or two tokens of low-t rows dominate every step (fixed-length
  copy, 600 steps: loss 1.8 uncapped, 0.93 capped at 5, 0.33 capped at 1).
* An optional MQAR phase first (``mqar:causal:600``, `recall.py`): dense associative recall
  on the name tokens grows the induction step in ~300 steps, which the list ops alone never
  grew (sort, shuffle and the random ops need it to pair each first name with its last
  name). With it the causal probe reached 90% in 5,000 steps against 65% in 8,000 without;
  the diffusion phase after it still loses most of that (`EXPERIMENTS.md`), so the default schedule
  does not include it (both shipped recipes do; README).
* ``mqar`` next to suite tasks in a phase (e.g. ``list_ops,mqar:diffusion:10000``): a
  ``--mqar-share`` of its batches are MQAR rows, whose queries under diffusion target both
  names (the lookup either way). After a causal MQAR stage this keeps the forward lookup
  through the diffusion phase (held-out recall 96%; `binding.py`: a last name from its
  first name 99% against 47% without it on sort), where plain diffusion loses it (52.8% both ways);
  on a model trained under diffusion without it, MQAR recall stays at chance.
* ``--mqar-directed`` (off by default): a share of the diffusion MQAR rows mask all their
  queries' last names, or (half of them) all their first names. Random masks rarely leave a
  first name masked beside its shown last name; directed rows grew the backward lookup in
  MQAR within 200 steps (34.7 -> 89.2%, the log's ``backward`` probe), but it did not carry
  over to the list ops (`EXPERIMENTS.md`), so no shipped recipe uses it.
* ``--first-name-share`` (off by default): a share of the diffusion rows with names mask only
  their first names (each with the row's t), the rest of the answer shown: the state a
  confidence-ordered decode reaches after committing last names first (`order.py`). On the
  bundled tiny-llada, 700 steps at 1.0 then 1,500 at 0.3 (two phases of one run; with this
  flag, two ``--init-from`` runs) grew the backward lookup (binding first|all last 55.9 ->
  94.4% on sort) and kept the other ops; at 0.3 alone it did not form in 800 steps, and at 1.0 the other ops are lost. A run of that
  kind inside the 45 minutes lost JSON (19%), whose rows hold a name too (`EXPERIMENTS.md`);
  ``--first-name-min 2`` keeps the mask to rows with two or more names (the list ops), and the
  shipped tiny-llada's three-stage recipe uses it (JSON 99%, remove_random 99% at k = 1).
* Training-only name tasks in a schedule phase (``name_shuffle``, ``name_replace``,
  `name_shuffle.py`), weighted with ``--task-weight``: shuffles of 6-10 first names grew the
  used-item suppression the random ops need (`EXPERIMENTS.md`); the shipped tiny-llada keeps them at
  ``name_shuffle=8`` in its last stage so the suppression its name-shuffle stage grew is kept.
* The schedule: the ten list ops, the JSON record and the Latin square causal, then the same
  tasks under masked diffusion. The diffusion phase reaches the causal phase's accuracy in
  ~2,500 steps (LLaDA relearns same-position prediction; Dream keeps its shift). Growing from copy a family at a time failed (adding
  the long family or eight list ops in short stages erased copy and reverse), as did the
  whole suite at once (d 128, 4 layers: loss 1.58 -> 1.05 after 5,000 causal steps).
* The long lists join only in a late diffusion stage (``--init-from``, lr 1e-3): in every
  phase from the start (two threads, weights 0.35 / 0.5) the diffusion phase stayed at 0-1%
  held-out accuracy for 8,000 steps after a causal phase at copy 100 / reverse 63. A fifth of
  their canvases run from 256 to 1024 positions (``--long-canvas-mix``): with the short
  tasks' 5% the models ended them after ~50 tokens, or at once, on a 1024 canvas.
* ``--suffix-share`` (off by default): a share of diffusion rows masks an answer suffix, the
  states a left-to-right greedy decode visits. Adapting the causal list-op model at 0.5 was
  as good as random masks (held-out mean 49% vs 52% at step 2,500), so the default keeps
  LLaDA's objective; both shipped second stages use 0.3, which made the long lists end where
  they should in blocks of 32 (`EXPERIMENTS.md`).
* Arithmetic (``add,sub``) trains under diffusion only, in the fixed-width columns of
  `evals/synthetic/arith.py`: tiny-llada's diffusion phases take it (97 / 100% at k = 1).
  In natural widths diffusion stayed at 0% for 14,000 steps and causal phases at 0-6%
  (`EXPERIMENTS.md`).
* ``--anneal-steps`` (off by default): the first diffusion steps of a run open the causal
  mask gradually (DiffuLLaMA). After an MQAR + list-ops causal stage it is the one conversion
  tried that kept part of the binding skill (Dream, decoded left to right; `evals/tiny/EXPERIMENTS.md`).
* The loss is normalised by the answer tokens in the whole batch rather than per example.
* ``--optimizer muon`` (`optim.py`): Muon on the blocks' matrices, AdamW on the embeddings,
  the head and the vectors, at the same learning rates. The first stage's causal phases
  (``mqar:causal:600 list_ops,json_record,latin_square:causal:1800``, one thread) probe 71.4%
  at step 1,200 and 92.2% at 2,400 against AdamW's 15.6% and 80.7%, at 8% fewer tokens/s on
  one thread (about 23k against 29k tokens/s on two).
* bf16 autocast (``--precision``), fp32 master weights: 2.8x the fp32 throughput on
  AVX512-BF16 CPUs; the causal phase learns a little slower per step (0.22 vs 0.06 at
  step 1,200) but much faster per minute.

Deterministic for a given `--seed`, `--schedule` and thread count. The weights are written in
bfloat16 (like the real checkpoints; ``--save-dtype``) with the real tensor names through
`dllm.models.writer` (atomic), plus `training.json` with the arguments, the loss curve,
held-out decode accuracy every ``--probe-every`` steps (`probe.py`) and the environment.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import torch
from torch import nn

from dllm.env import environment
from dllm.evals.synthetic import make_corpus
from dllm.evals.tiny.data import (CANVAS_MIX, LONG_CANVAS_MIX, TASK_WEIGHTS, TRAINING_ONLY_TASKS, batches, corrupt,
                                  encode_examples, first_name_mask)
from dllm.evals.tiny.name_shuffle import name_task_examples
from dllm.evals.tiny.optim import OPTIMIZERS, make_optimizer
from dllm.evals.tiny.probe import Probe
from dllm.evals.tiny.recall import (PAIRS, RECALL_TASK, directed_mask, name_token_ids, recall_accuracy,
                                   recall_batches, recall_probe_batch)
from dllm.evals.tiny.schedule import DEFAULT_SCHEDULE, all_tasks, eval_tasks, lr_at, parse_schedule
from dllm.evals.tiny.slots import masked_causal_loss, slot_accuracy
from dllm.evals.tiny.tokenizer import FAMILY_TOKENS, train_tokenizer
from dllm.models import aligned_logits
from dllm.models.loader import build_model
from dllm.models.writer import write_checkpoint
from dllm.testing import byte_tokenizer, tiny_config


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--family", choices=["llada", "dream"], required=True)
    p.add_argument("--out", type=Path, required=True, help="checkpoint directory to write")
    p.add_argument("--schedule", nargs="+", default=list(DEFAULT_SCHEDULE), metavar="TASKS:OBJECTIVE:STEPS",
                   help="phases in order (see schedule.py); objective causal, diffusion, mixed or masked_causal (LLaDA, slots.py)")
    p.add_argument("--token-budget", type=int, default=3072, help="padded tokens per batch")
    p.add_argument("--causal-share", type=float, default=0.5, help="share of causal rows in a mixed phase")
    p.add_argument("--suffix-share", type=float, default=0.0,
                   help="share of diffusion rows masked as an answer suffix instead of at random (see data.corrupt)")
    p.add_argument("--task-weight", action="append", default=[], metavar="TASK=W", type=task_weight,
                   help="sampling weight of a task's examples (default: data.TASK_WEIGHTS); repeatable")
    p.add_argument("--mqar-share", type=float, default=0.25,
                   help="share of the batches drawn from MQAR in a phase that lists mqar next to suite tasks")
    p.add_argument("--mqar-backward", type=float, default=0.0,
                   help="share of MQAR queries written last name first, targeting the first name (recall.py)")
    p.add_argument("--mqar-directed", type=float, default=0.0,
                   help="share of diffusion MQAR rows that mask every query's last name or (half) every first "
                        "name, instead of random masks: the backward lookup (recall.directed_mask)")
    p.add_argument("--first-name-share", type=float, default=0.0,
                   help="share of diffusion rows with names that mask only their first names, the rest of the "
                        "answer shown (data.first_name_mask): the backward lookup")
    p.add_argument("--first-name-min", type=int, default=1, metavar="N",
                   help="only rows whose answer holds N or more first names get --first-name-share's mask "
                        "(2: the list ops, not the JSON record)")
    p.add_argument("--name-share", type=float, default=0.0,
                   help="a further share of those rows that mask only their names, first and last, the skeleton "
                        "shown (data.first_name_mask): which items are already written")
    p.add_argument("--pair-share", type=float, default=0.0,
                   help="a further share of those rows that mask whole First Last pairs, the rest shown "
                        "(data.first_name_mask): an item found only as the one still unused")
    p.add_argument("--hole-share", type=float, default=0.0,
                   help="a further share of those rows that mask one First Last pair only, or one of its names "
                        "(data.first_name_mask): the last hole of a decode, fixed by the rest")
    p.add_argument("--hole-tasks", type=lambda text: text.split(","), default=None, metavar="T1,T2",
                   help="give --hole-share's holes to these tasks' rows only (default: every short list op)")
    p.add_argument("--mqar-pairs", type=int, nargs=2, default=PAIRS, metavar=("MIN", "MAX"),
                   help="pairs per row in an mqar phase (recall.py)")
    p.add_argument("--anneal-steps", type=int, default=0,
                   help="open the causal mask over the run's first N diffusion steps (train.annealed_mask; 0: off)")
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--warmup", type=int, default=100, help="warm-up steps of the first phase")
    p.add_argument("--phase-warmup", type=int, default=50, help="warm-up steps of every later phase")
    p.add_argument("--weight-decay", type=float, default=0.05)
    p.add_argument("--optimizer", choices=OPTIMIZERS, default="adamw",
                   help="muon: Muon on the blocks' matrices, AdamW on the rest (optim.py)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--vocab-size", type=int, default=1024, help="BPE target (merges stop earlier on a small corpus)")
    p.add_argument("--n-per-task", type=int, default=12000, help="distinct train instances per task")
    p.add_argument("--d-model", type=int, default=128)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--kv-heads", type=int, default=None, help="default: heads (LLaDA), heads/2 (Dream)")
    p.add_argument("--mlp", type=int, default=512)
    p.add_argument("--max-minutes", type=float, default=45.0, help="stop early (and record it) past this")
    p.add_argument("--max-steps", type=int, default=0,
                   help="stop after this many steps in all (0: off): repeats on another CPU a run a time cap stopped")
    p.add_argument("--log-every", type=int, default=100)
    p.add_argument("--max-weight", type=float, default=1.0,
                   help="cap on the 1/t loss weight (0: uncapped, as LLaDA; small batches need a cap)")
    p.add_argument("--precision", choices=["bf16", "fp32"], default="bf16",
                   help="bf16: autocast matmuls (fp32 master weights), ~2.8x faster on CPUs with AVX512-BF16")
    p.add_argument("--save-dtype", choices=["bfloat16", "float32"], default="bfloat16",
                   help="weights dtype on disk (the real LLaDA/Dream checkpoints are bfloat16)")
    p.add_argument("--canvas-mix", type=float, nargs=2, default=CANVAS_MIX, metavar=("STANDARD", "TIGHT"),
                   help="fractions of examples padded to the eval canvas and to just past the answer")
    p.add_argument("--long-canvas-mix", type=float, nargs=2, default=LONG_CANVAS_MIX, metavar=("STANDARD", "TIGHT"),
                   help="the same for the long lists (the rest: 256 to 1024 positions)")
    p.add_argument("--probe-every", type=int, default=1000, help="held-out decode accuracy every N steps (0: off)")
    p.add_argument("--probe-n", type=int, default=16, help="held-out instances per short task in a probe")
    p.add_argument("--init-from", type=Path, default=None,
                   help="continue from this checkpoint (its tokenizer and weights; its training.json is kept)")
    args = p.parse_args(argv)
    if not 1 <= args.mqar_pairs[0] <= args.mqar_pairs[1] <= 60:
        p.error(f"--mqar-pairs {args.mqar_pairs[0]} {args.mqar_pairs[1]}: need 1 <= MIN <= MAX <= 60 (e.g. 2 4)")
    if args.max_steps < 0:
        p.error(f"--max-steps {args.max_steps}: need 0 (off) or a positive step count (e.g. 11256)")
    for flag in ("mqar_backward", "mqar_directed", "first_name_share", "name_share", "pair_share", "hole_share"):
        if not 0.0 <= getattr(args, flag) <= 1.0:
            p.error(f"--{flag.replace('_', '-')} {getattr(args, flag)}: need a share between 0 and 1 (e.g. 0.5)")
    if args.first_name_share + args.name_share + args.pair_share + args.hole_share > 1.0:
        p.error(f"--first-name-share {args.first_name_share}, --name-share {args.name_share}, --pair-share "
                f"{args.pair_share} and --hole-share {args.hole_share}: the shares split the same rows, so they "
                "must sum to 1 or less (e.g. 0.3 and 0.3)")
    try:
        phases = parse_schedule(args.schedule)
    except ValueError as err:
        p.error(str(err))
    if args.family == "dream" and any(phase.objective == "masked_causal" for phase in phases):
        p.error("--schedule: masked_causal scores a token at its own position, LLaDA's layout; Dream's causal "
                "phases already train its shifted one (use causal)")
    if args.hole_tasks is not None:
        from dllm.evals.synthetic.list_ops import LIST_OPS

        unknown = sorted(set(args.hole_tasks) - {op.name for op in LIST_OPS})
        if unknown:
            p.error(f"--hole-tasks {','.join(args.hole_tasks)}: {', '.join(unknown)} is not a short list op "
                    "(e.g. replace_random,insert_random)")
    if args.first_name_min < 1:
        p.error(f"--first-name-min {args.first_name_min}: need a name count of at least 1 (e.g. 2)")
    if not 0.0 < args.mqar_share < 1.0:
        p.error(f"--mqar-share {args.mqar_share}: need a share strictly between 0 and 1 (e.g. 0.25)")
    for flag in ("canvas_mix", "long_canvas_mix"):
        shares = getattr(args, flag)
        if min(shares) < 0 or sum(shares) > 1:
            p.error(f"--{flag.replace('_', '-')} {shares[0]} {shares[1]}: two shares >= 0 summing to at most 1 (e.g. 0.1 0.7)")
    return args


def task_weight(text: str) -> tuple[str, float]:
    """`copy=2` -> ("copy", 2.0), for ``--task-weight``."""
    name, _, value = text.partition("=")
    if name not in TASK_WEIGHTS:
        raise argparse.ArgumentTypeError(f"unknown task {name!r}: one of {', '.join(TASK_WEIGHTS)}")
    try:
        weight = float(value)
    except ValueError:
        weight = -1.0
    if weight <= 0:
        raise argparse.ArgumentTypeError(f"weight {value!r} of {name} must be a positive number (e.g. {name}=0.5)")
    return name, weight


def build_tokenizer(family: str, vocab_size: int):
    """BPE trained on chat-rendered train instances, so template words merge too."""
    template = byte_tokenizer(family)
    texts = [
        template.apply_chat_template([{"role": "user", "content": inst.prompt}], tokenize=False,
                                     add_generation_prompt=True) + inst.answer
        for inst in make_corpus(500, "train", seed=0)
    ]
    return train_tokenizer(family, texts, vocab_size)


def model_config(args: argparse.Namespace, tokenizer) -> dict:
    vocab = 64 * math.ceil(len(tokenizer) / 64)  # embedding rows rounded up, as in the real models
    kv = args.kv_heads or (args.heads if args.family == "llada" else max(1, args.heads // 2))
    if args.family == "llada":
        dims = dict(d_model=args.d_model, n_heads=args.heads, n_kv_heads=kv, n_layers=args.layers,
                    mlp_hidden_size=args.mlp, vocab_size=vocab, embedding_size=vocab,
                    max_sequence_length=2048, rope_theta=10000.0)
    else:
        dims = dict(hidden_size=args.d_model, num_attention_heads=args.heads, num_key_value_heads=kv,
                    num_hidden_layers=args.layers, intermediate_size=args.mlp, vocab_size=vocab,
                    max_position_embeddings=2048, max_window_layers=args.layers, rope_theta=10000.0)
    config = tiny_config(args.family, tokenizer, **dims)
    config["torch_dtype"] = "float32"
    return config


def init_weights(model: nn.Module, n_layers: int) -> None:
    """GPT-2 style: N(0, 0.02), residual output projections scaled by 1/sqrt(2 L), zero biases."""
    for name, p in model.named_parameters():
        if p.dim() == 1:
            nn.init.ones_(p) if "norm" in name or "ln_f" in name else nn.init.zeros_(p)
            continue
        std = 0.02 / math.sqrt(2 * n_layers) if name.endswith(("attn_out.weight", "ff_out.weight", "o_proj.weight", "down_proj.weight")) and "transformer.ff_out" not in name else 0.02
        nn.init.normal_(p, std=std)


def save_weights(out: Path, model: nn.Module, config: dict, tokenizer, save_dtype: str) -> None:
    """The checkpoint in the family's real format, its weights cast to `save_dtype`."""
    dtype = getattr(torch, save_dtype)
    state = {k: v.detach().to(dtype).contiguous() for k, v in model.state_dict().items()}
    generation = {"eos_token_id": tokenizer.eos_token_id, "pad_token_id": tokenizer.pad_token_id}
    write_checkpoint(out, {**config, "torch_dtype": save_dtype}, state, tokenizer, generation_config=generation)


def weighted_masked_ce(logits: torch.Tensor, batch, masked: torch.Tensor, p: torch.Tensor,
                       max_weight: float | None, answer_tokens: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of the aligned `logits` at `masked` positions, weighted by 1/p (capped at
    ``max_weight`` when given), normalised by `answer_tokens`."""
    ce = nn.functional.cross_entropy(logits[masked].float(), batch.input_ids[masked], reduction="none")
    weights = (1.0 / p) if max_weight is None else (1.0 / p).clamp(max=max_weight)
    weights = weights[:, None].expand_as(masked)[masked]
    return (ce * weights).sum() / answer_tokens


def next_token_ce(logits: torch.Tensor, batch, rows: torch.Tensor | None = None) -> torch.Tensor:
    """Cross-entropy where the logits at i - 1 score answer token i (of `rows` only, if given)."""
    target = batch.answer_region[:, 1:] if rows is None else batch.answer_region[:, 1:] & rows[:, None]
    return nn.functional.cross_entropy(logits[:, :-1][target].float(), batch.input_ids[:, 1:][target])


def diffusion_loss(model: nn.Module, batch, mask_id: int, generator: torch.Generator,
                   max_weight: float | None = None, precision: str = "fp32", suffix_share: float = 0.0,
                   open_share: float = 1.0, directed_share: float = 0.0,
                   first_names: torch.Tensor | None = None, first_name_share: float = 0.0,
                   first_name_min: int = 1, all_names: torch.Tensor | None = None,
                   name_share: float = 0.0, last_names: torch.Tensor | None = None,
                   pair_share: float = 0.0, hole_share: float = 0.0) -> torch.Tensor:
    """Masked-token cross-entropy weighted by 1/t (capped at ``max_weight`` when given),
    normalised by the batch's answer tokens. `open_share` < 1: attention is causal plus that
    share of the future keys (`annealed_mask`). MQAR batches mask a `directed_share` of their
    rows by `recall.directed_mask`, suite batches a `first_name_share` (and a `name_share`, a
    `pair_share`, a `hole_share`) by `data.first_name_mask`."""
    noisy, masked, p = corrupt(batch, mask_id, generator, suffix_share=suffix_share)
    if directed_share > 0 and batch.query_first is not None:
        masked, p = directed_mask(batch, masked, p, directed_share, generator)
        noisy = batch.input_ids.masked_fill(masked, mask_id)
    elif first_name_share + name_share + pair_share + hole_share > 0 and first_names is not None and batch.query_first is None:
        masked = first_name_mask(batch, first_names, masked, p, first_name_share, generator, first_name_min,
                                 all_names, name_share, last_names, pair_share, hole_share)
        noisy = batch.input_ids.masked_fill(masked, mask_id)
    mask = batch.attention_mask if open_share >= 1 else annealed_mask(batch.attention_mask, open_share, generator)
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
        logits = aligned_logits(model, model(noisy, attention_mask=mask))
    return weighted_masked_ce(logits, batch, masked, p, max_weight, batch.answer_region.sum())


def causal_mask(attention_mask: torch.Tensor) -> torch.Tensor:
    """[B, L] padding mask -> [B, 1, L, L] causal mask; every row keeps its diagonal so a
    left-pad query is never fully masked."""
    width = attention_mask.shape[1]
    lower = torch.ones(width, width, dtype=torch.bool).tril()
    mask = attention_mask.bool()[:, None, None, :] & lower
    return mask | torch.eye(width, dtype=torch.bool)


def annealed_mask(attention_mask: torch.Tensor, open_share: float, generator: torch.Generator) -> torch.Tensor:
    """The causal mask with a random `open_share` of each query's future (real) keys opened:
    0 is causal, 1 bidirectional. DiffuLLaMA's attention-mask annealing (Gong et al., arXiv
    2410.17891, §3.2) for adapting a causal model to masked diffusion."""
    mask = causal_mask(attention_mask)
    if open_share > 0:
        opened = torch.rand(mask.shape, generator=generator) < open_share
        mask = mask | (opened & attention_mask.bool()[:, None, None, :])
    return mask


def autoregressive_loss(model: nn.Module, batch, precision: str = "fp32") -> torch.Tensor:
    """Next-token cross-entropy on the answer region under a causal mask: the logits at
    position i - 1 score token i, for every family (Dream keeps this layout afterwards)."""
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
        logits = model(batch.input_ids, attention_mask=causal_mask(batch.attention_mask))
    return next_token_ce(logits, batch)


def mixed_loss(model: nn.Module, batch, mask_id: int, generator: torch.Generator, causal_share: float,
               max_weight: float | None = None, precision: str = "fp32") -> torch.Tensor:
    """One forward where a random `causal_share` of the rows are clean and causal (next-token
    loss) and the rest are corrupted and bidirectional (masked-diffusion loss): the copy
    circuit the causal objective grows keeps being trained while diffusion learns to use it."""
    rows = batch.input_ids.shape[0]
    is_causal = torch.zeros(rows, dtype=torch.bool)
    is_causal[torch.randperm(rows, generator=generator)[:round(rows * causal_share)]] = True
    noisy, masked, p = corrupt(batch, mask_id, generator)
    ids = torch.where(is_causal[:, None], batch.input_ids, noisy)
    masked &= ~is_causal[:, None]
    keep = batch.attention_mask.bool()
    bidirectional = keep[:, None, None, :] | torch.eye(keep.shape[1], dtype=torch.bool)
    mask = torch.where(is_causal[:, None, None, None], causal_mask(keep), bidirectional)
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
        logits = model(ids, attention_mask=mask)
    loss = logits.new_zeros((), dtype=torch.float32)
    if is_causal.any():
        loss = loss + next_token_ce(logits, batch, is_causal)
    if masked.any():
        answer_tokens = (batch.answer_region & ~is_causal[:, None]).sum()
        loss = loss + weighted_masked_ce(aligned_logits(model, logits), batch, masked, p, max_weight, answer_tokens)
    return loss


def train(args: argparse.Namespace) -> dict:
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    previous = None
    if args.init_from:
        import dllm

        start_from = dllm.load(args.init_from, dtype="float32", device="cpu")
        tokenizer, model = start_from.tokenizer, start_from.model.train().requires_grad_(True)
        config = json.loads((args.init_from / "config.json").read_text())
        previous = json.loads((args.init_from / "training.json").read_text())
    else:
        tokenizer = build_tokenizer(args.family, args.vocab_size)
        config = model_config(args, tokenizer)
        model = build_model(Path("."), config, device="cpu").float()
        init_weights(model, args.layers)
    eot_id = tokenizer.convert_tokens_to_ids(FAMILY_TOKENS[args.family]["eot_token"])
    n_params = sum(p.numel() for p in model.parameters())
    print(f"{args.family}: {n_params / 1e6:.2f}M parameters, vocab {len(tokenizer)} (embedding {config['vocab_size']})", flush=True)

    phases = parse_schedule(args.schedule)
    first_names = all_names = last_names = None
    if args.first_name_share or args.name_share or args.pair_share or args.hole_share:
        first, last = name_token_ids(tokenizer)
        first_names, all_names, last_names = torch.tensor(first), torch.tensor(first + last), torch.tensor(last)
    examples = training_examples(tokenizer, eot_id, args, phases)
    probed = eval_tasks(phases)
    probe = Probe(tokenizer, config, probed, args.probe_n, offset=args.n_per_task,
                  dtype=torch.bfloat16 if args.precision == "bf16" else None) \
        if args.probe_every and probed else None
    opt = make_optimizer(model, args.lr, args.weight_decay, args.optimizer)
    generator = torch.Generator().manual_seed(args.seed)
    recall_probe = recall_probe_batch(tokenizer, eot_id, args.seed + 10_000, tuple(args.mqar_pairs),
                                      backward=args.mqar_backward) \
        if any(phase.recall for phase in phases) else None
    # Which steps of a phase mixing MQAR with suite tasks draw MQAR: its own stream, so the
    # suite batches are the ones the same phase without MQAR would see.
    recall_draws = torch.Generator().manual_seed(args.seed + 20_000)
    streams: dict[tuple[tuple[str, ...], bool], object] = {}
    curve, start, tokens, window = [], time.perf_counter(), 0, []
    steps_done, total, stop = 0, sum(phase.steps for phase in phases), ""
    diffusion_steps = 0  # of this run, for --anneal-steps
    for index, phase in enumerate(phases):
        print(f"phase {index + 1}/{len(phases)}: {phase}", flush=True)
        causal = phase.objective in ("causal", "masked_causal")  # left to right: one EOS per answer
        slots = phase.objective == "masked_causal"
        recall, suite = phase.recall, phase.suite_tasks
        recall_key, suite_key = ((RECALL_TASK,), causal), (suite, causal)
        # One seeded stream per task set and layout, resumed when it comes back.
        if recall and recall_key not in streams:
            streams[recall_key] = recall_batches(tokenizer, eot_id, args.token_budget, args.seed + len(streams),
                                                 tuple(args.mqar_pairs), both_ways=not causal,
                                                 backward=args.mqar_backward)
        if suite and suite_key not in streams:
            subset = {name: examples[name] for name in suite}
            mix = None if causal else tuple(args.canvas_mix)
            streams[suite_key] = batches(subset, tokenizer.pad_token_id, tokenizer.eos_token_id, args.token_budget,
                                         args.seed + len(streams), mix=mix, task_weights=dict(args.task_weight),
                                         long_mix=tuple(args.long_canvas_mix),
                                         hole_tasks=frozenset(args.hole_tasks) if args.hole_tasks is not None else None)
        warmup = args.warmup if index == 0 else args.phase_warmup
        for step in range(phase.steps):
            stop = stop_reason(args, steps_done, training_seconds(start, probe))
            if stop:
                break
            lr = lr_at(step, phase.steps, args.lr, warmup)
            for group in opt.param_groups:
                group["lr"] = lr
            draw_recall = recall and (not suite or float(torch.rand((), generator=recall_draws)) < args.mqar_share)
            batch = next(streams[recall_key if draw_recall else suite_key])
            open_share = min(1.0, diffusion_steps / args.anneal_steps) if args.anneal_steps else 1.0
            loss = phase_loss(phase.objective, model, batch, tokenizer.mask_token_id, generator, args, open_share,
                              (first_names, all_names, last_names))
            diffusion_steps += phase.objective == "diffusion"
            opt.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            tokens += batch.input_ids.numel()
            window.append(loss.item())
            steps_done += 1
            if steps_done % args.log_every == 0 or step + 1 == phase.steps:
                mean, window = sum(window) / len(window), []
                elapsed = training_seconds(start, probe)
                curve.append({"step": steps_done, "phase": index, "loss": round(mean, 4), "minutes": round(elapsed / 60, 2)})
                if recall:  # held-out recall accuracy is cheap: one forward over 256 rows
                    curve[-1]["recall_accuracy"] = (slot_accuracy(model, recall_probe, tokenizer.mask_token_id) if slots
                                                    else recall_accuracy(model, recall_probe, None if causal else tokenizer.mask_token_id))
                    if not causal:  # and the lookup the other way: a first name from its last name
                        curve[-1]["backward_recall_accuracy"] = recall_accuracy(model, recall_probe, tokenizer.mask_token_id,
                                                                                backward=True)
                print(f"step {steps_done}/{total} {phase.objective} loss {mean:.4f} lr {lr:.2e} "
                      f"{tokens / elapsed:.0f} tok/s {elapsed / 60:.1f} min"
                      + (f" recall {curve[-1]['recall_accuracy']}%" if recall else "")
                      + (f" backward {curve[-1]['backward_recall_accuracy']}%" if recall and not causal else ""), flush=True)
            if probe and phase.eval_tasks and (steps_done % args.probe_every == 0 or step + 1 == phase.steps):
                probe.record(model, steps_done, phase.eval_tasks, causal=causal, slots=slots)
        if stop:
            print(f"stopping at step {steps_done}: {stop}", flush=True)
            break
    if probe:
        probe.record(model, steps_done, probed, causal=causal, slots=slots)  # the final weights, also when the time cap stopped the run
    probe_s = probe.seconds if probe else 0.0
    minutes = (time.perf_counter() - start - probe_s) / 60
    save_weights(args.out, model, config, tokenizer, args.save_dtype)
    record = {
        "family": args.family, "parameters": n_params, "steps": steps_done, "minutes": round(minutes, 2),
        "probe_minutes": round(probe_s / 60, 2), "train_tokens": tokens, "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "loss_curve": curve, "probes": probe.history if probe else [], "env": environment("cpu", torch.float32, None),
    }
    if previous is not None:  # a continued run: keep the earlier phases and total the cost
        record["previous"] = previous
        record["total_minutes"] = round(minutes + previous.get("total_minutes", previous["minutes"]), 2)
        record["total_steps"] = steps_done + previous.get("total_steps", previous["steps"])
    (args.out / "training.json").write_text(json.dumps(record, indent=2))
    print(json.dumps({k: record[k] for k in ("family", "parameters", "steps", "minutes", "train_tokens")}))
    return record


def training_examples(tokenizer, eot_id: int, args: argparse.Namespace, phases) -> dict:
    """`--n-per-task` train instances of every task the schedule lists: the suite's, and the
    training-only name tasks (`name_shuffle.py`, the seeds its pilots used) a phase lists."""
    suite = eval_tasks(phases)
    examples = encode_examples(tokenizer, eot_id, args.n_per_task, suite) if suite else {}
    listed = all_tasks(phases)
    names = [task for task in TRAINING_ONLY_TASKS if task in listed]
    return {**examples, **name_task_examples(names, tokenizer, eot_id, args.n_per_task, args.seed)}


def phase_loss(objective: str, model: nn.Module, batch, mask_id: int, generator: torch.Generator,
               args: argparse.Namespace, open_share: float = 1.0,
               names: tuple[torch.Tensor | None, ...] = (None, None, None)) -> torch.Tensor:
    max_weight = args.max_weight or None  # 0 on the command line: uncapped
    if objective == "causal":
        return autoregressive_loss(model, batch, args.precision)
    if objective == "masked_causal":
        return masked_causal_loss(model, batch, mask_id, args.precision)
    if objective == "mixed":
        return mixed_loss(model, batch, mask_id, generator, args.causal_share, max_weight, args.precision)
    return diffusion_loss(model, batch, mask_id, generator, max_weight, args.precision, args.suffix_share, open_share,
                          directed_share=args.mqar_directed, first_names=names[0],
                          first_name_share=args.first_name_share, first_name_min=args.first_name_min,
                          all_names=names[1], name_share=args.name_share, last_names=names[2],
                          pair_share=args.pair_share, hole_share=args.hole_share)


def stop_reason(args: argparse.Namespace, steps_done: int, seconds: float) -> str:
    """Why the run ends before its next step ('' to go on): the time cap or ``--max-steps``."""
    if seconds > args.max_minutes * 60:
        return f"{args.max_minutes} minutes reached"
    if args.max_steps and steps_done >= args.max_steps:
        return f"--max-steps {args.max_steps} reached"
    return ""


def training_seconds(start: float, probe: Probe | None) -> float:
    """Wall-clock seconds since `start`, less the time spent probing."""
    return time.perf_counter() - start - (probe.seconds if probe else 0.0)


def main(argv: list[str] | None = None) -> None:
    train(parse_args(argv))


if __name__ == "__main__":
    main()

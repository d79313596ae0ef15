"""The tiny-model training pipeline: tokenizer, examples, corruption, loss, checkpoint."""

import json
import math
import random
from pathlib import Path

import pytest
import torch
from transformers import AutoTokenizer

import dllm
from dllm.evals.synthetic import make_corpus
from dllm.evals.tiny import data
from dllm.evals.tiny.tokenizer import FAMILY_TOKENS, train_tokenizer
from dllm.evals.tiny.train import autoregressive_loss, causal_mask, diffusion_loss, mixed_loss, parse_args, train
from dllm.testing import byte_tokenizer


@pytest.fixture(scope="module", params=["llada", "dream"])
def trained_tokenizer(request, tmp_path_factory):
    family = request.param
    template = byte_tokenizer(family)
    texts = [template.apply_chat_template([{"role": "user", "content": i.prompt}], tokenize=False,
                                          add_generation_prompt=True) + i.answer for i in make_corpus(20, "train")]
    tok = train_tokenizer(family, texts, vocab_size=512)
    path = tmp_path_factory.mktemp(f"tok-{family}")
    tok.save_pretrained(str(path))
    return family, AutoTokenizer.from_pretrained(str(path))


def test_tokenizer_round_trips_and_keeps_specials(trained_tokenizer):
    family, tok = trained_tokenizer
    spec = FAMILY_TOKENS[family]
    assert 300 < len(tok) <= 512
    for name in spec["specials"]:
        assert tok.convert_tokens_to_ids(name) != tok.unk_token_id and len(tok.tokenize(name)) == 1
    text = 'sort by last name: ["Amy Olsen", "Bo Lee"] 4821'
    ids = tok(text, add_special_tokens=False)["input_ids"]
    assert tok.decode(ids) == text
    assert [tok.decode([i]) for i in tok("4821", add_special_tokens=False)["input_ids"]] == ["4", "8", "2", "1"]
    assert tok.mask_token == spec["mask_token"] and tok.chat_template


def test_generation_length_covers_answer_and_varies():
    rng = random.Random(0)
    lengths = [data.generation_length(rng, 20, long=False) for _ in range(500)]
    assert min(lengths) >= 20 and data.SHORT_CANVAS in lengths
    assert max(lengths) > data.SHORT_CANVAS and len(set(lengths)) > 20
    assert all(data.generation_length(rng, 300, long=True) >= 300 for _ in range(50))
    assert all(data.generation_length(rng, 20, long=False, mix=None) == 21 for _ in range(20))


def test_collate_left_pads_and_marks_answer_region():
    batch = data.collate([([5, 6], [7, 8, 9]), ([5], [7])], pad_id=0)
    assert batch.input_ids.tolist() == [[5, 6, 7, 8, 9], [0, 0, 0, 5, 7]]
    assert batch.attention_mask.tolist() == [[True] * 5, [False] * 3 + [True] * 2]
    assert batch.answer_region.tolist() == [[False] * 2 + [True] * 3, [False] * 4 + [True]]


def test_corrupt_masks_only_the_answer_region():
    batch = data.collate([([5] * 10, [7] * 50)] * 8, pad_id=0)
    noisy, masked, p = data.corrupt(batch, mask_id=99, generator=torch.Generator().manual_seed(0))
    assert not masked[~batch.answer_region].any()
    assert torch.equal(noisy == 99, masked)
    assert ((p > 0) & (p <= 1)).all() and len(set(p.tolist())) == 8  # stratified: one t per row
    share = masked.sum(1).float() / 50
    assert torch.corrcoef(torch.stack([share, p]))[0, 1] > 0.8


def test_suffix_corruption_masks_the_answer_end():
    batch = data.collate([([5] * 3, [7] * 10), ([5], [7] * 4)] * 4, pad_id=0)
    noisy, masked, p = data.corrupt(batch, 99, torch.Generator().manual_seed(1), suffix_share=1.0)
    assert not masked[~batch.answer_region].any() and torch.equal(noisy == 99, masked)
    for row in range(8):
        bits = masked[row][batch.answer_region[row]].tolist()
        n = len(bits)
        assert bits == [False] * (n - sum(bits)) + [True] * sum(bits)  # a suffix
        assert sum(bits) == max(1, math.ceil(p[row].item() * n))


class _Oracle(torch.nn.Module):
    """Logits that put all mass on the clean token, at offset 0 (LLaDA) or 1 (Dream)."""

    def __init__(self, clean: torch.Tensor, shifted: bool, emits_shifted: bool, vocab: int = 100):
        super().__init__()
        self.clean, self.shifted_logits, self.emits_shifted, self.vocab = clean, shifted, emits_shifted, vocab

    def forward(self, ids, attention_mask=None):
        target = self.clean[:, 1:] if self.emits_shifted else self.clean
        logits = torch.full((*ids.shape, self.vocab), -30.0)
        if self.emits_shifted:
            logits[:, :-1].scatter_(-1, target[..., None], 30.0)
        else:
            logits.scatter_(-1, target[..., None], 30.0)
        return logits


@pytest.mark.parametrize("shifted", [False, True])
def test_loss_follows_the_family_alignment(shifted):
    batch = data.collate([([5, 6, 7], [10, 11, 12, 13])] * 4, pad_id=0)
    gen = torch.Generator().manual_seed(1)
    right = diffusion_loss(_Oracle(batch.input_ids, shifted, shifted), batch, 99, gen)
    wrong = diffusion_loss(_Oracle(batch.input_ids, shifted, not shifted), batch, 99, torch.Generator().manual_seed(1))
    assert right.item() < 1e-6 and wrong.item() > 1.0


@pytest.mark.parametrize("family", ["llada", "dream"])
def test_train_writes_a_loadable_checkpoint(tmp_path, family):
    out = tmp_path / f"tiny-{family}"
    args = parse_args(["--family", family, "--out", str(out), "--schedule", "all:diffusion:3", "--n-per-task", "4", "--d-model", "32",
                       "--layers", "1", "--heads", "2", "--mlp", "48", "--vocab-size", "400", "--token-budget", "512",
                       "--log-every", "1", "--threads", "2"])
    record = train(args)
    assert record["steps"] == 3 and len(record["loss_curve"]) == 3
    lm = dllm.load(out, device="cpu")
    assert lm.model.family == family and lm.special.mask_id == lm.tokenizer.mask_token_id
    assert lm.special.eos_id in lm.special.stop_ids and len(lm.special.stop_ids) == 2  # eos + end of turn
    result = lm.generate("copy: [\"Amy Lee\"]", max_new_tokens=8, steps=8)[0]
    assert result.nfe <= 8


def test_max_steps_stops_the_run_inside_a_later_phase(tmp_path, capsys):
    args = parse_args(["--family", "llada", "--out", str(tmp_path / "tiny"), "--n-per-task", "4", "--d-model", "32",
                       "--layers", "1", "--heads", "2", "--mlp", "48", "--vocab-size", "400", "--token-budget", "512",
                       "--log-every", "1", "--probe-every", "0", "--max-steps", "4",
                       "--schedule", "copy:causal:3", "copy:diffusion:3"])
    record = train(args)
    assert record["steps"] == 4 and [point["phase"] for point in record["loss_curve"]] == [0, 0, 0, 1]
    assert "stopping at step 4: --max-steps 4 reached" in capsys.readouterr().out


def test_negative_max_steps_is_refused(capsys):
    with pytest.raises(SystemExit):
        parse_args(["--family", "llada", "--out", "x", "--max-steps", "-1"])
    assert "--max-steps -1" in capsys.readouterr().err


def test_capped_weight_of_one_is_the_plain_masked_mean():
    batch = data.collate([([5, 6, 7], [10, 11, 12, 13])] * 6, pad_id=0)
    model = _Oracle(batch.input_ids, False, False)
    model.forward = lambda ids, attention_mask=None: torch.zeros(*ids.shape, 100)  # uniform: CE = log(100) everywhere
    capped = diffusion_loss(model, batch, 99, torch.Generator().manual_seed(3), max_weight=1.0)
    noisy, masked, _ = data.corrupt(batch, 99, torch.Generator().manual_seed(3))
    assert torch.isclose(capped, torch.log(torch.tensor(100.0)) * masked.sum() / batch.answer_region.sum())
    uncapped = diffusion_loss(model, batch, 99, torch.Generator().manual_seed(3))
    assert uncapped > capped  # 1/t >= 1


def test_causal_mask_hides_the_future_and_padding():
    attention = torch.tensor([[False, True, True, True]])
    mask = causal_mask(attention)[0, 0]
    assert mask.shape == (4, 4) and mask.diagonal().all()  # no query row is ever empty
    assert not mask[1:, 0].any()  # the pad key is hidden from real queries
    assert not mask[1, 2:].any() and mask[3, 1:].all()
    assert not torch.triu(mask, diagonal=1).any()


@pytest.mark.parametrize("family", ["llada", "dream"])
def test_four_d_mask_makes_the_model_causal(family):
    from dllm.models.loader import build_model
    from dllm.testing import tiny_config

    tok = byte_tokenizer(family)
    cfg = tiny_config(family, tok)
    model = build_model(Path("."), cfg, device="cpu").float().eval()
    ids = torch.randint(0, 200, (1, 10))
    changed = ids.clone()
    changed[0, 6:] = (changed[0, 6:] + 1) % 200
    causal = causal_mask(torch.ones_like(ids, dtype=torch.bool))
    with torch.no_grad():
        a, b = model(ids, attention_mask=causal), model(changed, attention_mask=causal)
        full_a, full_b = model(ids), model(changed)
    assert torch.allclose(a[0, :6], b[0, :6], atol=1e-5)  # the past does not see the future
    assert not torch.allclose(full_a[0, :6], full_b[0, :6], atol=1e-5)  # bidirectional by default


def test_autoregressive_loss_scores_the_next_token_for_every_family():
    batch = data.collate([([5, 6, 7], [10, 11, 12, 13])] * 4, pad_id=0)
    next_token = autoregressive_loss(_Oracle(batch.input_ids, True, True), batch)
    same_position = autoregressive_loss(_Oracle(batch.input_ids, False, False), batch)
    assert next_token.item() < 1e-6 and same_position.item() > 1.0


def test_warm_start_then_diffusion_records_probes(tmp_path):
    out = tmp_path / "tiny"
    args = parse_args(["--family", "llada", "--out", str(out), "--n-per-task", "4",
                       "--d-model", "32", "--layers", "1", "--heads", "2", "--mlp", "48", "--vocab-size", "400",
                       "--token-budget", "512", "--log-every", "2", "--probe-every", "4", "--probe-n", "1",
                       "--schedule", "copy:causal:1", "copy,add:causal:1", "copy,add:diffusion:2"])
    record = train(args)
    assert [p["step"] for p in record["probes"]] == [1, 2, 4]
    assert [p["decode"] for p in record["probes"]] == ["causal", "causal", "diffusion"]
    assert set(record["probes"][0]["accuracy"]) == {"copy", "mean"}
    assert [point["phase"] for point in record["loss_curve"]] == [0, 1, 2]
    accuracy = record["probes"][-1]["accuracy"]
    assert set(accuracy) == {"copy", "add", "mean"} and all(0 <= v <= 100 for v in accuracy.values())
    assert json.loads((out / "config.json").read_text())["torch_dtype"] == "bfloat16"
    assert dllm.load(out, device="cpu").dtype == torch.bfloat16


class _Recorder(torch.nn.Module):
    """Uniform logits; keeps what the loss fed it."""

    def forward(self, ids, attention_mask=None):
        self.ids, self.mask = ids, attention_mask
        return torch.zeros(*ids.shape, 100, requires_grad=True)


def test_mixed_loss_gives_clean_causal_rows_and_masked_bidirectional_rows():
    batch = data.collate([([5, 6, 7], [10, 11, 12, 13, 14, 15])] * 6 + [([5, 6], [10, 11])] * 2, pad_id=0)
    model = _Recorder()
    loss = mixed_loss(model, batch, 99, torch.Generator().manual_seed(3), causal_share=0.5)
    real = batch.attention_mask
    causal_rows = [r for r in range(8) if not model.mask[r, 0][real[r]][:, real[r]].all()]
    assert len(causal_rows) == 4
    lower = torch.ones(9, 9, dtype=torch.bool).tril()
    for r in range(8):
        real = batch.attention_mask[r]
        if r in causal_rows:
            assert torch.equal(model.ids[r], batch.input_ids[r])
            assert torch.equal(model.mask[r, 0][real][:, real], lower[real][:, real])
        else:
            assert model.mask[r, 0][real][:, real].all()
            assert torch.equal(model.ids[r] == 99, (model.ids[r] != batch.input_ids[r]))
    assert loss > torch.log(torch.tensor(100.0))  # the causal rows' ln V plus the masked rows' share


def test_mixed_loss_with_only_causal_rows_is_the_autoregressive_loss():
    batch = data.collate([([5, 6, 7], [10, 11, 12, 13])] * 4, pad_id=0)
    model = _Oracle(batch.input_ids, True, True)
    mixed = mixed_loss(model, batch, 99, torch.Generator().manual_seed(0), causal_share=1.0)
    assert torch.isclose(mixed, autoregressive_loss(model, batch))


class _CausalOracle(torch.nn.Module):
    """Under a causal mask, puts all mass at the last position on the next token of a stored
    answer (then end-of-turn); `wrong` shifts every token by one id."""

    def __init__(self, answers: dict[tuple[int, ...], list[int]], eot: int, wrong: bool = False):
        super().__init__()
        self.answers, self.eot, self.wrong, self.vocab = answers, eot, wrong, 2048

    def forward(self, ids, attention_mask=None):
        assert attention_mask is not None and not attention_mask[0, 0, 0, 1:].any()  # causal
        seq = ids[0].tolist()
        prompt = next(p for p in self.answers if tuple(seq[:len(p)]) == p)
        answer = self.answers[prompt] + [self.eot]
        token = answer[min(len(seq) - len(prompt), len(answer) - 1)] + int(self.wrong)
        logits = torch.zeros(1, len(seq), self.vocab)
        logits[0, -1, token] = 1.0
        return logits


@pytest.mark.parametrize("wrong", [False, True])
def test_causal_probe_decodes_left_to_right_until_end_of_turn(wrong):
    from dllm.api import prompt_ids
    from dllm.evals.tiny.probe import Probe

    path = Path(dllm.__file__).parent / "assets" / "tiny-llada"
    tok = AutoTokenizer.from_pretrained(path)
    probe = Probe(tok, json.loads((path / "config.json").read_text()), ["copy", "reverse"], n=3, offset=0, dtype=None)
    eot = tok.convert_tokens_to_ids(FAMILY_TOKENS["llada"]["eot_token"])
    answers = {tuple(prompt_ids(tok, i.prompt, chat=True)): tok(i.answer, add_special_tokens=False)["input_ids"]
               for insts in probe.instances.values() for i in insts}
    accuracy = probe.causal(_CausalOracle(answers, eot, wrong))
    assert accuracy == ({"copy": 0.0, "reverse": 0.0, "mean": 0.0} if wrong else {"copy": 100.0, "reverse": 100.0, "mean": 100.0})


def test_task_weights_override_the_default_mix():
    examples = {name: [data.Example([token], [7, 8], name)] for name, token in (("copy", 1), ("reverse", 2))}
    stream = data.batches(examples, pad_id=0, eos_id=9, token_budget=64, seed=0, mix=None,
                          task_weights={"reverse": 9.0})
    firsts = torch.cat([next(stream).input_ids[:, 0] for _ in range(40)])
    assert 0.85 < (firsts == 2).float().mean() < 0.95  # 9:1 against the default 1:1


@pytest.mark.parametrize("flag", ["nosuch=1", "copy=0", "copy=x"])
def test_bad_task_weight_is_refused(flag, capsys):
    with pytest.raises(SystemExit):
        parse_args(["--family", "llada", "--out", "x", "--task-weight", flag])
    assert "--task-weight" in capsys.readouterr().err


def test_probe_takes_a_quarter_as_many_long_instances():
    from dllm.evals.tiny.probe import Probe

    path = Path(dllm.__file__).parent / "assets" / "tiny-llada"
    tok = AutoTokenizer.from_pretrained(path)
    probe = Probe(tok, json.loads((path / "config.json").read_text()), ["copy", "long_copy"], n=8, offset=0, dtype=None)
    assert {name: len(insts) for name, insts in probe.instances.items()} == {"copy": 8, "long_copy": 2}


@pytest.mark.parametrize("block_length, expected", [(None, {"copy": 32, "long_copy": 32}), (8, {"copy": 8, "long_copy": 8})])
def test_probe_decodes_in_the_evaluations_blocks(block_length, expected, monkeypatch):
    """The probe's diffusion decode uses the blocks `dllm eval synthetic` uses by default (32),
    not the whole canvas as one block, so training probes predict the README's bars."""
    from dllm.api import DiffusionLM
    from dllm.evals.tiny.probe import Probe

    lm = dllm.load("tiny-llada")
    probe = Probe(lm.tokenizer, json.loads((lm.path / "config.json").read_text()), ["copy", "long_copy"], n=4,
                  offset=0, dtype=None, tokens_per_step=4, block_length=block_length)
    seen = {}
    real = DiffusionLM.generate_ids

    def spy(self, ids, config, sampler, on_step=None):
        seen[config.max_new_tokens] = config.block_length
        return real(self, ids, config, sampler, on_step)

    monkeypatch.setattr(DiffusionLM, "generate_ids", spy)
    probe(lm.model)
    assert seen == {64: expected["copy"], 256: expected["long_copy"]}


def test_long_lists_get_their_own_canvas_mix():
    examples = {name: [data.Example([token], [7] * 100, name)] for name, token in (("copy", 1), ("long_copy", 2))}
    stream = data.batches(examples, pad_id=0, eos_id=9, token_budget=4096, seed=0, long_mix=(0.0, 0.0))
    canvases = {1: [], 2: []}
    for _ in range(40):
        batch = next(stream)
        prompts = batch.input_ids.gather(1, (~batch.attention_mask).sum(1, keepdim=True)).squeeze(1)
        for token, canvas in zip(prompts.tolist(), batch.answer_region.sum(1).tolist()):
            canvases[token].append(canvas)
    assert canvases[2] and all(256 <= c <= 1024 for c in canvases[2])  # long: only the 256-1024 draw
    assert sum(c <= 116 for c in canvases[1]) > 0.8 * len(canvases[1])  # short: mostly tight


@pytest.mark.parametrize("flag", ["--canvas-mix", "--long-canvas-mix"])
def test_bad_canvas_mix_is_refused(flag, capsys):
    with pytest.raises(SystemExit):
        parse_args(["--family", "llada", "--out", "x", flag, "0.6", "0.6"])
    assert flag in capsys.readouterr().err


def _name_tokenizer():
    """A suite tokenizer big enough to keep every name one token (what the MQAR phase needs)."""
    from dllm.evals.tiny.train import build_tokenizer

    return build_tokenizer("llada", 1024)


def test_mqar_rows_target_each_queried_last_name():
    from dllm.evals.tiny.recall import QUERIES, recall_batch, recall_rows

    first, last = list(range(100, 160)), list(range(200, 260))
    rows = recall_rows(first, last, 7, 50, torch.Generator().manual_seed(0), pairs=(3, 6))
    for seq, target in rows:
        pairs = seq[:seq.index(7)]
        assert 3 <= len(pairs) // 2 <= 6 and len(set(pairs[0::2])) == len(pairs) // 2
        lookup = dict(zip(pairs[0::2], pairs[1::2]))
        queried = [(seq[i - 1], seq[i]) for i, t in enumerate(target) if t]
        assert len(queried) == QUERIES and all(lookup[k] == v for k, v in queried)
    batch = recall_batch(rows, pad_id=0)
    assert batch.answer_region.sum() == 50 * QUERIES
    assert not (batch.answer_region & ~batch.attention_mask).any() and batch.attention_mask[:, -1].all()


def test_mqar_accuracy_is_full_for_an_oracle_and_low_for_a_guesser():
    from dllm.evals.tiny.recall import recall_accuracy, recall_batch, recall_rows

    batch = recall_batch(recall_rows(list(range(100, 160)), list(range(200, 260)), 7, 64,
                                     torch.Generator().manual_seed(1)), pad_id=0)

    class Next(torch.nn.Module):  # scores, at i, the token at i + 1 (what the causal loss wants)
        def __init__(self, shift: int):
            super().__init__()
            self.shift = shift

        def forward(self, ids, attention_mask=None):
            return torch.nn.functional.one_hot(ids.roll(-self.shift, 1), 300).float()

    assert recall_accuracy(Next(1), batch) == 100.0
    assert recall_accuracy(Next(3), batch) < 40.0  # the previous query's last name: right by chance only

    class SamePosition(torch.nn.Module):  # the masked diffusion view: a target sees its key, not itself
        shifted_logits = False

        def forward(self, ids, attention_mask=None):
            assert attention_mask.dim() == 2 and (ids == 299).sum() == batch.answer_region.sum()
            keys = ids.roll(1, 1)  # the first name before each target
            pairs = {}
            for row, col in (~batch.answer_region).nonzero().tolist():
                if col and ids[row, col] != 299:
                    pairs[(row, int(ids[row, col - 1]))] = int(ids[row, col])
            rows = torch.arange(ids.shape[0])[:, None].expand_as(ids)
            answer = [[pairs.get((r, int(k)), 0) for r, k in zip(rr, kk)] for rr, kk in zip(rows.tolist(), keys)]
            return torch.nn.functional.one_hot(torch.tensor(answer), 300).float()

    assert recall_accuracy(SamePosition(), batch, mask_id=299) == 100.0


def test_mqar_phase_is_causal_or_diffusion_and_not_a_probed_task():
    from dllm.evals.tiny.schedule import all_tasks, parse_schedule

    phases = parse_schedule(["mqar:causal:5", "mqar:diffusion:5", "copy:causal:5"])
    assert phases[0].tasks == phases[1].tasks == ("mqar",) and all_tasks(phases) == ["copy"]
    with pytest.raises(ValueError, match="mqar trains causal or diffusion only"):
        parse_schedule(["mqar:mixed:5"])
    mixed = parse_schedule(["copy,mqar:diffusion:5"])[0]
    assert mixed.recall and mixed.suite_tasks == ("copy",) and all_tasks([mixed]) == ["copy"]
    assert not parse_schedule(["copy:diffusion:5"])[0].recall
    with pytest.raises(ValueError, match="mqar trains causal or diffusion only"):
        parse_schedule(["copy,mqar:mixed:5"])
    with pytest.raises(ValueError, match="unknown synthetic task"):
        parse_schedule(["mqar,nosuch:causal:5"])


def test_mqar_refuses_a_tokenizer_that_splits_names():
    from dllm.evals.tiny.recall import name_token_ids

    with pytest.raises(ValueError, match="needs every name as one token"):
        name_token_ids(byte_tokenizer("llada"))
    first, last = name_token_ids(_name_tokenizer())
    assert len(set(first)) == len(set(last)) == 60 and not set(first) & set(last)


def test_mqar_rows_both_ways_also_target_the_queries_first_names():
    from dllm.evals.tiny.recall import QUERIES, recall_rows

    first, last = list(range(100, 160)), list(range(200, 260))
    one_way = recall_rows(first, last, 7, 20, torch.Generator().manual_seed(3))
    both = recall_rows(first, last, 7, 20, torch.Generator().manual_seed(3), both_ways=True)
    for (seq, target), (seq2, target2) in zip(one_way, both):
        assert seq == seq2  # the same rows; only the targets differ
        queries = seq.index(7) + 1
        assert target2[queries:] == [True] * (2 * QUERIES) and not any(target2[:queries])
        assert [t for i, t in enumerate(target2) if not target[i]].count(True) == QUERIES
        assert all(seq[i] in first for i, t in enumerate(target2) if t and not target[i])


def test_mqar_backward_queries_target_the_first_name_before_a_last_name():
    from dllm.evals.tiny.recall import QUERIES, recall_rows

    first, last = list(range(100, 160)), list(range(200, 260))
    default = recall_rows(first, last, 7, 30, torch.Generator().manual_seed(4))
    assert recall_rows(first, last, 7, 30, torch.Generator().manual_seed(4), backward=0.0) == default
    flipped = 0
    for seq, target in recall_rows(first, last, 7, 30, torch.Generator().manual_seed(4), backward=0.5):
        pairs = seq[:seq.index(7)]
        forward = dict(zip(pairs[0::2], pairs[1::2]))
        backward = {v: k for k, v in forward.items()}
        hits = [i for i, t in enumerate(target) if t]
        assert len(hits) == QUERIES
        for i in hits:
            cue, answer = seq[i - 1], seq[i]
            assert (forward.get(cue) == answer) if answer in last else (backward.get(cue) == answer)
            flipped += answer in first
    assert 0.3 * 30 * QUERIES < flipped < 0.7 * 30 * QUERIES
    for seq, target in recall_rows(first, last, 7, 30, torch.Generator().manual_seed(5), backward=1.0, both_ways=True):
        queries = seq[seq.index(7) + 1:]
        assert all(tok in last for tok in queries[0::2]) and target[-2 * QUERIES:] == [True] * (2 * QUERIES)


def test_directed_mqar_rows_mask_one_whole_half_of_every_query():
    from dllm.evals.tiny.recall import QUERIES, directed_mask, recall_batch, recall_rows

    first, last = list(range(100, 160)), list(range(200, 260))
    rows = recall_rows(first, last, 7, 200, torch.Generator().manual_seed(6), both_ways=True)
    batch = recall_batch(rows, pad_id=0, names=(first, 7))
    assert (batch.query_first.sum(1) == QUERIES).all() and not (batch.query_first & ~batch.answer_region).any()
    random_mask = torch.rand(batch.input_ids.shape, generator=torch.Generator().manual_seed(0)) < 0.5
    random_mask &= batch.answer_region
    p = torch.full((200,), 0.5)
    kept, kept_p = directed_mask(batch, random_mask, p, 0.0, torch.Generator().manual_seed(1))
    assert torch.equal(kept, random_mask) and torch.equal(kept_p, p)
    masked, p_out = directed_mask(batch, random_mask, p, 1.0, torch.Generator().manual_seed(1))
    is_first = torch.isin(batch.input_ids, torch.tensor(first))
    backward = (masked & is_first).any(1)
    assert (masked.sum(1) == QUERIES).all() and (p_out == 1).all()
    assert torch.equal(masked[backward], batch.query_first[backward])  # every first name, no last name
    assert torch.equal(masked[~backward], (batch.answer_region & ~batch.query_first)[~backward])
    assert 60 < int(backward.sum()) < 140
    half, _ = directed_mask(batch, random_mask, p, 0.5, torch.Generator().manual_seed(2))
    directed_rows = (half != random_mask).any(1)
    assert 60 < int(directed_rows.sum()) < 140


def test_backward_recall_probe_scores_first_names_from_their_last_names():
    from dllm.evals.tiny.recall import recall_accuracy, recall_batch, recall_rows

    first, last = list(range(100, 160)), list(range(200, 260))
    batch = recall_batch(recall_rows(first, last, 7, 64, torch.Generator().manual_seed(1)), pad_id=0, names=(first, 7))

    class Lookup(torch.nn.Module):  # same-position oracle: a masked name from its shown partner
        shifted_logits = False

        def __init__(self, backward_works: bool):
            super().__init__()
            self.backward_works = backward_works

        def forward(self, ids, attention_mask=None):
            out = torch.zeros(*ids.shape, 300)
            for row in range(ids.shape[0]):
                seq = ids[row].tolist()
                context = seq[:seq.index(7)]
                pairs = [(a, b) for a, b in zip(context[0::2], context[1::2]) if a in first]
                by_first, by_last = dict(pairs), {b: a for a, b in pairs}
                for col, tok in enumerate(seq):
                    if tok != 299:
                        continue
                    if col + 1 < len(seq) and seq[col + 1] in by_last:  # a first name before its shown last name
                        guess = by_last[seq[col + 1]] if self.backward_works else first[0]
                    else:
                        guess = by_first.get(seq[col - 1], 0)
                    out[row, col, guess] = 1.0
            return out

    assert recall_accuracy(Lookup(True), batch, mask_id=299) == 100.0
    assert recall_accuracy(Lookup(True), batch, mask_id=299, backward=True) == 100.0
    assert recall_accuracy(Lookup(False), batch, mask_id=299) == 100.0
    assert recall_accuracy(Lookup(False), batch, mask_id=299, backward=True) < 20.0
    with pytest.raises(ValueError, match="backward recall probe"):
        recall_accuracy(Lookup(True), batch, backward=True)


def answer_batch(ids: torch.Tensor):
    """A suite batch whose answer region is every position but the first (the prompt)."""
    from dllm.evals.tiny.data import Batch

    region = torch.zeros_like(ids, dtype=torch.bool)
    region[:, 1:] = True
    return Batch(ids, torch.ones_like(region), region), region


def test_first_name_rows_mask_only_first_names_and_leave_other_rows_alone():
    from dllm.evals.tiny.data import first_name_mask

    first = torch.tensor([10, 11, 12])
    # two rows with names (quote 1, first names 10-12, last names 20-22), one of digits only
    ids = torch.tensor([[5, 1, 10, 20, 1, 11, 21, 1, 12, 22], [5, 1, 12, 22, 1, 10, 20, 1, 11, 21],
                        [5, 3, 4, 3, 4, 3, 4, 3, 4, 3]])
    batch, region = answer_batch(ids)
    random_mask = region & (torch.arange(10) % 2 == 0)
    p = torch.ones(3)
    out = first_name_mask(batch, first, random_mask, p, 1.0, torch.Generator().manual_seed(0))
    assert torch.equal(out[:2], region[:2] & torch.isin(ids[:2], first))  # p = 1: every first name, nothing else
    assert torch.equal(out[2], random_mask[2])  # no names: the random mask stays
    assert torch.equal(first_name_mask(batch, first, random_mask, p, 0.0, torch.Generator().manual_seed(0)), random_mask)
    some = first_name_mask(batch, first, random_mask, torch.full((3,), 0.5), 1.0, torch.Generator().manual_seed(1))
    assert not (some[:2] & ~torch.isin(ids[:2], first)).any()


def test_first_name_min_leaves_rows_with_fewer_names_to_their_random_masks():
    from dllm.evals.tiny.data import first_name_mask

    first = torch.tensor([10, 11, 12])
    # a list row (three first names) and a record row (one first name, then digits)
    ids = torch.tensor([[5, 1, 10, 20, 1, 11, 21, 1, 12, 22], [5, 1, 10, 20, 1, 3, 4, 3, 4, 3]])
    batch, region = answer_batch(ids)
    random_mask = region & (torch.arange(10) % 2 == 1)
    out = first_name_mask(batch, first, random_mask, torch.ones(2), 1.0, torch.Generator().manual_seed(0), min_names=2)
    assert torch.equal(out[0], region[0] & torch.isin(ids[0], first))
    assert torch.equal(out[1], random_mask[1])
    both = first_name_mask(batch, first, random_mask, torch.ones(2), 1.0, torch.Generator().manual_seed(0))
    assert torch.equal(both[1], region[1] & torch.isin(ids[1], first))  # default: one name is enough


def test_name_share_rows_mask_only_names_and_show_the_skeleton():
    from dllm.evals.tiny.data import first_name_mask

    first, names = torch.tensor([10, 11, 12]), torch.tensor([10, 11, 12, 20, 21, 22])
    ids = torch.tensor([[5, 1, 10, 20, 1, 11, 21, 1, 12, 22], [5, 1, 12, 22, 1, 10, 20, 1, 11, 21]])
    batch, region = answer_batch(ids)
    random_mask = region & (torch.arange(10) % 2 == 0)
    out = first_name_mask(batch, first, random_mask, torch.ones(2), 0.0, torch.Generator().manual_seed(0),
                          name_ids=names, name_share=1.0)
    assert torch.equal(out, region & torch.isin(ids, names))  # p = 1: every first and last name, no quote
    assert out[:, 3].all() and not out[:, 4].any()
    # shares 0.5 / 0.5 split the rows: each row is either first names only or all names
    split = first_name_mask(batch, first, random_mask, torch.ones(2), 0.5, torch.Generator().manual_seed(2),
                            name_ids=names, name_share=0.5)
    for row in range(2):
        assert torch.equal(split[row], region[row] & torch.isin(ids[row], first)) or \
            torch.equal(split[row], region[row] & torch.isin(ids[row], names))


def test_pair_share_rows_mask_whole_pairs_and_show_the_rest():
    from dllm.evals.tiny.data import first_name_mask

    first, last = torch.tensor([10, 11, 12]), torch.tensor([20, 21, 22])
    ids = torch.tensor([[5, 1, 10, 20, 1, 11, 21, 1, 12, 22], [5, 1, 12, 22, 1, 10, 20, 1, 11, 21]])
    batch, region = answer_batch(ids)
    random_mask = region & (torch.arange(10) % 2 == 0)
    full = first_name_mask(batch, first, random_mask, torch.ones(2), 0.0, torch.Generator().manual_seed(0),
                           last_ids=last, pair_share=1.0)
    assert torch.equal(full, region & (torch.isin(ids, first) | torch.isin(ids, last)))  # p = 1: every pair
    some = first_name_mask(batch, first, random_mask, torch.full((2,), 0.5), 0.0, torch.Generator().manual_seed(4),
                           last_ids=last, pair_share=1.0)
    for row in range(2):
        for j in (2, 5, 8):  # a pair is masked whole or not at all; quotes never
            assert bool(some[row, j]) == bool(some[row, j + 1])
        assert not some[row, [0, 1, 4, 7]].any()


def test_hole_share_rows_mask_one_pair_or_one_of_its_names_only():
    from dllm.evals.tiny.data import first_name_mask

    first, last = torch.tensor([10, 11, 12]), torch.tensor([20, 21, 22])
    # two list rows, and a row of first names only (a name_shuffle row), which keeps its random mask
    ids = torch.tensor([[5, 1, 10, 20, 1, 11, 21, 1, 12, 22], [5, 1, 12, 22, 1, 10, 20, 1, 11, 21],
                        [5, 1, 10, 1, 11, 1, 12, 1, 3, 3]])
    batch, region = answer_batch(ids)
    random_mask = region & (torch.arange(10) % 2 == 0)
    parts = set()
    for seed in range(30):
        out = first_name_mask(batch, first, random_mask, torch.ones(3), 0.0, torch.Generator().manual_seed(seed),
                              last_ids=last, hole_share=1.0)
        for row in range(2):
            hit = out[row].nonzero().flatten().tolist()
            assert hit and (len(hit) == 1 or hit == [hit[0], hit[0] + 1])
            assert hit[0] in (2, 3, 5, 6, 8, 9)  # names of a pair, never a quote
            parts.add(tuple(int(ids[row, j] in last) for j in hit))
        assert torch.equal(out[2], random_mask[2])
    assert parts == {(0,), (1,), (0, 1)}  # the first name, the last name or both


def test_hole_tasks_flag_their_rows_and_only_those_get_holes():
    from dllm.evals.tiny.data import Example, batches, first_name_mask

    examples = {"copy": [Example([1, 2], [3, 10, 20, 3, 11, 21], "copy")] * 4,
                "replace_random": [Example([1, 2], [3, 11, 21, 3, 10, 20], "replace_random")] * 4}
    weights = {"copy": 1.0, "replace_random": 1.0}
    flagged = next(batches(examples, 0, 9, 512, 0, pool=8, mix=None, task_weights=weights,
                           hole_tasks=frozenset({"replace_random"})))
    plain = next(batches(examples, 0, 9, 512, 0, pool=8, mix=None, task_weights=weights))
    assert torch.equal(flagged.input_ids, plain.input_ids) and plain.hole_rows is None  # same batches
    assert flagged.hole_rows.tolist() == [row[3] == 11 for row in flagged.input_ids.tolist()]  # replace_random rows
    random_mask = flagged.answer_region & (torch.arange(flagged.input_ids.shape[1]) % 2 == 0)
    out = first_name_mask(flagged, torch.tensor([10, 11]), random_mask, torch.ones(len(flagged.input_ids)), 0.0,
                          torch.Generator().manual_seed(0), last_ids=torch.tensor([20, 21]), hole_share=1.0)
    for row, hole in enumerate(flagged.hole_rows.tolist()):
        assert torch.equal(out[row], random_mask[row]) != hole


def test_unknown_hole_task_is_refused(tmp_path, capsys):
    with pytest.raises(SystemExit):
        parse_args(["--family", "llada", "--out", str(tmp_path / "m"), "--hole-tasks", "replace_random,sortt"])
    assert "sortt" in capsys.readouterr().err


def test_hole_share_leaves_the_long_lists_to_their_random_masks():
    from dllm.evals.tiny.data import HOLE_MAX_NAMES, first_name_mask

    first, last = torch.tensor([10]), torch.tensor([20])
    ids = torch.tensor([[5] + [10, 20] * (HOLE_MAX_NAMES + 1)])
    batch, region = answer_batch(ids)
    random_mask = region & (torch.arange(ids.shape[1]) % 3 == 0)
    out = first_name_mask(batch, first, random_mask, torch.ones(1), 0.0, torch.Generator().manual_seed(0),
                          last_ids=last, hole_share=1.0)
    assert torch.equal(out, random_mask)


def test_first_name_and_name_shares_over_one_are_refused(tmp_path, capsys):
    with pytest.raises(SystemExit):
        parse_args(["--family", "llada", "--out", str(tmp_path / "m"), "--first-name-share", "0.6",
                    "--name-share", "0.5"])
    assert "--name-share 0.5" in capsys.readouterr().err


def test_first_name_min_below_one_is_refused(tmp_path, capsys):
    with pytest.raises(SystemExit):
        parse_args(["--family", "llada", "--out", str(tmp_path / "m"), "--first-name-min", "0"])
    assert "--first-name-min 0" in capsys.readouterr().err


def test_first_name_share_reaches_the_diffusion_rows(tmp_path, monkeypatch):
    from dllm.evals.tiny import train as train_module

    shares = []
    real = train_module.first_name_mask
    monkeypatch.setattr(train_module, "first_name_mask", lambda *a: shares.append((a[4], a[6], a[8])) or real(*a))
    args = parse_args(["--family", "llada", "--out", str(tmp_path / "m"), "--n-per-task", "4", "--d-model", "32",
                       "--layers", "1", "--heads", "2", "--mlp", "48", "--token-budget", "512", "--probe-every", "0",
                       "--first-name-share", "0.3", "--first-name-min", "2", "--name-share", "0.4",
                       "--schedule", "copy:causal:2", "copy:diffusion:3"])
    train_module.train(args)
    assert shares == [(0.3, 2, 0.4)] * 3  # every diffusion step, no causal one


def test_mqar_share_draws_recall_batches_inside_a_suite_phase(tmp_path, monkeypatch):
    import dllm.evals.tiny.train as train_module

    drawn = []

    def counting(*args, **kwargs):
        for batch in recall_batches(*args, **kwargs):
            drawn.append(kwargs["both_ways"])
            yield batch

    recall_batches = train_module.recall_batches
    monkeypatch.setattr(train_module, "recall_batches", counting)
    args = parse_args(["--family", "llada", "--out", str(tmp_path / "tiny"), "--n-per-task", "4", "--d-model", "32",
                       "--layers", "1", "--heads", "2", "--mlp", "48", "--token-budget", "512", "--log-every", "1",
                       "--probe-every", "10", "--probe-n", "1", "--schedule", "copy,mqar:diffusion:8", "--mqar-share", "0.5"])
    record = train(args)
    draws = torch.Generator().manual_seed(args.seed + 20_000)
    expected = sum(float(torch.rand((), generator=draws)) < 0.5 for _ in range(8))
    assert 0 < len(drawn) == expected < 8 and all(drawn)  # diffusion: targets both ways
    assert all(0 <= point["recall_accuracy"] <= 100 for point in record["loss_curve"])
    assert set(record["probes"][-1]["accuracy"]) == {"copy", "mean"}


@pytest.mark.parametrize("flag, share", [("--mqar-share", "0"), ("--mqar-share", "1"), ("--mqar-share", "-0.2"),
                                         ("--mqar-backward", "1.5"), ("--mqar-backward", "-0.1"),
                                         ("--mqar-directed", "2"), ("--mqar-directed", "-0.5"),
                                         ("--first-name-share", "1.2")])
def test_bad_mqar_share_is_refused(flag, share, capsys):
    with pytest.raises(SystemExit):
        parse_args(["--family", "llada", "--out", "x", flag, share])
    assert flag in capsys.readouterr().err


def test_mqar_then_list_ops_records_recall_accuracy(tmp_path):
    out = tmp_path / "tiny"
    args = parse_args(["--family", "llada", "--out", str(out), "--n-per-task", "4", "--d-model", "32", "--layers", "1",
                       "--heads", "2", "--mlp", "48", "--token-budget", "512", "--log-every", "1", "--probe-every", "10",
                       "--probe-n", "1", "--schedule", "mqar:causal:2", "mqar:diffusion:1", "copy:causal:1",
                       "--mqar-pairs", "3", "5"])
    record = train(args)
    recall = [point.get("recall_accuracy") for point in record["loss_curve"]]
    assert recall[3] is None and all(0 <= r <= 100 for r in recall[:3])
    assert [p["step"] for p in record["probes"]] == [4] and set(record["probes"][0]["accuracy"]) == {"copy", "mean"}


@pytest.mark.parametrize("pairs", [["0", "3"], ["5", "2"], ["2", "61"]])
def test_bad_mqar_pairs_are_refused(pairs, capsys):
    with pytest.raises(SystemExit):
        parse_args(["--family", "llada", "--out", "x", "--mqar-pairs", *pairs])
    assert "--mqar-pairs" in capsys.readouterr().err


def test_annealed_mask_goes_from_causal_to_bidirectional_and_never_opens_padding():
    from dllm.evals.tiny.train import annealed_mask

    attn = torch.ones(4, 40, dtype=torch.bool)
    attn[1, :7] = False
    gen = torch.Generator().manual_seed(0)
    assert torch.equal(annealed_mask(attn, 0.0, gen), causal_mask(attn))
    full = annealed_mask(attn, 1.0, gen)
    assert torch.equal(full | causal_mask(attn), attn[:, None, None, :] | causal_mask(attn))
    half = annealed_mask(attn, 0.5, gen)
    future = ~causal_mask(attn) & attn[:, None, None, :]
    share = (half & future).sum() / future.sum()
    assert 0.4 < share < 0.6 and not (half & ~attn[:, None, None, :] & ~torch.eye(40, dtype=torch.bool)).any()


def test_annealing_covers_the_first_diffusion_steps(tmp_path, monkeypatch):
    from dllm.evals.tiny import train as train_module

    seen = []
    real = train_module.diffusion_loss
    monkeypatch.setattr(train_module, "diffusion_loss", lambda *a, **k: seen.append(a[-1]) or real(*a, **k))
    args = parse_args(["--family", "llada", "--out", str(tmp_path / "m"), "--n-per-task", "4", "--d-model", "32",
                       "--layers", "1", "--heads", "2", "--mlp", "48", "--vocab-size", "400", "--token-budget", "512",
                       "--probe-every", "0", "--anneal-steps", "4", "--schedule", "copy:causal:2", "copy:diffusion:6"])
    train_module.train(args)
    assert seen == [0.0, 0.25, 0.5, 0.75, 1.0, 1.0]

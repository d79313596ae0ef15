"""Checkpoint loading: round trips in every supported layout, and refusals that name the culprit."""

import json
import shutil

import pytest
import torch
from safetensors.torch import load_file, save_file

import dllm
from dllm.errors import CheckpointError
from dllm.models.loader import build_model
from dllm.testing import REAL_CONFIGS, write_tiny_checkpoint



def test_real_configs_instantiate_on_meta_with_exact_names_and_totals(tmp_path):
    llada = build_model(tmp_path, REAL_CONFIGS['llada'])
    names = set(dict(llada.named_parameters()))
    assert len(names) == 291 and sum(p.numel() for p in llada.parameters()) == 8_015_581_184
    per_block = ["attn_norm", "q_proj", "k_proj", "v_proj", "attn_out", "ff_norm", "ff_proj", "up_proj", "ff_out"]
    expected = {f"model.transformer.blocks.{i}.{t}.weight" for i in range(32) for t in per_block}
    expected |= {"model.transformer.wte.weight", "model.transformer.ln_f.weight", "model.transformer.ff_out.weight"}
    assert names == expected
    assert all(p.is_meta for p in llada.parameters())

    dream = build_model(tmp_path, REAL_CONFIGS['dream'])
    names = set(dict(dream.named_parameters()))
    assert len(names) == 339 and sum(p.numel() for p in dream.parameters()) == 7_615_616_512
    assert dict(dream.named_parameters())["model.layers.0.self_attn.k_proj.weight"].shape == (512, 3584)
    assert {"model.embed_tokens.weight", "model.norm.weight", "lm_head.weight",
            "model.layers.27.self_attn.q_proj.bias", "model.layers.27.mlp.down_proj.weight"} <= names


@pytest.mark.parametrize("family", ["llada", "dream"])
@pytest.mark.parametrize("dtype,shards", [(torch.float32, 1), (torch.bfloat16, 3), (torch.float16, 1)])
def test_round_trip(tmp_path, family, dtype, shards):
    d = write_tiny_checkpoint(tmp_path / "ckpt", family, dtype=dtype, shards=shards)
    if shards > 1:
        assert (d / "model.safetensors.index.json").is_file() and len(list(d.glob("*.safetensors"))) == shards
    lm = dllm.load(d, device="cpu")
    assert lm.dtype == dtype
    stored = {}
    for f in d.glob("*.safetensors"):
        stored.update(load_file(f))
    state = lm.model.state_dict()
    assert set(stored) == set(state)
    assert all(torch.equal(stored[k], state[k]) for k in stored)
    assert dllm.load(d, dtype="float32", device="cpu").dtype == torch.float32
    logits = lm.model(torch.tensor([[1, 2, 3, 4]]))
    assert logits.shape == (1, 4, lm.model.cfg.vocab_size)


@pytest.fixture()
def ckpt(tmp_path):
    return write_tiny_checkpoint(tmp_path / "ckpt", "llada")


def _edit_weights(ckpt, edit):
    state = load_file(ckpt / "model.safetensors")
    edit(state)
    save_file(state, str(ckpt / "model.safetensors"))


def _refused(path, *words):
    with pytest.raises(CheckpointError) as err:
        dllm.load(path, device="cpu")
    message = str(err.value)
    assert "\n" not in message
    for w in words:
        assert w in message, message


def test_refuses_missing_tensor(ckpt):
    _edit_weights(ckpt, lambda s: s.pop("model.transformer.blocks.1.up_proj.weight"))
    _refused(ckpt, "model.transformer.blocks.1.up_proj.weight", "missing")


def test_refuses_extra_tensor(ckpt):
    _edit_weights(ckpt, lambda s: s.__setitem__("model.transformer.blocks.9.q_proj.weight", torch.zeros(2, 2)))
    _refused(ckpt, "model.transformer.blocks.9.q_proj.weight", "unexpected")


def test_refuses_misshaped_tensor(ckpt):
    _edit_weights(ckpt, lambda s: s.__setitem__("model.transformer.ln_f.weight", torch.ones(63)))
    _refused(ckpt, "model.transformer.ln_f.weight", "[63]", "[64]")


def test_refuses_truncated_file(ckpt):
    f = ckpt / "model.safetensors"
    f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])
    _refused(ckpt, "model.safetensors", "truncated")


def test_refuses_unknown_model_type(ckpt):
    cfg = json.loads((ckpt / "config.json").read_text())
    cfg["model_type"] = "llama"
    (ckpt / "config.json").write_text(json.dumps(cfg))
    _refused(ckpt, "'llama'", "llada", "Dream")


def test_refuses_incomplete_config(ckpt):
    cfg = json.loads((ckpt / "config.json").read_text())
    del cfg["d_model"]
    (ckpt / "config.json").write_text(json.dumps(cfg))
    _refused(ckpt, "d_model")


def test_refuses_corrupt_config_and_missing_pieces(ckpt, tmp_path):
    (ckpt / "config.json").write_text("{not json")
    _refused(ckpt, "config.json", "not valid JSON")
    empty = tmp_path / "empty"
    empty.mkdir()
    _refused(empty, "config.json")
    _refused(tmp_path / "does-not-exist", "not found")


def test_refuses_missing_shard(tmp_path):
    d = write_tiny_checkpoint(tmp_path / "sharded", "dream", shards=2)
    (d / "model-00002-of-00002.safetensors").unlink()
    _refused(d, "model-00002-of-00002.safetensors", "missing")


def test_hub_id_unreachable_suggests_local_path(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    _refused("nobody-here/no-such-model-xyz", "Hugging Face hub", "local directory")


def test_tied_dream_checkpoint_may_omit_head(tmp_path):
    d = write_tiny_checkpoint(tmp_path / "tied", "dream", tie_word_embeddings=True)
    assert "lm_head.weight" not in load_file(d / "model.safetensors")
    lm = dllm.load(d, device="cpu")
    x = torch.tensor([[5, 6, 7]])
    h = lm.model.model.embed_tokens.weight
    assert lm.model(x).shape[-1] == h.shape[0]


def test_writer_leaves_nothing_half_written(tmp_path):
    bad_state = {"x": torch.zeros(2)}

    class Broken:
        def save_pretrained(self, path):
            raise OSError("disk full")

    from dllm.models.writer import write_checkpoint

    with pytest.raises(OSError):
        write_checkpoint(tmp_path / "out", {"model_type": "llada"}, bad_state, tokenizer=Broken())
    assert list(tmp_path.iterdir()) == []


def test_no_trust_remote_code_needed(tmp_path):
    d = write_tiny_checkpoint(tmp_path / "ckpt", "dream")
    shutil.copy(d / "config.json", tmp_path / "config-copy.json")
    assert json.loads((d / "config.json").read_text())["auto_map"]  # real format keeps auto_map
    lm = dllm.load(d, device="cpu")  # ...yet loads natively
    assert lm.tokenizer.chat_template


def test_dream_tokenizer_class_loads_without_remote_code(tmp_path):
    d = write_tiny_checkpoint(tmp_path / "ckpt", "dream")
    cfg = json.loads((d / "tokenizer_config.json").read_text())
    cfg["tokenizer_class"] = "DreamTokenizer"
    cfg["auto_map"] = {"AutoTokenizer": ["tokenization_dream.DreamTokenizer", None]}
    (d / "tokenizer_config.json").write_text(json.dumps(cfg))
    lm = dllm.load(d, device="cpu")
    assert lm.tokenizer.convert_tokens_to_ids("<|im_end|>") in lm.special.stop_ids
    assert lm.tokenizer.decode(lm.tokenizer("hello")["input_ids"]) == "hello"


def test_rewritten_checkpoint_keeps_no_tokenizer_load_state(tmp_path):
    from dllm.models.writer import write_checkpoint

    source = write_tiny_checkpoint(tmp_path / "a", "llada")
    lm = dllm.load(source, device="cpu")  # a tokenizer loaded from disk, as `train.py --init-from` has
    state = {k: v.contiguous() for k, v in lm.model.state_dict().items()}
    out = write_checkpoint(tmp_path / "b", json.loads((source / "config.json").read_text()), state, lm.tokenizer)
    saved = json.loads((out / "tokenizer_config.json").read_text())
    assert "is_local" not in saved and "local_files_only" not in saved
    assert dllm.load(out, device="cpu").tokenizer.mask_token == lm.tokenizer.mask_token

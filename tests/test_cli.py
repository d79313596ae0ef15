"""The ``dllm`` command: happy paths with --json, and one-line errors without tracebacks."""

import json
import subprocess
import sys

import pytest

from dllm.cli.main import main


def run_cli(capsys, *args):
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
        raise SystemExit(0)
    out = capsys.readouterr()
    return exit_info.value.code or 0, out.out, out.err


@pytest.mark.parametrize("family,sampler", [("llada", "low_confidence"), ("dream", "entropy")])
def test_generate_json(capsys, ckpt_dir, family, sampler):
    code, out, _ = run_cli(capsys, "generate", "Hello", "-m", str(ckpt_dir(family)), "--sampler", sampler,
                           "--gen-length", "16", "--block-length", "8", "--json")
    assert code == 0
    data = json.loads(out.strip().splitlines()[-1])
    for key in ("text", "nfe", "tokens_per_forward", "generated_tokens", "tokens_per_s", "wall_s", "model", "sampler", "env"):
        assert key in data
    assert data["nfe"] <= 16 and data["sampler"] == sampler
    assert {"torch", "transformers", "device", "dtype", "batch_size", "git_commit"} <= set(data["env"])


def test_generate_batch_file_and_sampler_args(capsys, ckpt_dir, tmp_path):
    prompts = tmp_path / "prompts.txt"
    prompts.write_text('one\n{"prompt": "two"}\n\nthree\n')
    code, out, _ = run_cli(capsys, "generate", "--prompts-file", str(prompts), "-m", str(ckpt_dir("llada")),
                           "-n", "8", "--sampler-arg", "cfg_scale=0.5", "--json")
    assert code == 0
    data = json.loads(out.strip().splitlines()[-1])
    assert len(data["text"]) == 3 and data["env"]["batch_size"] == 3


def test_bench_last_line_json(capsys, ckpt_dir, tmp_path):
    out_file = tmp_path / "bench.json"
    code, out, _ = run_cli(capsys, "bench", "-m", str(ckpt_dir("dream")), "--sampler", "maskgit_plus", "-n", "16",
                           "-b", "2", "--repeats", "2", "--warmup", "1", "--output", str(out_file))
    assert code == 0
    data = json.loads(out.strip().splitlines()[-1])
    assert data == json.loads(out_file.read_text())
    assert data["batch_size"] == 2 and data["repeats"] == 2 and data["tokens_per_s"] > 0
    assert data["nfe_per_row"] > 0 and 0 < data["tokens_per_forward"] <= 1.0001
    assert data["peak_memory_mb"] > 0


def test_samplers_lists_parameters(capsys):
    code, out, _ = run_cli(capsys, "samplers", "--json")
    data = json.loads(out)
    assert data["low_confidence"]["parameters"]["cfg_scale"] == 0.0
    assert data["entropy"]["parameters"]["eps"] == 0.001


@pytest.mark.parametrize(
    "args,words",
    [
        (["--sampler", "nope"], ["unknown sampler 'nope'"]),
        (["--bogus"], ["--bogus"]),
        (["--sampler-arg", "tau=2"], ["no parameter 'tau'"]),
        (["--sampler-arg", "novalue"], ["key=value"]),
        (["-n", "30", "--block-length", "8"], ["block_length=8", "divide"]),
        (["-n", "32", "--block-length", "8", "--steps", "3"], ["steps=3"]),
        (["-t", "-1"], ["temperature=-1.0"]),
        (["-n", "0"], ["0"]),
        (["-n", "1000"], ["model maximum"]),
        (["--dtype", "int8"], ["int8"]),
    ],
)
def test_errors_are_one_line(capsys, ckpt_dir, args, words):
    code, out, err = run_cli(capsys, "generate", "Hello", "-m", str(ckpt_dir("llada")), *args)
    assert code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert all(w in lines[0] for w in words), lines[0]


def test_checkpoint_errors_from_a_real_process(ckpt_dir, tmp_path):
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(ckpt_dir("dream"), broken)
    weights = broken / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])
    for model, words in [(str(broken), "truncated"), (str(tmp_path / "missing"), "not found")]:
        proc = subprocess.run([sys.executable, "-m", "dllm.cli.main", "generate", "hi", "-m", model],
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode != 0
        assert "Traceback" not in proc.stderr
        assert proc.stderr.strip().startswith("error: ") and words in proc.stderr


def test_empty_prompt_and_stdin(capsys, ckpt_dir, monkeypatch):
    code, _, err = run_cli(capsys, "generate", "", "-m", str(ckpt_dir("llada")))
    assert code != 0 and "empty" in err
    proc = subprocess.run([sys.executable, "-m", "dllm.cli.main", "generate", "-m", str(ckpt_dir("llada")), "-n", "8", "--json"],
                          input="Hello from stdin", capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1])["generated_tokens"] <= 8


def test_live_view_draws_every_step(tiny_lm):
    import io

    from rich.console import Console
    from rich.live import Live

    from dllm.cli.generate import live_view

    lm = tiny_lm("llada")
    buffer = io.StringIO()
    frames = []
    with Live(console=Console(file=buffer, force_terminal=True, width=120), auto_refresh=False) as live:
        draw = live_view(lm, live)
        lm.generate("Hi", max_new_tokens=8, block_length=8, on_step=lambda s: (draw(s), frames.append(1)))
    assert len(frames) == 8
    assert "░" in buffer.getvalue() and "block 0 step 7 nfe 8" in buffer.getvalue()

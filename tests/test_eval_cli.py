"""`dllm eval synthetic`: files, last-line JSON, option checks."""

import json

import pytest
import torch

from dllm.evals.runner import EvalSettings, task_options
from dllm.evals.synthetic import TASKS
from test_cli import run_cli


def test_eval_synthetic_writes_results_and_samples(capsys, ckpt_dir, tmp_path):
    out = tmp_path / "run"
    code, stdout, stderr = run_cli(capsys, "eval", "synthetic", "-m", str(ckpt_dir("llada")), "--tasks", "copy,add",
                                   "--limit", "3", "-b", "2", "--output-path", str(out), "--gen-length", "16",
                                   "--tokens-per-step", "2")
    assert code == 0
    last = json.loads(stdout.strip().splitlines()[-1])
    assert set(last["tasks"]) == {"copy", "add"} and last["limit"] == 3
    for key in ("mean_accuracy", "nfe_per_sample", "tokens_per_forward", "tokens_per_s", "env"):
        assert key in last
    assert last["tasks"]["copy"]["steps"] == 8 and last["tasks"]["copy"]["nfe_per_sample"] <= 8
    assert json.loads((out / "results.json").read_text())["tasks"].keys() == last["tasks"].keys()
    rows = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    assert len(rows) == 6 and {"prompt", "answer", "output", "score", "nfe"} <= set(rows[0])
    assert "copy" in stderr and "mean" in stderr  # the per-task table


def test_eval_rejects_unknown_task_and_bad_tokens_per_step(capsys, ckpt_dir, tmp_path):
    code, out, err = run_cli(capsys, "eval", "synthetic", "-m", str(ckpt_dir("llada")), "--tasks", "copy,nope")
    assert code != 0 and "nope" in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    code, out, err = run_cli(capsys, "eval", "synthetic", "-m", str(ckpt_dir("llada")), "--tasks", "copy",
                             "--tokens-per-step", "3", "--output-path", str(tmp_path / "x"))
    assert code != 0 and "--tokens-per-step 3" in err and not (tmp_path / "x").exists()


def test_task_generation_lengths():
    assert task_options(TASKS["copy"], EvalSettings())["max_new_tokens"] == 64
    assert task_options(TASKS["long_reverse"], EvalSettings(tokens_per_step=4))["steps"] == 64


def test_pareto_and_sweep_reports(tmp_path, ckpt_dir):
    import dllm
    from dllm.evals import parallel_sweep, pareto
    from dllm.evals.synthetic import get_tasks

    lm = dllm.load(ckpt_dir("dream"), device="cpu")
    points = pareto.run_points(lm, get_tasks(["copy"]), limit=2, batch_size=2, gen_length=16, only={"baseline", "factor"})
    assert [p["line"] for p in points] == ["baseline"] + ["factor"] * 5
    assert all(0 < p["nfe_per_sample"] <= 16 for p in points)
    pareto.plot({"models": {"m": {"points": points}}}, tmp_path / "p.png")
    assert (tmp_path / "p.png").stat().st_size > 1000
    rows = parallel_sweep.sweep_model(lm, get_tasks(["copy", "add"]), [1, 2], 2, 2, 2, reused={})
    table = parallel_sweep.markdown("m", rows)
    assert "| copy |" in table and "k=2" in table and "tokens/forward" in table


def test_cache_bench_speedup_needs_a_no_cache_row_that_generated():
    from dllm.evals.cache_bench import speedup

    assert speedup({"tokens_per_s": 30.0}, {"tokens_per_s": 10.0}) == 3.0
    assert speedup({"tokens_per_s": 30.0}, {"tokens_per_s": 0.0}) is None
    assert speedup({"tokens_per_s": 30.0}, None) is None


def test_cache_bench_ceiling_is_no_cache_forwards_over_full_ones():
    from dllm.evals.cache_bench import full_forward_ceiling

    base = {"nfe_per_sample": 12.0, "full_nfe_per_sample": 12.0}
    assert full_forward_ceiling({"full_nfe_per_sample": 4.0}, base) == 3.0
    assert full_forward_ceiling({"full_nfe_per_sample": 0.0}, base) is None
    assert full_forward_ceiling({"full_nfe_per_sample": 4.0}, None) is None


@pytest.mark.parametrize("family", ["llada", "dream"])
def test_random_weights_bench_times_every_cache(family):
    from dllm.evals.random_weights_bench import bench_caches, random_lm
    from dllm.testing import byte_tokenizer, tiny_config

    lm = random_lm(family, "cpu", torch.float32, config=tiny_config(family, byte_tokenizer(family)))
    rows = bench_caches(lm, "low_confidence", ["none", "dual", "sparse"], [1, 2], gen_length=16, block_length=8,
                        steps=None, repeats=1, bandwidth_gbs=100.0)
    assert [(r["cache"], r["batch_size"]) for r in rows] == [(c, b) for c in ("none", "dual", "sparse") for b in (1, 2)]
    kv = {(r["cache"], r["batch_size"]): r["kv_cache_peak_mb"] for r in rows}
    assert kv[("none", 1)] == 0 and 0 < kv[("sparse", 1)] < kv[("dual", 1)] < kv[("dual", 2)]
    assert all(r["weight_read_bound_ms"] == 1000 * r["weight_bytes"] / 1e11 for r in rows)


def test_random_weights_bench_without_cuda_says_so(capsys):
    from dllm.evals.random_weights_bench import main

    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    with pytest.raises(SystemExit):
        main(["--device", "cuda"])
    assert "--device cpu" in capsys.readouterr().err

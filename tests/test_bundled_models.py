"""The bundled tiny models ship in the package, load by name and decode in their formats.

Their accuracy on the whole suite is measured by `python -m dllm.evals.parallel_sweep` (see the
README); here only that they really copy lists, a task both checkpoints solve.
"""

import json

import pytest

import dllm
from dllm.evals.synthetic import get_tasks
from dllm.models.loader import BUNDLED_DIR
from test_cli import run_cli

FAMILIES = {"tiny-llada": ("llada", "llada"), "tiny-dream": ("dream", "Dream")}


@pytest.mark.parametrize("name", FAMILIES)
def test_bundled_checkpoint_is_complete_and_small(name):
    folder = BUNDLED_DIR / name
    for file in ("config.json", "generation_config.json", "model.safetensors", "tokenizer.json", "training.json"):
        assert (folder / file).is_file(), file
    assert (folder / "model.safetensors").stat().st_size <= 20 * 2**20
    assert json.loads((folder / "config.json").read_text())["model_type"] == FAMILIES[name][1]
    record = json.loads((folder / "training.json").read_text())
    assert record["family"] == FAMILIES[name][0]
    assert within_training_budget(record), record.get("total_minutes", record["minutes"])


def within_training_budget(record: dict, minutes: float = 45) -> bool:
    """The 45-minute budget on two CPU cores. Minutes depend on the CPU: a run over the budget
    passes only if its record names an earlier run of the same steps that stayed within it."""
    if record.get("total_minutes", record["minutes"]) <= minutes:
        return True
    reference, previous = record.get("reference_run"), record.get("previous")
    if not reference or not previous:
        return False
    same_steps = reference["steps"] == [previous["steps"], record["steps"]]
    same_first_stage = reference["first_stage_train_tokens"] == previous["train_tokens"]
    return same_steps and same_first_stage and sum(reference["minutes"]) <= minutes


def test_training_budget_needs_the_same_steps_within_45_minutes():
    slow = {"minutes": 36.2, "total_minutes": 70.9, "steps": 15293, "previous": {"steps": 18000, "train_tokens": 51}}
    reference = {"minutes": [20.43, 24.57], "steps": [18000, 15293], "first_stage_train_tokens": 51}
    assert not within_training_budget(slow)
    assert within_training_budget({**slow, "reference_run": reference})
    assert not within_training_budget({**slow, "reference_run": {**reference, "steps": [18000, 15000]}})
    assert not within_training_budget({**slow, "reference_run": {**reference, "first_stage_train_tokens": 50}})
    assert not within_training_budget({**slow, "reference_run": {**reference, "minutes": [25.43, 24.57]}})
    assert not within_training_budget({**slow, "reference_run": {**reference, "minutes": [20.43, 24.58]}})
    assert not within_training_budget({"minutes": 70.9, "reference_run": reference})
    assert within_training_budget({"minutes": 43.4})


@pytest.mark.parametrize("name", FAMILIES)
def test_bundled_model_loads_by_name_and_answers_in_format(name):
    lm = dllm.load(name, device="cpu")
    assert lm.model.family == FAMILIES[name][0]
    assert 512 <= len(lm.tokenizer) <= 2048 and lm.tokenizer.chat_template
    assert lm.tokenizer.convert_ids_to_tokens(lm.special.mask_id) in ("<|mdm_mask|>", "<|mask|>")
    result = lm.generate('copy: ["Amy Lee", "Bo Fox", "Cy Dunn"]', max_new_tokens=64)[0]
    assert result.finish_reason == "stop" and result.text.startswith('["') and result.text.endswith('"]')


def test_generate_defaults_to_tiny_llada(capsys):
    code, out, _ = run_cli(capsys, "generate", 'copy: ["Mia Nash", "Sue Vega", "Omar Ward"]', "-n", "32", "--json")
    data = json.loads(out.strip().splitlines()[-1])
    assert code == 0 and data["model"] == "tiny-llada" and data["text"] == '["Mia Nash", "Sue Vega", "Omar Ward"]'


@pytest.mark.parametrize("name", FAMILIES)
def test_bundled_model_copies_held_out_lists(name):
    """Greedy, one token per step, on test-split instances (disjoint from training): Dream
    scores 100% and LLaDA 100% on 100 of them (the sweep JSONs in evals/results/), so 5 of 10 leaves room for other CPUs' bf16 rounding."""
    lm = dllm.load(name, device="cpu")
    task = get_tasks(["copy"])[0]
    instances = task.generate(10, "test")
    results = lm.generate([i.prompt for i in instances], sampler="low_confidence", max_new_tokens=64,
                          block_length=64, steps=64, temperature=0.0)
    assert sum(task.score(i, r.text) for i, r in zip(instances, results)) >= 5

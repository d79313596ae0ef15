"""Training of the bundled tiny models (`tiny-llada`, `tiny-dream`) on the synthetic suite.

    python -m dllm.evals.tiny.train --family llada --out /tmp/tiny-llada

See `train.py` for the objective, `README.md` (section "Bundled tiny models") for the
commands that made the bundled checkpoints, their timings and accuracy, and `EXPERIMENTS.md`
(here) for every recipe tried and what it measured.
"""

"""The "short runs" estimate (issue 17, item 4): a pair's gain read from the first epochs of its run's validation
curve against the task alone's, on hand-made curves whose numbers are known, and its place beside the other
estimates in a subsets analysis."""
from __future__ import annotations

import dataclasses

import pytest

from mtl_core.results.short_runs import NAME, short_run_cost, short_run_gains
from mtl_core.results.study_results import StudyResults

TASKS = ["a", "b", "c"]


def curve(task: str, values: list[float]) -> list[dict]:
    """Validation accuracy per epoch, with a loss row beside it that must be ignored."""
    return [row for epoch, v in enumerate(values, 1)
            for row in ({"epoch": epoch, "task": task, "name": "val_accuracy", "value": v},
                        {"epoch": epoch, "task": task, "name": "val_loss", "value": 9.0})]


def results(schedule: str = "constant") -> StudyResults:
    """Two seeds of: each task alone, pairs (a, b) and (a, c). Alone, a reaches 0.60 by epoch 3 and 0.90 later;
    with b it is 0.05 better early (by seed: +0.04, +0.06), with c 0.10 worse early but better late."""
    early_alone = {"a": [0.5, 0.55, 0.6, 0.9], "b": [0.4, 0.5, 0.5, 0.5], "c": [0.7, 0.7, 0.7, 0.7]}
    runs, curves = [], {}

    def add(tasks: list[str], seed: int, per_task: dict[str, list[float]]) -> None:
        run_id = len(runs) + 1
        runs.append({"id": run_id, "setting": "single" if len(tasks) == 1 else "subset", "tasks": tasks,
                     "seed": seed, "status": "done", "train_seconds": 60.0, "epochs_run": 4,
                     "config": {"lr_schedule": schedule}})
        curves[run_id] = [row for t in tasks for row in curve(t, per_task[t])]

    for seed, shift in ((0, 0.04), (1, 0.06)):
        for t in TASKS:
            add([t], seed, early_alone)
        add(["a", "b"], seed, {"a": [0.5, 0.6 + shift, 0.6, 0.99], "b": [0.5, 0.5, 0.55, 0.5]})
        add(["a", "c"], seed, {"a": [0.3, 0.4, 0.5, 0.99], "c": [0.7, 0.7, 0.7, 0.8]})
    study = {"id": "s", "name": "hand-made", "status": "done",
             "tasks": {t: {"name": t, "labels": ["0", "1"]} for t in TASKS}, "spec": {"tasks": TASKS}}
    return StudyResults(study=study, runs=runs, scores=[], aux_scores=[], baselines=[], curves=curves)


def test_gain_is_the_best_early_validation_score_paired_by_seed():
    gains = short_run_gains(results(), epochs=3)
    assert gains[("a", "b")] == pytest.approx(0.05)     # best of epochs 1-3: 0.64 / 0.66 vs 0.60
    assert gains[("b", "a")] == pytest.approx(0.05)     # 0.55 vs 0.50
    assert gains[("a", "c")] == pytest.approx(-0.10)    # epoch 4 (0.99) is past the short budget
    assert gains[("c", "a")] == pytest.approx(0.0)
    assert ("b", "c") not in gains                      # no such pair was trained
    assert short_run_gains(results(), epochs=4)[("a", "c")] == pytest.approx(0.09)


def test_cost_is_pro_rata_of_the_epochs_read():
    cost = short_run_cost(results(), epochs=1)
    assert cost.runs == 10 and cost.minutes == pytest.approx(10 * 60 / 4 / 60)


def test_runs_with_a_learning_rate_schedule_are_left_out():
    """Their first epochs are not a short run (the rate depends on the planned length)."""
    assert short_run_gains(results("linear")) == {} and short_run_cost(results("linear")).runs == 0


def test_no_curves_no_estimate():
    assert short_run_gains(dataclasses.replace(results(), curves=None)) == {}


def test_estimate_name_is_labelled_for_the_page():
    from mtl_core.charts.subsets import ESTIMATE_NAMES
    assert "first 3 epochs" in ESTIMATE_NAMES[NAME]

"""Time estimates come from what similar finished runs measured here: their speed, the epochs early stopping let
them train, and how long their data took to prepare. The store below holds hand-made timings, so every
expected number can be worked out by hand."""
from __future__ import annotations

import json

import pytest

from mtl_core.status import Status
from mtl_core.store import Store
from mtl_core.studies import time_estimates as te
from mtl_core.studies.spec import StudySpec
from mtl_core.training.config import RunConfig

# synthetic-demo: base has 400 rows, related 1200 (disjoint); 70% of them train (test 20%, validation 10%)
TRAIN = {"base": 280, "related": 840, "all": 1120}


def spec(**config) -> StudySpec:
    s = StudySpec.from_preset("synthetic-demo", seeds=1, tasks=["base", "related"])
    s.config.update({"epochs": 10, "patience": 2, "hidden": 16, "emb_dim": 16, **config})
    return s


def store_run(store: Store, study_id: str, run: dict, start: float, rows: int, epochs_run: int,
              seconds_per_example: float, train_share: float = 0.8) -> None:
    """Mark ``run`` done as if it trained ``rows`` examples per epoch for ``epochs_run`` epochs, taking
    RUN_SECONDS + ``seconds_per_example`` per example of wall-clock time (``train_share`` of it training)."""
    seen = rows * epochs_run
    busy = seen * seconds_per_example
    assert store.update_run(run["id"], status=Status.RUNNING, started=start)
    assert store.update_run(run["id"], status=Status.DONE, finished=start + te.RUN_SECONDS + busy,
                            epochs_run=epochs_run, best_epoch=max(1, epochs_run - 2), train_seconds=busy * train_share,
                            examples_per_second=seen / (busy * train_share))


def measured_study(store: Store, s: StudySpec, epochs_run: dict[str, int], per_example: dict[str, float],
                   prepare: float, first_run_slower: float = 1.0) -> str:
    """A finished study of ``s`` whose first run started ``prepare`` seconds after the study was created and
    took ``first_run_slower`` times longer per example than the same setting later."""
    config = RunConfig.from_dict(s.config).to_dict()
    study_id = store.create_study(s.name, s.to_dict(), s.planned_runs(s.tasks), config)
    start = store.study(study_id)["created"] + prepare
    for run in store.runs(study_id):
        key = "all" if run["setting"] == "all" else run["tasks"][0]
        slower = first_run_slower if run["id"] == store.runs(study_id)[0]["id"] else 1.0
        store_run(store, study_id, run, start, TRAIN[key], epochs_run[run["setting"]],
                  per_example[run["setting"]] * slower)
        start += 100
    return study_id


@pytest.fixture(autouse=True)
def one_run_at_a_time(monkeypatch):
    monkeypatch.setenv("MTL_LAB_PARALLEL_RUNS", "1")


def test_an_empty_store_assumes_every_epoch_at_the_default_speed():
    estimate = te.estimate_seconds(spec(), Store())
    rows = TRAIN["base"] + TRAIN["related"] + TRAIN["all"]
    expected = (te.PREPARE_SECONDS + 2 * te.PER_TASK_BASELINE_SECONDS + 3 * te.RUN_SECONDS
                + rows * 10 / te.DEFAULT_EXAMPLES_PER_SECOND)
    assert estimate == pytest.approx(expected, rel=1e-6)


def test_similar_runs_give_their_speed_their_early_stopping_epochs_and_their_preparation():
    store = Store()
    assert not te.has_measured_runs(store)  # the Tasks page then calls its estimate a cautious guess
    measured_study(store, spec(), epochs_run={"single": 4, "all": 6}, per_example={"single": 0.002, "all": 0.004},
                   prepare=3.0)
    assert te.has_measured_runs(store)
    estimate = te.estimate_seconds(spec(), store)
    # 3 s preparation + 1 s of baselines per task, then per run 1 s + rows x epochs x seconds per example
    expected = 3.0 + 2 + (1 + 280 * 4 * 0.002) + (1 + 840 * 4 * 0.002) + (1 + 1120 * 6 * 0.004)
    assert estimate == pytest.approx(expected, rel=1e-6)


def test_two_runs_at_once_share_out_the_training_not_the_preparation(monkeypatch):
    store = Store()
    measured_study(store, spec(), epochs_run={"single": 4, "all": 6}, per_example={"single": 0.002, "all": 0.004},
                   prepare=3.0)
    one = te.estimate_seconds(spec(), store)
    monkeypatch.setenv("MTL_LAB_PARALLEL_RUNS", "2")
    assert te.estimate_seconds(spec(), store) == pytest.approx(5.0 + (one - 5.0) / 2, rel=1e-6)


def test_other_data_lends_its_speed_its_share_of_epochs_and_its_preparation():
    store = Store()
    other = spec()
    other.source = {"preset": "synthetic-demo", "note": "another corpus"}  # another data source (as stored)
    measured_study(store, other, epochs_run={"single": 5, "all": 5}, per_example={"single": 0.003, "all": 0.003},
                   prepare=60.0)
    estimate = te.estimate_seconds(spec(), store)
    # nothing of synthetic-demo itself: epochs = 10 x median(5/10), seconds per example = the nearest sizes',
    # preparation = the other data's (the same machine starts the same way)
    expected = 60.0 + 2 + 3 * 1 + (280 + 840 + 1120) * 5 * 0.003
    assert estimate == pytest.approx(expected, rel=1e-6)


def test_a_run_that_costs_more_per_step_is_not_similar():
    store = Store()
    measured_study(store, spec(), epochs_run={"single": 4, "all": 6}, per_example={"single": 0.002, "all": 0.004},
                   prepare=3.0)
    bigger = spec(hidden=256)  # another cost per step, same backbone: the backbone's runs are the fallback
    slow = spec(backbone="transformer")  # no run of this backbone: the default speed
    assert te.measured_speed(RunConfig.from_dict(bigger.config).to_dict(), store) is None
    assert te.estimate_seconds(bigger, store) == pytest.approx(  # median of the backbone's later runs: 0.002, 0.004
        5 + (1 + 280 * 4 * 0.003) + (1 + 840 * 4 * 0.003) + (1 + 1120 * 6 * 0.003), rel=1e-6)
    assert te.estimate_seconds(slow, store) == pytest.approx(
        5 + (1 + 280 * 4 / 100) + (1 + 840 * 4 / 100) + (1 + 1120 * 6 / 100), rel=1e-6)


def test_the_first_runs_extra_time_counts_as_preparation_not_as_speed():
    store = Store()
    measured_study(store, spec(), epochs_run={"single": 4, "all": 6}, per_example={"single": 0.002, "all": 0.004},
                   prepare=3.0, first_run_slower=5.0)  # base alone, first: 0.010 s per example instead of 0.002
    history = te.read_history(store)
    # 3 s before it started, then 280 rows x 4 epochs x (0.010 - 0.003, the median of the study's later runs)
    assert history.prepare[json.dumps(spec().source, sort_keys=True)] == pytest.approx(3.0 + 280 * 4 * 0.007)
    assert sorted(m.seconds_per_example for m in history.runs) == pytest.approx([0.002, 0.004])


def test_early_stopping_ends_a_run_patience_epochs_after_its_best_one_whatever_the_limits():
    store = Store()  # runs of this data kept epoch 2 (alone) and epoch 4 (together): best = epochs_run - 2 here
    measured_study(store, spec(), epochs_run={"single": 4, "all": 6}, per_example={"single": 0.002, "all": 0.004},
                   prepare=3.0)
    history = te.read_history(store).runs
    source = json.dumps(spec().source, sort_keys=True)
    config = RunConfig.from_dict({**spec().config, "epochs": 20, "patience": 1}).to_dict()
    assert te.expected_epochs(config, source, "single", history) == 3  # best 2 + patience 1
    assert te.expected_epochs(config, source, "all", history) == 5
    config = RunConfig.from_dict({**spec().config, "epochs": 3, "patience": 5}).to_dict()
    assert te.expected_epochs(config, source, "all", history) == 3  # never past the limit

"""Background training with real worker processes: submit, drain, fail, cancel, retry, kill -9 and resume."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from mtl_core.paths import mtl_home
from mtl_core.results.study_results import StudyResults
from mtl_core.results.summary import summary_rows
from mtl_core.store import Store
from mtl_core.studies import queue, time_estimates
from mtl_core.studies.execute import run_study
from mtl_core.studies.processes import process_identity
from mtl_core.studies.queue import (
    cancel_study,
    ensure_worker,
    get_queue,
    live_workers,
    recover,
    retry_study,
    stop_worker,
    submit_study,
)
from mtl_core.studies.spec import StudySpec
from mtl_core.studies.time_estimates import estimate_parts, measured_speed
from mtl_core.training.config import RunConfig

PROGRESS_KEYS = {"epoch", "epochs", "step", "steps", "val_score", "best_epoch", "val_scores",
                 "examples_per_second", "eta_seconds"}


def tiny_spec(name: str, seeds: int = 1, epochs: int = 2, **config) -> StudySpec:
    spec = StudySpec.from_preset("synthetic-demo", name=name, seeds=seeds, tasks=["base", "related"])
    spec.config.update(epochs=epochs, hidden=16, emb_dim=16, **config)
    return spec


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    log = mtl_home() / "worker.log"
    pytest.fail(f"timed out waiting for {what}; worker log:\n" + (log.read_text()[-3000:] if log.exists() else "-"))


def kill_started_workers() -> None:
    """Kill the worker processes this test process started (by their Popen handles), and reap them."""
    for proc in queue._spawned:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A store of its own and, once a test calls ensure_worker, one worker serving it for the module."""
    store = Store(tmp_path_factory.mktemp("served") / "mtl_lab.sqlite")
    yield store
    kill_started_workers()


def test_submit_returns_at_once_and_the_worker_drains_the_queue_past_a_failed_study(served, tmp_path, datasets_dir):
    data = tmp_path / "yelp_labelled.txt"
    shutil.copy(datasets_dir / "uci_sentiment" / "yelp_labelled.txt", data)
    start = time.perf_counter()
    broken = submit_study(StudySpec(name="data gone", source={"files": [str(data)]}, tasks=["yelp"], seeds=2,
                                    config={"epochs": 2, "hidden": 16, "emb_dim": 16}), served)
    good = submit_study(tiny_spec("tiny"), served)
    assert time.perf_counter() - start < 2.0  # no data loading, no training in the caller
    data.unlink()  # the worker, not the caller, loads the data: it will find it gone
    assert served.study(good)["status"] == "queued"
    assert [r["status"] for r in served.runs(good)] == ["queued"] * 3  # base alone, related alone, both

    assert ensure_worker(served, wait=30) and live_workers(served)
    worker = live_workers(served)[0]  # the latest to beat
    wait_for(lambda: served.study(good)["status"] == "done", 60, "the good study to finish")

    failed = served.study(broken)
    assert failed["status"] == "failed" and "yelp_labelled.txt" in failed["error"]
    assert {r["status"] for r in served.runs(broken)} == {"failed"}
    assert all("yelp_labelled.txt" in r["error"] and "Traceback" not in r["error"] for r in served.runs(broken))
    assert live_workers(served)[0]["identity"] == worker["identity"]  # the same worker went on to the next study

    runs = served.runs(good)
    assert all(r["status"] == "done" and r["checkpoint"] and os.path.exists(r["checkpoint"]) for r in runs)
    for r in runs:
        assert PROGRESS_KEYS <= set(r["progress"]) and r["progress"]["eta_seconds"] == 0
        curves = served.curves(r["id"])
        keys = [(c["epoch"], c["task"], c["name"]) for c in curves]
        assert len(keys) == len(set(keys)) and {c["epoch"] for c in curves} == {1, 2}  # live rows not doubled

    inline_store = Store()  # the same spec run in process (the CLI's path) gives the same table
    inline_id, _ = run_study(tiny_spec("tiny"), inline_store, echo=lambda line: None, save_models=False)
    queued_rows = {(r["task"], r["setting"], r["metric"]): r["mean"] for r in summary_rows(StudyResults.load(served, good))}
    inline_rows = {(r["task"], r["setting"], r["metric"]): r["mean"] for r in summary_rows(StudyResults.load(inline_store, inline_id))}
    assert ("base", "all", "accuracy") in queued_rows and queued_rows.keys() == inline_rows.keys()
    assert queued_rows == pytest.approx(inline_rows)


def test_cancel_stops_the_running_run_and_the_worker_stays(served):
    study_id = submit_study(tiny_spec("long", seeds=2, epochs=200, patience=200), served)
    assert ensure_worker(served, wait=30)
    running = wait_for(lambda: next((r for r in served.runs(study_id) if r["status"] == "running"
                                     and (r["progress"] or {}).get("step")), None), 60, "a run to train")
    assert running["progress"]["eta_seconds"] > 0 and running["progress"]["steps"] > 0
    cancel_study(study_id, served)
    wait_for(lambda: served.study(study_id)["status"] == "cancelled", 30, "the study to be cancelled")
    statuses = {r["id"]: r["status"] for r in served.runs(study_id)}
    assert statuses[running["id"]] == "cancelled" and set(statuses.values()) <= {"done", "cancelled"}
    assert sum(s == "cancelled" for s in statuses.values()) >= 5  # 6 runs; at most the first one finished
    assert live_workers(served)


def test_cancel_a_queued_study_then_retry_queues_it_again():
    store = Store()
    study_id = submit_study(tiny_spec("waiting"), store)
    cancel_study(study_id, store)  # no worker: nothing started
    assert store.study(study_id)["status"] == "cancelled"
    assert {r["status"] for r in store.runs(study_id)} == {"cancelled"}
    assert retry_study(study_id, store) == 3
    assert store.study(study_id)["status"] == "queued" and not store.cancel_requested(study_id)
    assert {r["status"] for r in store.runs(study_id)} == {"queued"}
    assert [t.args[0] for t in get_queue(store).pending()].count(study_id) == 2  # submitted, then retried


def test_a_worker_killed_mid_study_loses_nothing_and_reruns_nothing():
    store = Store()
    study_id = submit_study(tiny_spec("killed", seeds=2, epochs=4, patience=10), store)
    try:
        assert ensure_worker(store, wait=30)
        first = live_workers(store)[0]

        def midway():
            runs = store.runs(study_id)
            done = [r for r in runs if r["status"] == "done"]
            busy = [r for r in runs if r["status"] == "running" and (r["progress"] or {}).get("epoch")]
            return (done, busy[0]) if len(done) >= 2 and busy else None

        done_before, interrupted = wait_for(midway, 60, "two runs done and a third training")
        os.kill(first["pid"], signal.SIGKILL)
        wait_for(lambda: not live_workers(store), 10, "the killed worker to be seen dead")
        assert store.study(study_id)["status"] == "running"  # left behind, as after a crash

        assert ensure_worker(store, wait=30)
        assert live_workers(store)[0]["identity"] != first["identity"]
        wait_for(lambda: store.study(study_id)["status"] == "done", 60, "the resumed study to finish")
    finally:
        kill_started_workers()
    after = {r["id"]: r for r in store.runs(study_id)}
    assert len(after) == 6 and all(r["status"] == "done" for r in after.values())
    for r in done_before:  # finished before the kill: kept, not run again
        assert (after[r["id"]]["started"], after[r["id"]]["finished"]) == (r["started"], r["finished"])
    assert after[interrupted["id"]]["started"] > interrupted["started"]  # the interrupted run ran again, whole
    for run_id, r in after.items():
        keys = [(c["epoch"], c["task"], c["name"]) for c in store.curves(run_id)]
        assert len(keys) == len(set(keys)) and max(k[0] for k in keys) == r["epochs_run"]
    assert len({(s["run_id"], s["task"], s["metric"]) for s in store.scores(study_id)}) == len(store.scores(study_id))
    assert any(r["setting"] == "all" for r in summary_rows(StudyResults.load(store, study_id)))


def test_estimate_uses_the_speed_measured_on_this_machine(served, monkeypatch):
    # the formula itself, on hand-made timings: tests/test_time_estimates.py
    spec = tiny_spec("estimate")
    _, before = estimate_parts(spec, Store())  # an empty store: the conservative default speed, every epoch
    speed = measured_speed(RunConfig.from_dict(spec.config).to_dict(), served)
    assert speed and speed > time_estimates.DEFAULT_EXAMPLES_PER_SECOND
    prepare, after = estimate_parts(spec, served)
    assert 0 < after < before and prepare > 0
    monkeypatch.setenv("MTL_LAB_PARALLEL_RUNS", "2")  # two runs at once: the training time is shared out
    assert estimate_parts(spec, served) == pytest.approx((prepare, after / 2), rel=0.01)


def test_estimate_before_any_measurement_knows_fine_tuning_a_large_encoder_is_slow():
    spec = tiny_spec("estimate")
    scratch = estimate_parts(spec, Store())[1]
    spec.config = {**spec.config, "backbone": "mpnet", "tune_pretrained": True}
    mpnet = estimate_parts(spec, Store())[1]
    spec.config = {**spec.config, "backbone": "minilm"}
    minilm = estimate_parts(spec, Store())[1]
    training = scratch - 3 * time_estimates.RUN_SECONDS  # the part that scales with the speed
    assert mpnet - minilm == pytest.approx(training * (time_estimates.DEFAULT_EXAMPLES_PER_SECOND / 9.0 - time_estimates.DEFAULT_EXAMPLES_PER_SECOND / 50.0), rel=0.01)
    assert scratch < minilm < mpnet


def ended_process_identity() -> str:
    """The identity of a process that has ended (as a worker killed with -9 leaves behind)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    identity = process_identity(proc.pid)
    proc.wait()
    return identity


def test_recover_requeues_only_the_runs_of_dead_processes():
    store = Store()
    study_id = submit_study(tiny_spec("crashed"), store)
    alive, dead = process_identity(), ended_process_identity()
    first, second, third = store.runs(study_id)
    assert store.claim_run(first["id"], alive) and store.claim_run(second["id"], dead)
    assert not store.claim_run(first["id"], dead)  # a run is claimed once
    store.update_study(study_id, status="running", owner=dead)
    get_queue(store).flush()  # the dead worker had taken the study's message

    assert recover(store) == [study_id]
    runs = {r["id"]: r for r in store.runs(study_id)}
    assert (runs[first["id"]]["status"], runs[first["id"]]["owner"]) == ("running", alive)  # a live owner's: kept
    assert (runs[second["id"]]["status"], runs[second["id"]]["owner"]) == ("queued", None)
    assert runs[third["id"]]["status"] == "queued"
    assert [t.args[0] for t in get_queue(store).pending()] == [study_id]
    assert recover(store) == []  # its message waits: not enqueued twice


def test_two_callers_of_ensure_worker_at_once_start_one_worker():
    store = Store()
    started = len(queue._spawned)
    try:
        with ThreadPoolExecutor(2) as pool:  # e.g. two browser tabs pressing Train at the same moment
            assert all(pool.map(lambda _: ensure_worker(store, wait=30), range(2)))
        assert len(queue._spawned) == started + 1 and len(live_workers(store)) == 1
    finally:
        assert stop_worker(store)
    assert live_workers(store) == []

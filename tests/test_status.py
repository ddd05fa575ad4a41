"""Statuses: every change the real code paths make is one ``status.TRANSITIONS`` lists; the store refuses the rest."""
from __future__ import annotations

import sqlite3
import subprocess
import sys
from contextlib import contextmanager
from itertools import product

import pytest

from mtl_core.selftest.procs import tiny_spec
from mtl_core.status import ACTIVE, RUN_TRANSITIONS, Status, can_change
from mtl_core.store import Store
from mtl_core.studies import execute
from mtl_core.studies.execute import execute_study
from mtl_core.studies.processes import process_identity
from mtl_core.studies.queue import cancel_study, recover, retry_study, submit_study
from mtl_core.studies.spec import StudySpec
from mtl_core.training.trainer import RunResult


class RecordingStore(Store):
    """A store that notes the status changes each of its transactions made: (kind, id, before, after)."""

    def __init__(self, path):
        self.changes: list[tuple[str, object, str, str]] = []
        self.created: list[tuple[str, object, str]] = []
        super().__init__(path)

    def _statuses(self) -> dict:
        db = sqlite3.connect(self.path)
        try:
            return {**{("study", i): s for i, s in db.execute("SELECT id, status FROM studies")},
                    **{("run", i): s for i, s in db.execute("SELECT id, status FROM runs")}}
        except sqlite3.OperationalError:  # the tables do not exist yet
            return {}
        finally:
            db.close()

    @contextmanager
    def connect(self, write_lock: bool = False):
        before = self._statuses()
        with super().connect(write_lock) as db:
            yield db
        for (kind, key), status in self._statuses().items():
            if (kind, key) not in before:
                self.created.append((kind, key, status))
            elif before[(kind, key)] != status:
                self.changes.append((kind, key, before[(kind, key)], status))

    def seen(self, kind: str) -> set[tuple[str, str]]:
        return {(before, after) for k, _, before, after in self.changes if k == kind}


def ended_process_identity() -> str:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    identity = process_identity(proc.pid)
    proc.wait()
    return identity


def one_run(name: str) -> StudySpec:
    return tiny_spec(name, plan="singles", tasks=["base"], n_examples=80)


def test_every_path_of_a_study_and_its_runs_changes_status_only_as_transitions_allow(tmp_path, monkeypatch):
    store = RecordingStore(tmp_path / "mtl_lab.sqlite")
    real_train_run, mode = execute.train_run, {"now": "train"}
    stopping = {"now": False}

    def train_run(*args, **kwargs):
        if mode["now"] == "fail":
            raise RuntimeError("the trainer broke")
        if mode["now"] == "cancel":  # the user presses Cancel while the run trains
            store.update_study(study_id, cancel_requested=1)
            raise InterruptedError("cancelled")
        if mode["now"] == "stop":  # the worker gets SIGTERM while the run trains
            stopping["now"] = True
            raise InterruptedError("stopping")
        return real_train_run(*args, **kwargs)

    monkeypatch.setattr(execute, "train_run", train_run)
    monkeypatch.setattr(execute, "worker_stopping", lambda: stopping["now"])

    # queued -> running -> done
    study_id = submit_study(one_run("done"), store)
    execute_study(study_id, store)
    assert store.study(study_id)["status"] == Status.DONE

    # running -> failed, then failed -> queued on retry, then done
    study_id = submit_study(tiny_spec("fails", plan="singles", n_examples=80), store)
    mode["now"] = "fail"
    execute_study(study_id, store)
    assert {r["status"] for r in store.runs(study_id)} == {Status.FAILED} == {store.study(study_id)["status"]}
    assert retry_study(study_id, store) == 2
    mode["now"] = "train"
    execute_study(study_id, store)
    assert store.study(study_id)["status"] == Status.DONE

    # running -> queued when the worker stops mid-run; the next worker finishes it
    study_id = submit_study(one_run("stopped"), store)
    mode["now"] = "stop"
    execute_study(study_id, store)
    assert store.runs(study_id)[0]["status"] == Status.QUEUED and store.study(study_id)["status"] == Status.RUNNING
    mode["now"], stopping["now"] = "train", False
    execute_study(study_id, store)
    assert store.study(study_id)["status"] == Status.DONE

    # queued -> cancelled (no worker took it), cancelled -> queued on retry, running -> cancelled mid-run
    study_id = submit_study(one_run("cancelled"), store)
    cancel_study(study_id, store)
    assert store.study(study_id)["status"] == Status.CANCELLED == store.runs(study_id)[0]["status"]
    assert retry_study(study_id, store) == 1
    mode["now"] = "cancel"
    execute_study(study_id, store)
    assert store.study(study_id)["status"] == Status.CANCELLED == store.runs(study_id)[0]["status"]
    mode["now"] = "train"

    # queued -> failed: the data is gone before the worker prepares it
    study_id = submit_study(StudySpec(name="data gone", source={"files": [str(tmp_path / "gone.csv")]},
                                      tasks=["label"], seeds=1, config={"epochs": 1}), store)
    execute_study(study_id, store)
    assert store.study(study_id)["status"] == Status.FAILED == store.runs(study_id)[0]["status"]

    # a dead worker's run goes back to the queue; a dead CLI process' study fails
    dead = ended_process_identity()
    study_id = submit_study(one_run("worker died"), store)
    assert store.start_study(study_id, dead) and store.claim_run(store.runs(study_id)[0]["id"], dead)
    inline = store.create_study("cli died", {}, [("single", ["base"], 0)], {}, backend="inline")
    assert store.start_study(inline, dead) and store.claim_run(store.runs(inline)[0]["id"], dead)
    recover(store)
    assert store.runs(study_id)[0]["status"] == Status.QUEUED
    assert store.study(inline)["status"] == Status.FAILED == store.runs(inline)[0]["status"]

    assert {status for _, _, status in store.created} == {Status.QUEUED}  # everything starts queued
    unlisted = [c for c in store.changes if not can_change(c[2], c[3], run=c[0] == "run")]
    assert unlisted == []
    assert store.seen("run") == {
        (Status.QUEUED, Status.RUNNING), (Status.RUNNING, Status.DONE), (Status.RUNNING, Status.FAILED),
        (Status.RUNNING, Status.CANCELLED), (Status.RUNNING, Status.QUEUED), (Status.QUEUED, Status.CANCELLED),
        (Status.QUEUED, Status.FAILED), (Status.FAILED, Status.QUEUED), (Status.CANCELLED, Status.QUEUED)}
    assert store.seen("study") == {
        (Status.QUEUED, Status.RUNNING), (Status.RUNNING, Status.DONE), (Status.RUNNING, Status.FAILED),
        (Status.RUNNING, Status.CANCELLED), (Status.QUEUED, Status.CANCELLED), (Status.FAILED, Status.QUEUED),
        (Status.CANCELLED, Status.QUEUED)}


def result(tasks: list[str]) -> RunResult:
    return RunResult(tasks=tasks, seed=0, config={}, test_scores={t: {"accuracy": 0.5} for t in tasks},
                     val_scores={}, curves=[], best_epoch=1, epochs_run=1, train_seconds=0.0,
                     examples_per_second=0.0, device="cpu")


def run_in(store: Store, study_id: str, status: Status) -> int:
    """The study's one run, brought to ``status`` by the store's own methods."""
    assert store.add_runs_once(study_id, [("single", ["a"], 0)], {})
    (run_id,) = (r["id"] for r in store.runs(study_id))
    if status in (Status.RUNNING, Status.DONE):
        assert store.claim_run(run_id, "1:1")
    if status == Status.DONE:
        assert store.finish_run(run_id, result(["a"]))
    if status in (Status.FAILED, Status.CANCELLED):
        assert store.update_run(run_id, status=status)
    return run_id


@pytest.mark.parametrize("before, after", list(product(Status, Status)))
def test_the_store_changes_a_run_and_a_study_only_as_transitions_say(before, after):
    store = Store()
    study_id = store.create_study("one run", {})
    run_id = run_in(store, study_id, before)
    changed = store.update_run(run_id, status=after, error="noted")
    assert changed == (before == after or after in RUN_TRANSITIONS[before])
    assert store.run(run_id)["status"] == (after if changed else before)
    assert store.run(run_id)["error"] == ("noted" if changed else None)  # refused: nothing written at all

    study = store.create_study("a study", {})
    for step in {Status.QUEUED: [], Status.RUNNING: [Status.RUNNING], Status.DONE: [Status.RUNNING, Status.DONE],
                 Status.FAILED: [Status.FAILED], Status.CANCELLED: [Status.CANCELLED]}[before]:
        assert store.update_study(study, status=step)
    changed = store.update_study(study, status=after)
    assert changed == (before == after or can_change(before, after))
    assert store.study(study)["status"] == (after if changed else before)


def test_changes_the_lifecycle_has_no_place_for_are_refused():
    store = Store()
    study_id = store.create_study("refusals", {}, [("single", ["a"], 0), ("single", ["b"], 0)], {})
    done, queued = (r["id"] for r in store.runs(study_id))
    assert not store.finish_run(queued, result(["b"]))  # a run is claimed before it is done
    assert store.run(queued)["status"] == Status.QUEUED and store.scores(study_id) == []
    assert store.claim_run(done, "1:1") and store.finish_run(done, result(["a"]))
    assert not store.claim_run(done, "2:2") and not store.finish_run(done, result(["a"]))  # done stays done
    assert not store.reset_run(done) and store.scores(study_id)  # its results are kept
    assert not store.update_run(done, status=Status.QUEUED) and store.run(done)["status"] == Status.DONE
    with pytest.raises(ValueError):
        store.close_queued_runs(study_id, Status.DONE)
    with pytest.raises(ValueError):
        store.reset_run(queued, when=(Status.DONE,))  # not a change TRANSITIONS lists
    with pytest.raises(ValueError):
        store.update_run(queued, status="finished")  # not a status
    assert store.settle_study(study_id, lambda runs, cancelled: (Status.DONE, None)) is None  # b still waits
    assert store.close_queued_runs(study_id, Status.CANCELLED) == 1
    assert store.settle_study(study_id, lambda runs, cancelled: (Status.CANCELLED, None)) == Status.CANCELLED
    assert not store.start_study(study_id, "1:1")  # a settled study is never set running again
    assert store.settle_study(study_id, lambda runs, cancelled: (Status.DONE, None)) is None
    assert store.study(study_id)["status"] == Status.CANCELLED


def test_a_study_retried_while_its_worker_still_trains_is_settled_from_queued():
    """The one change a study makes that its runs never do: queued -> done (see status.py)."""
    store = Store()
    study_id = store.create_study("retried mid-study", {}, [("single", ["a"], 0), ("single", ["b"], 0)], {})
    first, second = (r["id"] for r in store.runs(study_id))
    assert store.start_study(study_id, "1:1") and store.claim_run(first, "1:1")
    assert store.update_run(first, status=Status.FAILED)  # the worker goes on with the next run ...
    assert store.claim_run(second, "1:1")
    assert retry_study(study_id, store) == 1  # ... while the user retries the failed one: the study is queued
    assert store.study(study_id)["status"] == Status.QUEUED
    assert store.finish_run(second, result(["b"]))  # the worker finishes the run it trained, then trains the
    assert store.claim_run(first, "1:1") and store.finish_run(first, result(["a"]))  # retried one and settles
    assert store.settle_study(study_id, lambda runs, cancelled: (Status.DONE, None)) == Status.DONE
    assert can_change(Status.QUEUED, Status.DONE) and not can_change(Status.QUEUED, Status.DONE, run=True)
    assert Status.QUEUED in ACTIVE

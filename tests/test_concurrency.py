"""Several worker processes drain one store: no run trained twice, none lost, every study settled once."""
from __future__ import annotations

import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from mtl_core.selftest import concurrency
from mtl_core.selftest.procs import Processes, integrity, tiny_spec, wait_for
from mtl_core.store import Store
from mtl_core.studies.processes import ROOT
from mtl_core.studies.queue import live_workers, stop_worker, submit_study


def test_a_run_is_claimed_once_and_a_study_settles_once_never_while_a_run_trains(tmp_path):
    store = Store(tmp_path / "mtl_lab.sqlite")
    study_id = submit_study(tiny_spec("raced"), store)  # 3 runs
    a, b, c = (r["id"] for r in store.runs(study_id))
    with ThreadPoolExecutor(8) as pool:  # 8 connections race for one run
        claims = list(pool.map(lambda k: store.claim_run(a, f"{k}:0"), range(8)))
    assert claims.count(True) == 1 and store.runs(study_id)[0]["attempts"] == 1

    def verdict(runs: list[dict], cancelled: bool) -> tuple[str, None]:
        return "done", None

    assert store.claim_run(b, "other:0")
    store.update_run(a, status="done")
    assert store.settle_study(study_id, verdict) is None  # b still trains and c waits
    store.update_run(b, status="done")
    assert store.claim_run(c, "other:0") and store.settle_study(study_id, verdict) is None
    store.update_run(c, status="done")
    with ThreadPoolExecutor(8) as pool:  # 8 workers end at once: one settles the study
        outcomes = list(pool.map(lambda _: store.settle_study(study_id, verdict), range(8)))
    assert outcomes.count("done") == 1 and outcomes.count(None) == 7 and store.study(study_id)["status"] == "done"


def test_two_worker_processes_share_one_queue_and_train_every_run_exactly_once(tmp_path):
    store = Store(tmp_path / "mtl_home" / "mtl_lab.sqlite")
    procs = Processes(store.path.parent)
    early = []  # a study seen "done" while one of its runs was not: must stay empty

    def all_done(ids: list[str]) -> bool:
        studies = {i: store.study(i)["status"] for i in ids}
        early.extend(i for i, status in studies.items()
                     if status == "done" and any(r["status"] != "done" for r in store.runs(i)))
        return all(status == "done" for status in studies.values())

    try:
        supervisor = procs.start(["-m", "mtl_core", "worker", "--store", str(store.path), "--workers", "2"])
        wait_for(lambda: len(live_workers(store)) == 2, 60, "two workers' heartbeats")
        # two live workers: the study is queued twice (jobs.fan_out), so both train its runs
        shared = submit_study(tiny_spec("shared", seeds=2, epochs=3, n_examples=200), store)  # 6 runs
        ids = [shared] + [submit_study(tiny_spec(f"small {k}"), store) for k in range(4)]  # 3 runs each
        wait_for(lambda: all_done(ids), 120, "every study to finish", poll=0.1)
        assert stop_worker(store)  # stops both
        assert supervisor.wait(timeout=30) == 0
    finally:
        stop_worker(store)
        procs.close()

    runs = {i: store.runs(i) for i in ids}
    assert early == [] and {store.study(i)["status"] for i in ids} == {"done"}
    assert sum(len(r) for r in runs.values()) == 6 + 4 * 3  # none lost, none planned twice
    assert all(r["status"] == "done" and r["attempts"] == 1 for rs in runs.values() for r in rs)  # none twice
    assert len({r["owner"] for r in runs[shared]}) == 2  # both workers trained runs of the shared study
    for i in ids:
        scores = [(s["run_id"], s["task"], s["metric"]) for s in store.scores(i)]
        assert len(scores) == len(set(scores)) and {s[0] for s in scores} == {r["id"] for r in runs[i]}
        tasks = {t for r in runs[i] for t in r["tasks"]}  # baselines scored after the runs, none missing
        assert {(b["task"], b["method"]) for b in store.baselines(i)} == {(t, m) for t in tasks
                                                                          for m in ("majority", "tfidf-lr")}
    assert integrity(store) == "ok"
    assert store.workers() == []  # both stopped cleanly and said so


def test_selftest_section_two_workers_drain_51_studies_from_3_submitters(tmp_path):
    result = concurrency.run(tmp_path, quick=True)  # kills its own processes before returning, even on failure
    details = result["details"]
    assert result["name"] == "concurrency" and result["failures"] == [], "\n\n".join(result["failures"])
    assert result["ok"] == result["tried"] >= 10
    assert details["studies_enqueued"] >= 50 and details["processes"] >= 3 and details["workers"] >= 2
    assert details["runs executed twice"] == 0 and details["runs lost"] == 0 == details["results_lost"]
    assert details["workers_that_trained"] >= 2 and details["most_runs_training_at_once"] >= 2
    store = Store(tmp_path / "mtl_home" / "mtl_lab.sqlite")  # read back independently of the section
    studies = store.studies()
    assert len(studies) == details["studies_enqueued"] and {s["status"] for s in studies} == {"done"}
    assert {s["name"].split("-")[0] for s in studies} == {"p0", "p1", "p2"}  # every submitter's studies arrived
    runs = [r for s in studies for r in store.runs(s["id"])]
    assert all(r["status"] == "done" and r["attempts"] >= 1 for r in runs)
    assert sum(r["attempts"] > 1 for r in runs) == details["runs_restarted_after_kill"] <= 1


OPEN_AT = ("import sys, time; from mtl_core.store import Store; "
           "time.sleep(max(0.0, float(sys.argv[2]) - time.time())); Store(sys.argv[1]).studies()")


def test_processes_opening_a_new_store_at_once_create_it_once(tmp_path):
    for attempt in range(4):
        path = tmp_path / f"fresh{attempt}" / "mtl_lab.sqlite"
        start_at = time.time() + 1.5  # every process opens the new store at the same instant
        procs = [subprocess.Popen([sys.executable, "-c", OPEN_AT, str(path), str(start_at)], cwd=ROOT,
                                  stderr=subprocess.PIPE, text=True) for _ in range(6)]
        errors = [proc.communicate(timeout=60)[1] for proc in procs]
        assert [proc.returncode for proc in procs] == [0] * 6, errors  # was: "duplicate column name"
        assert integrity(Store(path)) == "ok"

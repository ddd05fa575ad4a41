"""The Ray backend's faults, on a real Ray cluster of two nodes (one CPU each, ``ray.cluster_utils.Cluster``, both
on this machine); a section of the reliability self-test.

(r1) a node removed while a run trains on it -> Ray runs the task again on the other node, the run is stored once
     (the lost attempt's curves forgotten, its attempt counted);
(r2) the study cancelled mid-run -> ``ray.cancel`` stops its tasks: no run left running or queued, the study
     cancelled long before its runs could have ended;
(r3) kill -9 of the worker that owns a Ray study -> Ray ends its tasks; the next worker queues the unfinished runs
     again and submits them anew; the finished runs are kept untouched;
(r4) an unreachable cluster -> refused at submit with the address and what to do, nothing queued; a queued study
     whose cluster is gone fails its runs with that message, and Retry queues every one of them again.

After each: results lost (a run once done whose status, start, end or scores changed) and runs stored twice (a
curve row or score repeated for a run, or a run done twice) must be 0, and the store must pass its integrity check.
"""
from __future__ import annotations

import threading
import time
from pathlib import Path

from mtl_core.selftest.faults import _done_snapshot, results_lost
from mtl_core.selftest.procs import Checks, Processes, integrity, tiny_spec, wait_for
from mtl_core.status import Status
from mtl_core.store import Store

NAME = "ray_cluster"


def stored_twice(store: Store, study_id: str) -> list[int]:
    """Runs of the study with a curve row or a score stored more than once."""
    twice = []
    for run in store.runs(study_id):
        curves = [(c["epoch"], c["task"], c["name"]) for c in store.curves(run["id"])]
        if len(curves) != len(set(curves)):
            twice.append(run["id"])
    scores = [(s["run_id"], s["task"], s["metric"]) for s in store.scores(study_id)]
    return twice + sorted({s[0] for s in scores if scores.count(s) > 1})


def _when(condition, what: str, act, timeout: float = 120.0) -> threading.Thread:
    """Watch ``condition()`` in a thread; call ``act(value)`` once it holds (a fault injected mid-run)."""
    def watch() -> None:
        value = wait_for(condition, timeout, what, poll=0.05)
        act(value)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def _training_on(store: Store, node_id: str | None = None, last_epoch: int = 10 ** 9):
    """A run training (past its first epoch, at most ``last_epoch``), on ``node_id`` if given."""
    for running in store.running_runs():
        progress = store.run(running["id"])["progress"] or {}
        if (node_id is None or progress.get("node") == node_id) and 1 <= progress.get("epoch", 0) <= last_epoch:
            return running
    return None


def node_dies(store: Store, cluster, node, report: Checks) -> None:
    from mtl_core.studies.backends import Executor
    from mtl_core.studies.dispatch import run_study

    removed: list[dict] = []
    _when(lambda: _training_on(store, node.node_id, last_epoch=20), "a run training on the second node",
          lambda run: (cluster.remove_node(node), removed.append(run)))
    study_id, _ = run_study(tiny_spec("ray node dies", epochs=30, n_examples=300), store,
                            Executor("ray", cluster.address), echo=lambda line: None)
    runs = store.runs(study_id)
    again = store.run(removed[0]["id"]) if removed else {}
    report.check("(r1) a node removed mid-run: every run done, the interrupted one attempted twice",
                 removed and all(r["status"] == Status.DONE for r in runs) and again.get("attempts") == 2,
                 f"removed {removed}, runs {[(r['id'], r['status'], r['attempts']) for r in runs]}")


def cancelled(store: Store, cluster, report: Checks) -> None:
    from mtl_core.studies.backends import Executor
    from mtl_core.studies.dispatch import run_study
    from mtl_core.studies.queue import cancel_study

    _when(lambda: _training_on(store), "a run training", lambda run: cancel_study(run["study_id"], store))
    started = time.monotonic()
    study_id, _ = run_study(tiny_spec("ray cancelled", seeds=2, epochs=300, n_examples=300), store,
                            Executor("ray", cluster.address), echo=lambda line: None)
    seconds = time.monotonic() - started
    statuses = {r["status"] for r in store.runs(study_id)}
    report.check("(r2) cancel: its Ray tasks stop, no run left running or queued, the study cancelled",
                 seconds < 90 and statuses <= {Status.DONE, Status.CANCELLED} and Status.CANCELLED in statuses
                 and store.study(study_id)["status"] == Status.CANCELLED, f"{seconds:.0f} s, {statuses}")


def owner_dies(store: Store, cluster, procs: Processes, report: Checks) -> None:
    from mtl_core.studies.backends import Executor
    from mtl_core.studies.queue import submit_study

    study_id = submit_study(tiny_spec("ray owner dies", seeds=2, epochs=15, n_examples=300), store,
                            Executor("ray", cluster.address))
    first = procs.worker(store)
    wait_for(lambda: any(r["status"] == Status.DONE for r in store.runs(study_id)) and _training_on(store), 240,
             "the owner to store a run and train another")
    before = _done_snapshot(store)
    procs.kill(first)
    second = procs.worker(store)
    wait_for(lambda: store.study(study_id)["status"] in (Status.DONE, Status.FAILED), 300,
             "the next worker to finish the study")
    procs.kill(second)
    runs = store.runs(study_id)
    report.check("(r3) kill -9 of the owner: the next worker submits the unfinished runs again and finishes",
                 all(r["status"] == Status.DONE for r in runs), procs.log_tail())
    report.check("(r3) the runs finished before the kill are kept untouched", not results_lost(store, before),
                 f"changed: {results_lost(store, before)}")


def unreachable(store: Store, report: Checks) -> None:
    from mtl_core.studies.backends import ClusterUnreachable, Executor
    from mtl_core.studies.dispatch import execute
    from mtl_core.studies.queue import retry_study, submit_study
    from mtl_core.studies.submit import queue_study

    gone = Executor("ray", "127.0.0.1:9")  # the discard port: nothing listens there
    before = len(store.studies())
    try:
        queue_study(tiny_spec("ray nowhere"), store, start_worker=False, executor=gone)
        refused = ""
    except ClusterUnreachable as exc:
        refused = str(exc)
    report.check("(r4) an unreachable cluster is refused at submit, naming the address and the fix; nothing queued",
                 "127.0.0.1:9" in refused and "ray start --head" in refused and len(store.studies()) == before,
                 refused or "not refused")
    study_id = submit_study(tiny_spec("ray gone"), store, gone)  # queued while it answered; then it went away
    execute(study_id, store)
    runs = store.runs(study_id)
    failed = all(r["status"] == Status.FAILED and "127.0.0.1:9" in (r["error"] or "") for r in runs)
    report.check("(r4) a queued study whose cluster is gone: its runs fail with the address and the fix, and "
                 "Retry queues every one again", failed and retry_study(study_id, store) == len(runs) == 3,
                 str([(r["status"], r["error"]) for r in runs])[:500])


def run(workdir: Path) -> dict:
    import ray
    from ray.cluster_utils import Cluster

    report, details = Checks(), {"cluster": "2 nodes x 1 CPU on this machine (ray.cluster_utils.Cluster)"}
    home = Path(workdir) / "home"
    store, procs = Store(home / "mtl_lab.sqlite"), Processes(home)
    ray.shutdown()
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    try:
        node = cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        kept: dict = {}  # every run done so far, as it was stored: none may change or vanish later
        for case in (lambda: unreachable(store, report), lambda: owner_dies(store, cluster, procs, report),
                     lambda: cancelled(store, cluster, report), lambda: node_dies(store, cluster, node, report)):
            case()
            kept.update(_done_snapshot(store))
        lost = results_lost(store, kept)
    finally:
        procs.close()
        ray.shutdown()
        cluster.shutdown()
    twice = sorted({run_id for s in store.studies() for run_id in stored_twice(store, s["id"])})
    report.check("no run stored twice (curve rows, scores)", not twice, str(twice))
    report.check("store integrity", integrity(store) == "ok")
    details.update(results_lost=len(lost), runs_stored_twice=len(twice), studies=len(store.studies()))
    return report.section(NAME, details)

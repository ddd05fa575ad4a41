"""Concurrent enqueueing and draining with real processes; a section of the reliability self-test.

Two worker processes serve one store from the start. Three submitter processes (each what a browser session
or the CLI ``submit`` does: ``queue.submit_study``) enqueue their studies at the same instant while the workers
drain the queue. Midway one worker is killed with -9 while it trains: the other sees its dead heartbeat row
and puts the interrupted run back on the queue; a new worker joins, so two keep draining.

Measured from the store at the end: every submitted study stored exactly once and done, every run done with
its scores (runs lost), no run started twice except the one the kill interrupted (``runs.attempts``: runs
executed twice), both workers trained runs and at the same time (``runs.owner``, start and end times), the
queue empty, and ``PRAGMA integrity_check`` ok.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

from mtl_core.selftest.procs import (
    Checks,
    Processes,
    SelfTestTimeout,
    integrity,
    tiny_spec,
    wait_for,
)
from mtl_core.status import Status
from mtl_core.store import Store
from mtl_core.studies.processes import identity_alive, process_identity
from mtl_core.studies.queue import get_queue

NAME = "concurrency"
SUBMITTERS = 3
WORKERS = 2


def submit_many(store_path: str, prefix: str, count: int, start_at: float, out: str) -> None:
    """A submitter process: wait for the common start instant, submit ``count`` one-run studies, list their ids."""
    from mtl_core.studies.queue import submit_study

    store = Store(store_path)
    time.sleep(max(0.0, start_at - time.time()))
    ids = [submit_study(tiny_spec(f"{prefix}-{k}", plan="singles", tasks=["base"], n_examples=80), store)
           for k in range(count)]
    Path(out).write_text("\n".join(ids))


def most_at_once(runs: list[dict]) -> int:
    """The largest number of these finished runs that were training at the same instant (from start and end)."""
    edges = sorted([(r["started"], 1) for r in runs] + [(r["finished"], -1) for r in runs])  # an end sorts first
    busy = peak = 0
    for _, step in edges:
        busy += step
        peak = max(peak, busy)
    return peak


def run(workdir: Path, quick: bool = False) -> dict:
    workdir = Path(workdir)
    home = workdir / "mtl_home"
    store = Store(home / "mtl_lab.sqlite")
    procs = Processes(home)
    report = Checks()
    check = report.check
    per_process = 17 if quick else 34
    details: dict = {"studies_enqueued": 0, "processes": SUBMITTERS, "workers": WORKERS}

    try:
        workers = {process_identity(p.pid): p for p in (procs.worker(store) for _ in range(WORKERS))}
        wait_for(lambda: len(store.workers()) == WORKERS, 30, f"{WORKERS} workers' heartbeats")
        check(f"{WORKERS} workers serve the store at once", all(p.poll() is None for p in workers.values()))

        start_at = time.time() + 3.0  # every submitter imports, then all submit at the same instant
        outs = [home / f"submitted-{k}.txt" for k in range(SUBMITTERS)]
        submitters = [procs.start(["-c", "from mtl_core.selftest.concurrency import submit_many; "
                                         f"submit_many({str(store.path)!r}, 'p{k}', {per_process}, {start_at}, "
                                         f"{str(outs[k])!r})"], log_name=f"submitter-{k}.log")
                      for k in range(SUBMITTERS)]
        for k, proc in enumerate(submitters):
            check(f"submitter {k} succeeded", proc.wait(timeout=120) == 0, procs.log_tail(f"submitter-{k}.log"))
        submitted = [i for out in outs if out.exists() for i in out.read_text().split()]
        details["studies_enqueued"] = len(submitted)
        details["submit_seconds"] = round(time.time() - start_at, 2)

        def finished() -> int:
            return sum(s["status"] == Status.DONE for s in store.studies())

        def training() -> dict[int, str]:
            return {r["id"]: r["owner"] for r in store.running_runs()}

        wait_for(lambda: finished() >= len(submitted) // 3, 120, "a third of the studies to finish")
        try:  # kill -9 a worker while it trains, if one is caught in time; the other takes over its run
            victim = wait_for(lambda: next((o for o in training().values() if o in workers), None), 5,
                              "a run to be training", poll=0.01)
        except SelfTestTimeout:
            victim = next(iter(workers))
        caught = {run_id for run_id, owner in training().items() if owner == victim}
        procs.kill(workers[victim])
        # The survivor may put the run back on the queue before this looks (it sees a zombie as dead): the runs
        # caught training just before the kill count too, unless the victim finished them first.
        caught = {run_id for run_id in caught if (run := store.run(run_id))["owner"] != victim
                  or run["status"] != Status.DONE}
        interrupted = caught | {run_id for run_id, owner in training().items() if owner == victim}
        details["killed_mid_drain"] = {"studies_done": finished(), "runs_interrupted": len(interrupted)}
        wait_for(lambda: victim not in training().values(), 30,  # within a few heartbeats of the survivor
                 "the surviving worker to put the killed worker's run back on the queue")
        procs.worker(store)  # a new worker joins: two drain again
        wait_for(lambda: finished() == len(submitted), 180, "every study to finish", poll=0.2)

        studies = store.studies()
        check("every submitted study is stored once", sorted(s["id"] for s in studies) == sorted(submitted)
              and len(set(submitted)) == len(submitted), f"{len(studies)} stored, {len(submitted)} submitted")
        check("every study done", all(s["status"] == Status.DONE for s in studies))
        runs = [r for s in studies for r in store.runs(s["id"])]
        scored = {s["run_id"] for st in studies for s in store.scores(st["id"])}
        lost = [r["id"] for r in runs if r["status"] != Status.DONE or r["id"] not in scored]
        twice = [r["id"] for r in runs if r["attempts"] > 1 and r["id"] not in interrupted]
        done = [r for r in runs if r["status"] == Status.DONE]
        owners, at_once = {r["owner"] for r in done}, most_at_once(done)
        details.update({"runs": len(runs), "runs executed twice": len(twice), "runs lost": len(lost),
                        "results_lost": len(lost),
                        "runs_restarted_after_kill": sum(r["attempts"] > 1 for r in runs if r["id"] in interrupted),
                        "workers_that_trained": len(owners), "most_runs_training_at_once": at_once})
        check("no run lost (each done with its scores)", not lost, str(lost))
        check("no run executed twice", not twice and all(r["attempts"] >= 1 for r in runs), str(twice))
        check("the killed worker's run ran again, once",
              all(r["attempts"] == 2 for r in runs if r["id"] in interrupted))
        check("at least two workers trained runs, at the same time", len(owners) >= 2 and at_once >= 2,
              f"{len(owners)} worker(s), at most {at_once} at once")
        check("the queue is empty", not list(get_queue(store).pending()))
        check("no heartbeat row of a dead worker left", all(identity_alive(w["identity"]) for w in store.workers()))
        check("store intact", integrity(store) == "ok")
    except (SelfTestTimeout, Exception) as exc:  # noqa: BLE001 - the section reports, the runner goes on
        report.failures.append(f"{type(exc).__name__}: {exc}\n{procs.log_tail()}")
    finally:
        procs.close()
    details["processes_started"] = len(procs.started)
    return report.section(NAME, details)


if __name__ == "__main__":  # pragma: no cover - a manual run: python -m mtl_core.selftest.concurrency DIR
    print(run(Path(sys.argv[1]), quick=True))

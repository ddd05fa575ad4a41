"""Concurrent enqueueing and draining with real processes; a section of the reliability self-test.

Three submitter processes (each what a browser session or the CLI ``submit`` does: ``jobs.submit_study``)
enqueue their studies at the same instant into one store while a worker drains the queue. A second worker
started on the same store exits at once with status ``worker.LOCKED``: one worker serves a store, by
design (the lock in worker.py). Midway the serving worker is killed with -9 and a new one takes over.

Checked at the end: every submitted study is in the store exactly once and done, every run done with its
scores (none lost), no run started twice except the one the kill interrupted (``runs.attempts``), the
queue empty, and ``PRAGMA integrity_check`` ok.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

from ..jobs import get_queue
from ..store import Store
from ..worker import LOCKED
from .procs import Processes, SelfTestTimeout, integrity, tiny_spec, wait_for

NAME = "concurrency"
SUBMITTERS = 3


def submit_many(store_path: str, prefix: str, count: int, start_at: float, out: str) -> None:
    """A submitter process: wait for the common start instant, submit ``count`` one-run studies, list their ids."""
    from ..jobs import submit_study

    store = Store(store_path)
    time.sleep(max(0.0, start_at - time.time()))
    ids = [submit_study(tiny_spec(f"{prefix}-{k}", plan="singles", tasks=["base"], n_examples=80), store)
           for k in range(count)]
    Path(out).write_text("\n".join(ids))


def run(workdir: Path, quick: bool = False) -> dict:
    workdir = Path(workdir)
    home = workdir / "mtl_home"
    store = Store(home / "mtl_lab.sqlite")
    procs = Processes(home)
    failures: list[str] = []
    checks = 0
    per_process = 17 if quick else 34
    details: dict = {"studies_enqueued": 0, "processes": SUBMITTERS, "duplicates": None, "results_lost": None}

    def check(what: str, passed: bool, detail: str = "") -> None:
        nonlocal checks
        checks += 1
        if not passed:
            failures.append(what + (f": {detail}" if detail else ""))

    try:
        first = procs.worker(store)
        wait_for(lambda: store.workers(), 30, "the first worker's heartbeat")
        second = procs.worker(store)
        status = second.wait(timeout=30)
        details["second_worker"] = f"exited with status {status} (one worker per store: it holds a file lock)"
        check("a second worker on the same store exits, leaving the queue to the first", status == LOCKED,
              str(status))

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
            return sum(s["status"] == "done" for s in store.studies())

        def running() -> set[int]:
            with store.connect() as db:
                return {row[0] for row in db.execute("SELECT id FROM runs WHERE status='running'")}

        wait_for(lambda: finished() >= len(submitted) // 3, 120, "a third of the studies to finish")
        try:  # kill -9 mid-drain, while a run trains if one is caught in time: the next worker takes over
            wait_for(running, 5, "a run to be training", poll=0.01)
        except SelfTestTimeout:
            pass
        procs.kill(first)
        interrupted = running()
        details["killed_mid_drain"] = {"studies_done": finished(), "runs_interrupted": len(interrupted)}
        procs.worker(store)
        wait_for(lambda: finished() == len(submitted), 180, "every study to finish", poll=0.2)

        studies = store.studies()
        check("every submitted study is stored once", sorted(s["id"] for s in studies) == sorted(submitted)
              and len(set(submitted)) == len(submitted), f"{len(studies)} stored, {len(submitted)} submitted")
        check("every study done", all(s["status"] == "done" for s in studies))
        runs = [r for s in studies for r in store.runs(s["id"])]
        scored = {s["run_id"] for st in studies for s in store.scores(st["id"])}
        lost = [r["id"] for r in runs if r["status"] != "done" or r["id"] not in scored]
        duplicates = [r["id"] for r in runs if r["attempts"] > 1 and r["id"] not in interrupted]
        details.update(runs=len(runs), results_lost=len(lost), duplicates=len(duplicates),
                       runs_restarted_after_kill=sum(r["attempts"] > 1 for r in runs if r["id"] in interrupted))
        check("no run lost (each done with its scores)", not lost, str(lost))
        check("no run executed twice", not duplicates and all(r["attempts"] >= 1 for r in runs), str(duplicates))
        check("the queue is empty", not list(get_queue(store).pending()))
        check("store intact", integrity(store) == "ok")
    except (SelfTestTimeout, Exception) as exc:  # noqa: BLE001 - the section reports, the runner goes on
        failures.append(f"{type(exc).__name__}: {exc}\n{procs.log_tail()}")
    finally:
        procs.close()
    details["processes_started"] = len(procs.started)
    return {"name": NAME, "tried": checks, "ok": checks - len(failures), "failures": failures, "details": details}


if __name__ == "__main__":  # pragma: no cover - a manual run: python -m mtl_core.selftest.concurrency DIR
    print(run(Path(sys.argv[1]), quick=True))

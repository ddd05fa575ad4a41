"""Background training: a persistent study queue (huey on SQLite) served by a separate worker process.

The app and the CLI ``submit`` only write rows and a queue message, then return; the worker
(`python -m mtl_core worker`, see worker.py) prepares the data and trains. Everything a page shows
comes from the store: statuses, ``runs.progress_json`` and the live ``curves`` rows.

Statuses and the changes between them: ``mtl_core.status``. Pages and the CLI queue a study through
``submit.queue_study``, which also starts a worker unless told not to. Several workers may serve
one store; a worker killed mid-run loses nothing finished: a peer that sees its heartbeat row, or the next
worker at its start, queues the runs it left "running" again, to run from the start (see ``recover``);
done runs are never run twice.
"""
from __future__ import annotations

import os
import signal
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from huey import SqliteHuey

from mtl_core.paths import mtl_home
from mtl_core.status import ACTIVE, Status
from mtl_core.store import Store
from mtl_core.studies.backends import Executor, executor_from_env, study_executor
from mtl_core.studies.parallel import parallel_runs
from mtl_core.studies.processes import (
    ROOT,
    identity_alive,
    process_identity,
    worker_command,
    worker_env,
)

STALE_SECONDS = 30.0  # a worker whose last heartbeat is older than this is taken for dead
TASK = "run_study"
_queues: dict[Path, tuple[SqliteHuey, object]] = {}
_spawned: list[subprocess.Popen] = []  # workers this process started (polled, so none stays a zombie)
RETRIED = (Status.FAILED, Status.CANCELLED)  # the runs a retry queues again


def _run_study_task(study_id: str, store_path: str) -> None:
    from mtl_core.studies.dispatch import execute

    store = Store(store_path)
    try:
        execute(study_id, store)  # here, or as Ray tasks owned by this worker (the study's executor says)
    finally:  # a live owner means "executing it now" (recover relies on it)
        store.release_study(study_id, process_identity())


def get_queue(store: Store | None = None) -> SqliteHuey:
    """The huey queue of ``store``: the file queue.sqlite beside it (so each MTL Lab home has its own)."""
    return _queue(store or Store())[0]


def _queue(store: Store) -> tuple[SqliteHuey, object]:
    path = store.path.with_name("queue.sqlite")
    if path not in _queues:
        huey = SqliteHuey("mtl_lab", filename=str(path), results=False)
        _queues[path] = (huey, huey.task(name=TASK)(_run_study_task))
    return _queues[path]


def _enqueue(store: Store, study_id: str, copies: int = 1) -> None:
    for _ in range(copies):
        _queue(store)[1](study_id, str(store.path))


def fan_out(store: Store, executor: Executor | None = None) -> int:
    """Queue messages per study, so that its runs spread over every worker (``parallel``): as many as this
    machine trains at once, or as many workers as are alive if more. A worker that takes a message of a study
    whose runs are all claimed or done returns at once. A Ray study gets one: one worker owns it, Ray spreads
    its runs."""
    if executor is not None and executor.ray:
        return 1
    return max(parallel_runs(), len(live_workers(store)))


def submit_study(spec, store: Store | None = None, executor: Executor | None = None) -> str:
    """Create the study and its planned runs (all "queued"), put it on the queue; returns its id at once.
    ``executor``: where its runs train (default: ``backends.executor_from_env``, the local workers unless
    MTL_LAB_BACKEND=ray), stored with the study.

    Nothing is trained or tokenized here; when ``spec.tasks`` is None and the data is a file, the runs
    are planned by the worker once it has loaded the data."""
    from mtl_core.studies.execute import create_study

    store = store or Store()
    executor = executor or executor_from_env()
    study_id = create_study(spec, store, backend="queue", executor=executor.to_dict())
    _enqueue(store, study_id, fan_out(store, executor))
    return study_id


def cancel_study(study_id: str, store: Store | None = None) -> None:
    """Cancel queued runs now and ask the running run to stop (the trainer checks about once a second)."""
    store = store or Store()
    store.update_study(study_id, cancel_requested=1)
    store.close_queued_runs(study_id, Status.CANCELLED)
    study = store.study(study_id)
    if study and (study["status"] == Status.QUEUED
                  or (study["status"] == Status.RUNNING and not identity_alive(study["owner"]))):
        for run in store.runs(study_id):  # nobody is executing it: nothing else will mark these
            if run["status"] == Status.RUNNING and not identity_alive(run["owner"]):
                store.update_run(run["id"], status=Status.CANCELLED, finished=time.time())
        store.update_study(study_id, status=Status.CANCELLED)


def retry_study(study_id: str, store: Store | None = None) -> int:
    """Queue the study's failed and cancelled runs again (their partial results forgotten); returns how many."""
    store = store or Store()
    again = [r for r in store.runs(study_id) if r["status"] in RETRIED]
    study = store.study(study_id)
    if not again and (study is None or study["status"] == Status.DONE):
        return 0
    for run in again:
        store.reset_run(run["id"], when=RETRIED)
    store.update_study(study_id, status=Status.QUEUED, cancel_requested=0, error=None, backend="queue")
    _enqueue(store, study_id, min(len(again), fan_out(store, study_executor(study) if study else None)) or 1)
    return len(again)


def queue_more_seeds(study_id: str, n: int, store: Store | None = None) -> list[int]:
    """Add ``n`` seeds to the finished study (``more_seeds.add_seeds``: its runs for each new seed, the done ones
    kept) and put it on the queue; returns the new seeds."""
    from mtl_core.studies.more_seeds import add_seeds

    store = store or Store()
    seeds = add_seeds(study_id, n, store, backend="queue")
    study = store.study(study_id)
    _enqueue(store, study_id, fan_out(store, study_executor(study) if study else None))
    return seeds


def recover(store: Store) -> list[str]:
    """Take over what dead processes left behind; returns the studies put back on the queue. Every worker
    runs it at its start, when it sees a dead peer's heartbeat row, and as it stops.

    Queued studies: each run left "running" by a dead process is queued again (only while that dead
    process still owns it: a run a live worker claimed meanwhile is never touched), and the study is
    enqueued again when a run was put back or no live process executes it, unless its message is still
    waiting. A duplicate message is harmless: its worker trains what is left, or finds nothing to do.
    Studies run in process by the CLI whose process ended: their unfinished runs are marked failed."""
    dead_workers = [w["identity"] for w in store.workers() if not identity_alive(w["identity"])]
    waiting = {t.args[0] for t in get_queue(store).pending() if t.args}
    requeued = []
    for study in store.unfinished_studies():
        if study["backend"] != "queue":
            if study["status"] == Status.RUNNING and not identity_alive(study["owner"]):
                _fail_abandoned(store, study["id"])
            continue
        back = [r["id"] for r in store.runs(study["id"]) if r["status"] == Status.RUNNING
                and not identity_alive(r["owner"])
                and store.reset_run(r["id"], when=(Status.RUNNING,), owner=r["owner"])]
        if study["id"] not in waiting and (back or not identity_alive(study["owner"])):
            _enqueue(store, study["id"])
            requeued.append(study["id"])
    for identity in dead_workers:  # last: should anything above fail, a peer sees the dead row and tries again
        store.remove_worker(identity)
    return requeued


def _fail_abandoned(store: Store, study_id: str) -> None:
    error = "The process running it ended without a result."
    for run in store.runs(study_id):
        if run["status"] in ACTIVE:
            store.update_run(run["id"], status=Status.FAILED, error=error)
    store.update_study(study_id, status=Status.FAILED, error=error)


def live_workers(store: Store | None = None) -> list[dict]:
    """The heartbeat rows of the live workers of ``store``: each process exists, is the same one, and beat lately."""
    store = store or Store()
    now = time.time()
    return [w for w in store.workers() if now - w["beat"] < STALE_SECONDS and identity_alive(w["identity"])]


@contextmanager
def _starting(store: Store) -> Iterator[None]:
    """Held while a process checks for a live worker and starts one, so that two pages (or a page and the
    CLI) calling ``ensure_worker`` at once start one worker, not two. Released by the OS even on kill -9."""
    try:
        import fcntl
    except ImportError:  # Windows: no lock; a second worker would be harmless, only wasteful
        yield
        return
    with open(store.path.with_name("worker-start.lock"), "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        yield


def ensure_worker(store: Store | None = None, wait: float = 5.0) -> bool:
    """Start the detached worker(s) unless one is alive: as many processes as this machine trains runs at once
    (``parallel.parallel_runs``); True when one runs (or is starting) after ``wait`` s.

    The workers outlive this process (own session), keep this environment (MTL_LAB_HOME,
    MTL_LAB_DATA_DIR, thread settings) and log to MTL_LAB_HOME/worker.log."""
    store = store or Store()
    for proc in _spawned:
        proc.poll()  # reap workers that ended
    with _starting(store):
        if live_workers(store):
            return True
        with open(mtl_home() / "worker.log", "ab") as log_file:
            proc = subprocess.Popen(worker_command(store.path, parallel_runs()), cwd=ROOT, env=worker_env(),
                                    stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        _spawned.append(proc)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if live_workers(store):
                return True
            if proc.poll() is not None:  # it failed to start
                return False
            time.sleep(0.1)
        return bool(live_workers(store)) or proc.poll() is None


def stop_worker(store: Store | None = None, timeout: float = 10.0) -> bool:
    """Stop every live worker of ``store`` (SIGTERM, then SIGKILL after ``timeout``); False if none ran.

    A running run stops within about a second and goes back to "queued"; the next worker runs it again."""
    workers = [w for w in (store or Store()).workers() if identity_alive(w["identity"])]
    for worker in workers:
        _signal(worker["pid"], signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while any(identity_alive(w["identity"]) for w in workers) and time.monotonic() < deadline:
        for proc in _spawned:
            proc.poll()
        time.sleep(0.1)
    for worker in workers:
        if identity_alive(worker["identity"]):
            _signal(worker["pid"], signal.SIGKILL)
    for proc in _spawned:
        proc.poll()
    return bool(workers)


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:  # it ended meanwhile
        pass

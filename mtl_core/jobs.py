"""Background training: a persistent study queue (huey on SQLite) served by a separate worker process.

The app and the CLI ``submit`` only write rows and a queue message, then return; the worker
(`python -m mtl_core worker`, see worker.py) prepares the data and trains. Everything a page shows
comes from the store: statuses, ``runs.progress_json`` and the live ``curves`` rows.

Statuses: run queued -> running -> done | failed | cancelled; study the same. A worker killed mid-run
loses nothing finished: at the next worker's start, runs it left "running" are queued again and run
from the start (see ``recover``); done runs are never run twice.
"""
from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import time
from functools import lru_cache
from pathlib import Path

from huey import SqliteHuey

from .paths import mtl_home
from .store import Store
from .worker import LOCKED, identity_alive

ROOT = Path(__file__).resolve().parent.parent
STALE_SECONDS = 30.0  # a worker whose last heartbeat is older than this is taken for dead
TASK = "run_study"
_queues: dict[Path, tuple[SqliteHuey, object]] = {}
_spawned: list[subprocess.Popen] = []  # workers this process started (polled, so none stays a zombie)


def _run_study_task(study_id: str, store_path: str) -> None:
    from .study import execute_study

    execute_study(study_id, Store(store_path))


def get_queue(store: Store | None = None) -> SqliteHuey:
    """The huey queue of ``store``: the file queue.sqlite beside it (so each MTL Lab home has its own)."""
    return _queue(store or Store())[0]


def _queue(store: Store) -> tuple[SqliteHuey, object]:
    path = store.path.with_name("queue.sqlite")
    if path not in _queues:
        huey = SqliteHuey("mtl_lab", filename=str(path), results=False)
        _queues[path] = (huey, huey.task(name=TASK)(_run_study_task))
    return _queues[path]


def _enqueue(store: Store, study_id: str) -> None:
    _queue(store)[1](study_id, str(store.path))


def submit_study(spec, store: Store | None = None) -> str:
    """Create the study and its planned runs (all "queued"), put it on the queue; returns its id at once.

    Nothing is trained or tokenized here; when ``spec.tasks`` is None and the data is a file, the runs
    are planned by the worker once it has loaded the data."""
    from .study import create_study

    store = store or Store()
    study_id = create_study(spec, store, backend="queue")
    _enqueue(store, study_id)
    return study_id


def cancel_study(study_id: str, store: Store | None = None) -> None:
    """Cancel queued runs now and ask the running run to stop (the trainer checks about once a second)."""
    store = store or Store()
    store.update_study(study_id, cancel_requested=1)
    for run in store.runs(study_id):
        if run["status"] == "queued":
            store.update_run(run["id"], status="cancelled")
    study = store.study(study_id)
    if study and (study["status"] == "queued" or (study["status"] == "running" and not identity_alive(study["owner"]))):
        for run in store.runs(study_id):  # nobody is executing it: nothing else will mark these
            if run["status"] == "running" and not identity_alive(run["owner"]):
                store.update_run(run["id"], status="cancelled", finished=time.time())
        store.update_study(study_id, status="cancelled")


def retry_study(study_id: str, store: Store | None = None) -> int:
    """Queue the study's failed and cancelled runs again (their partial results forgotten); returns how many."""
    store = store or Store()
    again = [r for r in store.runs(study_id) if r["status"] in ("failed", "cancelled")]
    study = store.study(study_id)
    if not again and (study is None or study["status"] == "done"):
        return 0
    for run in again:
        store.reset_run(run["id"])
    store.update_study(study_id, status="queued", cancel_requested=0, error=None, backend="queue")
    _enqueue(store, study_id)
    return len(again)


def recover(store: Store) -> list[str]:
    """At a worker's start: what a dead process left behind. Returns the studies put back on the queue.

    Queued studies: runs left "running" by a dead worker are queued again, and the study is enqueued
    again unless its message is still waiting (a dead worker had already taken it). Studies run in
    process by the CLI whose process ended: their unfinished runs are marked failed."""
    for w in store.workers():
        if not identity_alive(w["identity"]):
            store.remove_worker(w["identity"])
    waiting = {t.args[0] for t in get_queue(store).pending() if t.args}
    requeued = []
    for study in store.studies():
        if study["status"] not in ("queued", "running") or identity_alive(study.get("owner")):
            continue
        lost = [r for r in store.runs(study["id"]) if r["status"] == "running" and not identity_alive(r["owner"])]
        if study.get("backend") == "queue":
            for run in lost:
                store.reset_run(run["id"])
            if study["id"] not in waiting:
                _enqueue(store, study["id"])
                requeued.append(study["id"])
        elif study["status"] == "running":
            error = "The process running it ended without a result."
            for run in store.runs(study["id"]):
                if run["status"] in ("queued", "running"):
                    store.update_run(run["id"], status="failed", error=error)
            store.update_study(study["id"], status="failed", error=error)
    return requeued


def live_worker(store: Store | None = None) -> dict | None:
    """The heartbeat row of a live worker of ``store``: its process exists, is the same one, and beat lately."""
    store = store or Store()
    now = time.time()
    for w in store.workers():
        if now - w["beat"] < STALE_SECONDS and identity_alive(w["identity"]):
            return w
    return None


def worker_alive(store: Store | None = None) -> bool:
    return live_worker(store) is not None


def ensure_worker(store: Store | None = None, wait: float = 5.0) -> bool:
    """Start a detached worker unless one is alive; True when one runs (or is starting) after ``wait`` s.

    The worker outlives this process (own session), keeps this environment (MTL_LAB_HOME,
    MTL_LAB_DATA_DIR, thread settings) and logs to MTL_LAB_HOME/worker.log."""
    store = store or Store()
    for proc in _spawned:
        proc.poll()  # reap workers that ended
    if worker_alive(store):
        return True
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    with open(mtl_home() / "worker.log", "ab") as log_file:
        proc = subprocess.Popen([sys.executable, "-m", "mtl_core", "worker", "--store", str(store.path)],
                                cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log_file,
                                stderr=subprocess.STDOUT, start_new_session=True)
    _spawned.append(proc)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if worker_alive(store):
            return True
        if proc.poll() not in (None, LOCKED):  # it failed; LOCKED: another worker is starting, wait for it
            return False
        time.sleep(0.1)
    return worker_alive(store) or proc.poll() is None


def stop_worker(store: Store | None = None, timeout: float = 10.0) -> bool:
    """Stop the live worker of ``store`` (SIGTERM, then SIGKILL after ``timeout``); False if none ran.

    Its running run stops within about a second and goes back to "queued"; the next worker runs it again."""
    worker = live_worker(store)
    if worker is None:
        return False
    os.kill(worker["pid"], signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while identity_alive(worker["identity"]) and time.monotonic() < deadline:
        for proc in _spawned:
            proc.poll()
        time.sleep(0.1)
    if identity_alive(worker["identity"]):
        os.kill(worker["pid"], signal.SIGKILL)
    for proc in _spawned:
        proc.poll()
    return True


# Time estimates -------------------------------------------------------------------------------
DEFAULT_EXAMPLES_PER_SECOND = 100.0  # before any run was measured here: a slow CPU, BiLSTM of hidden 128
PREPARE_SECONDS = 5.0                # loading, tokenizing and the classical baselines, once per study
RUN_SECONDS = 1.0                    # per run: model build, test scoring, checkpoint
# Config keys that do not change the cost of a training step; runs differing only in these are "similar".
NO_SPEED_EFFECT = {"lr", "weight_decay", "epochs", "patience", "selection", "dropout", "word_dropout", "clip",
                   "class_weights", "min_freq", "language", "use_vectors", "seed"}


def measured_speed(config: dict, store: Store | None = None) -> float | None:
    """Median wall-clock training speed (examples per second, evaluation included) of finished runs on
    this machine whose config matches ``config`` on every key that changes the cost of a step."""
    store = store or Store()
    key = {k: v for k, v in config.items() if k not in NO_SPEED_EFFECT}
    speeds = []
    for s in store.speed_samples():
        cfg = s.get("config") or {}
        if all(cfg.get(k) == v for k, v in key.items()) and set(cfg) - NO_SPEED_EFFECT <= set(key):
            wall, train = s.get("wall"), s.get("train_seconds")
            share = train / wall if wall and train and wall > train else 1.0  # time spent training, not scoring
            speeds.append(s["examples_per_second"] * share)
    return statistics.median(speeds) if speeds else None


def estimate_seconds(spec, store: Store | None = None) -> float:
    """Upper-bound seconds to train ``spec`` here.

    Sum over planned runs of (training examples of the run's tasks x max epochs / speed) + RUN_SECONDS,
    plus PREPARE_SECONDS. Speed: ``measured_speed`` of similar finished runs, else
    DEFAULT_EXAMPLES_PER_SECOND. Early stopping makes real runs shorter. Loads the data once per source
    (cached) to count labelled rows; raises the loader's MTLLabError if it cannot."""
    from .config import RunConfig
    from .study import planned_runs

    config = RunConfig.from_dict(spec.config).to_dict()
    n_rows, labelled, n_test = _labelled_rows(json.dumps(spec.source, sort_keys=True), spec.data_dir)
    tasks = spec.tasks or list(labelled)
    test_share = spec.split.get("test_size", 0.2) if n_test == 0 else n_test / max(n_rows, 1)
    train_share = max(0.0, 1 - test_share - spec.split.get("val_size", 0.1))
    speed = measured_speed(config, store) or DEFAULT_EXAMPLES_PER_SECOND
    total = PREPARE_SECONDS
    for _, run_tasks, _ in planned_runs(spec, tasks):
        rows = set().union(*(labelled.get(t, frozenset()) for t in run_tasks))
        total += len(rows) * train_share * config["epochs"] / speed + RUN_SECONDS
    return total


@lru_cache(maxsize=8)
def _labelled_rows(source_json: str, data_dir: str | None) -> tuple[int, dict[str, frozenset], int]:
    from .sources import load_source

    loaded = load_source(json.loads(source_json), data_dir)
    corpus = loaded.corpus
    labelled = {t: frozenset(i for i, a in enumerate(corpus.annotations[t]) if a is not None) for t in corpus.tasks}
    return len(corpus), labelled, len(loaded.test_rows or [])

"""The one way pages and the CLI queue a study, or a study's failed runs again: onto the queue, then a worker is
started if none runs, unless the caller says not to (the CLI without ``--start-worker``) or
``MTL_LAB_AUTOSTART_WORKER=0`` (set it when workers are started by hand, e.g. under a service manager)."""
from __future__ import annotations

import os

from mtl_core.store import Store
from mtl_core.studies.backends import Executor, check_reachable, executor_from_env
from mtl_core.studies.queue import ensure_worker, queue_more_seeds, retry_study, submit_study
from mtl_core.studies.spec import StudySpec

AUTOSTART_ENV = "MTL_LAB_AUTOSTART_WORKER"


def autostart_worker() -> bool:
    """Whether the app may start a background worker itself: unless ``MTL_LAB_AUTOSTART_WORKER=0``."""
    return os.environ.get(AUTOSTART_ENV, "1") != "0"


def serve(store: Store, start_worker: bool | None = None) -> bool:
    """Make sure a worker serves ``store``'s queue, if allowed: ``start_worker`` says, else ``autostart_worker()``.
    True when a worker was started or already ran; False when none was to be started, or it failed to start."""
    if not (autostart_worker() if start_worker is None else start_worker):
        return False
    return ensure_worker(store)


def queue_study(spec: StudySpec, store: Store | None = None, start_worker: bool | None = None,
                executor: Executor | None = None) -> str:
    """Queue ``spec`` for the background workers (``queue.submit_study``), then ``serve``; returns the study id.
    ``executor``: where its runs train (default: the environment's, ``backends.executor_from_env``); a Ray
    cluster that does not answer at its address is refused here, before anything is queued."""
    store = store or Store()
    executor = executor or executor_from_env()
    check_reachable(executor)
    study_id = submit_study(spec, store, executor)
    serve(store, start_worker)
    return study_id


def requeue_study(study_id: str, store: Store | None = None, start_worker: bool | None = None) -> int:
    """Queue the study's failed and cancelled runs again (``queue.retry_study``), then ``serve``; returns how many
    runs went back on the queue."""
    store = store or Store()
    again = retry_study(study_id, store)
    serve(store, start_worker)
    return again


def more_seeds(study_id: str, n: int, store: Store | None = None, start_worker: bool | None = None) -> list[int]:
    """Add ``n`` seeds to a finished study and queue them (``queue.queue_more_seeds``), then ``serve``; returns
    the new seeds."""
    store = store or Store()
    seeds = queue_more_seeds(study_id, n, store)
    serve(store, start_worker)
    return seeds

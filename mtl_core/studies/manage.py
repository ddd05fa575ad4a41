"""Deleting a study the way a user means it: its rows in the store, its saved models, and the queue messages that
would otherwise still reach a worker. The store refuses a study that is queued or running (``status.can_delete``)."""
from __future__ import annotations

import shutil
from pathlib import Path

from mtl_core.paths import mtl_home
from mtl_core.store import Store
from mtl_core.studies.queue import get_queue


def delete_study(study_id: str, store: Store | None = None) -> int:
    """Delete the settled study ``study_id`` with its runs, scores, curves, baselines, checkpoint files and
    waiting queue messages; returns how many checkpoint files were removed. A queued or running study, or an
    unknown id: ConfigError, nothing deleted."""
    store = store or Store()
    checkpoints = store.delete_study_rows(study_id)  # refuses first, so nothing below runs for an active study
    queue = get_queue(store)
    for task in queue.pending():
        if task.args and task.args[0] == study_id:
            queue.revoke_by_id(task.id, revoke_once=True)  # a worker taking it skips it
    removed = 0
    for path in map(Path, checkpoints):
        if path.is_file():
            path.unlink()
            removed += 1
    shutil.rmtree(mtl_home() / "checkpoints" / study_id, ignore_errors=True)  # the folder execute_run saved into
    return removed

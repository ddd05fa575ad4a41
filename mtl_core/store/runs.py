"""Runs in the store: planned once, claimed by one process, queued again, closed. Each change of a run's status is
one statement that checks the status it changes from, so two processes never both win a run."""
from __future__ import annotations

import json
import sqlite3
import time

from mtl_core.status import Status
from mtl_core.store.database import Database, decode, status_condition

_RESULTS = ("device=NULL, best_epoch=NULL, epochs_run=NULL, train_seconds=NULL, examples_per_second=NULL, "
            "progress_json=NULL, error=NULL, checkpoint=NULL, started=NULL, finished=NULL, owner=NULL")


class Runs(Database):
    def add_runs_once(self, study_id: str, runs: list[tuple[str, list[str], int]], config: dict) -> bool:
        """Add the study's planned (setting, tasks, seed) runs unless it has runs already (another worker
        planned them first); True if added. One write-locked transaction."""
        with self.connect(write_lock=True) as db:
            if db.execute("SELECT 1 FROM runs WHERE study_id=? LIMIT 1", (study_id,)).fetchone():
                return False
            insert_runs(db, study_id, runs, config)
            return True

    def update_run(self, run_id: int, **fields) -> bool:
        """Set the run's ``fields``; a status only as TRANSITIONS allows (else nothing is written: False)."""
        return self._update("runs", run_id, fields)

    def run(self, run_id: int) -> dict | None:
        with self.connect() as db:
            row = db.execute("SELECT * FROM runs WHERE id=?", (run_id,)).fetchone()
        return decode(row) if row else None

    def runs(self, study_id: str) -> list[dict]:
        with self.connect() as db:
            rows = db.execute("SELECT * FROM runs WHERE study_id=? ORDER BY id", (study_id,)).fetchall()
        return [decode(r) for r in rows]

    def running_runs(self) -> list[dict]:
        """id, study id, owner and start time of every run training now, in any study."""
        with self.connect() as db:
            rows = db.execute("SELECT id, study_id, owner, started FROM runs WHERE status=? ORDER BY id",
                              (Status.RUNNING,)).fetchall()
        return [dict(r) for r in rows]

    def next_queued_run(self, study_id: str) -> dict | None:
        with self.connect() as db:
            row = db.execute("SELECT * FROM runs WHERE study_id=? AND status=? ORDER BY id LIMIT 1",
                             (study_id, Status.QUEUED)).fetchone()
        return decode(row) if row else None

    def claim_run(self, run_id: int, owner: str) -> bool:
        """Mark a queued run "running" for ``owner`` (counting the attempt); False if it was not queued,
        e.g. another process took it first. One statement, so two processes can never both claim it."""
        condition, allowed = status_condition(Status.RUNNING, only_from=[Status.QUEUED], run=True)
        with self.connect() as db:
            cur = db.execute(f"UPDATE runs SET status=?, started=?, owner=?, attempts=attempts+1 "
                             f"WHERE id=? AND {condition}", (Status.RUNNING, time.time(), owner, run_id, *allowed))
            return cur.rowcount == 1

    def clear_curves(self, run_id: int) -> None:
        """Forget a run's curve rows (it trains again from the start, e.g. with a smaller batch)."""
        with self.connect() as db:
            db.execute("DELETE FROM curves WHERE run_id=?", (run_id,))

    def reset_run(self, run_id: int, when: tuple[str, ...] | None = None, owner: str | None = None) -> bool:
        """Queue the run again, its partial or earlier results (curves, scores, progress, error) forgotten.

        Only if its status is one of ``when`` (default: any that may become queued: running, failed, cancelled)
        and, given ``owner``, its owner is that process (both checked in the same statement, so a run another
        worker claimed meanwhile is left alone); True if it was reset."""
        condition, allowed = status_condition(Status.QUEUED, only_from=when, run=True)
        where, args = f"id=? AND {condition}", [run_id, *allowed]
        if owner is not None:
            where += " AND owner=?"
            args.append(owner)
        with self.connect() as db:
            cur = db.execute(f"UPDATE runs SET status=?, {_RESULTS} WHERE {where}", (Status.QUEUED, *args))
            if cur.rowcount != 1:
                return False
            db.execute("DELETE FROM curves WHERE run_id=?", (run_id,))
            db.execute("DELETE FROM scores WHERE run_id=?", (run_id,))
            return True

    def close_queued_runs(self, study_id: str, status: str, error: str | None = None) -> int:
        """Set every still-queued run of the study to ``status`` (cancelled, failed) in one statement, so a run
        a worker claims at that moment is either claimed or closed, never both; returns how many."""
        with self.connect() as db:
            return close_queued(db, study_id, status, error)


def insert_runs(db: sqlite3.Connection, study_id: str, runs: list[tuple[str, list[str], int]],
                config: dict | None) -> None:
    """The study's planned (setting, tasks, seed) runs, all queued."""
    db.executemany("INSERT INTO runs (study_id, setting, tasks_json, seed, status, config_json) VALUES (?,?,?,?,?,?)",
                   [(study_id, setting, json.dumps(tasks), seed, Status.QUEUED, json.dumps(config))
                    for setting, tasks, seed in runs])


def close_queued(db: sqlite3.Connection, study_id: str, status: str, error: str | None = None) -> int:
    """Close the study's queued runs as ``status``: failed or cancelled (never done: a run is claimed first)."""
    if status not in (Status.FAILED, Status.CANCELLED):
        raise ValueError(f"Queued runs are closed as failed or cancelled, not {status}.")
    return db.execute("UPDATE runs SET status=?, error=?, finished=? WHERE study_id=? AND status=?",
                      (Status(status), error, time.time(), study_id, Status.QUEUED)).rowcount

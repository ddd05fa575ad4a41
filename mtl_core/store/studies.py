"""Studies in the store: created with their planned runs, started by one process, cancelled, settled once."""
from __future__ import annotations

import json
import time
import uuid
from typing import Callable

from mtl_core.status import ACTIVE, SETTLED, Status, can_change
from mtl_core.store.database import Database, decode, status_condition
from mtl_core.store.runs import close_queued, insert_runs


class Studies(Database):
    def create_study(self, name: str, spec: dict, runs: list[tuple[str, list[str], int]] = (),
                     config: dict | None = None, backend: str = "inline", executor: dict | None = None) -> str:
        """A new queued study and, in the same transaction, its planned (setting, tasks, seed) runs. ``executor``:
        where its runs train (None: local workers; see ``studies.backends.Executor``), stored with it."""
        study_id = time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
        with self.connect() as db:
            db.execute("INSERT INTO studies (id, name, created, status, spec_json, backend, executor_json) "
                       "VALUES (?,?,?,?,?,?,?)", (study_id, name, time.time(), Status.QUEUED, json.dumps(spec),
                                                  backend, json.dumps(executor) if executor else None))
            insert_runs(db, study_id, runs, config)
        return study_id

    def cancel_requested(self, study_id: str) -> bool:
        with self.connect() as db:
            row = db.execute("SELECT cancel_requested FROM studies WHERE id=?", (study_id,)).fetchone()
        return bool(row and row[0])

    def update_study(self, study_id: str, **fields) -> bool:
        """Set the study's ``fields``; a status only as TRANSITIONS allows (else nothing is written: False)."""
        return self._update("studies", study_id, fields)

    def study(self, study_id: str) -> dict | None:
        with self.connect() as db:
            row = db.execute("SELECT * FROM studies WHERE id=?", (study_id,)).fetchone()
        return decode(row) if row else None

    def studies(self) -> list[dict]:
        with self.connect() as db:
            rows = db.execute("SELECT * FROM studies ORDER BY created DESC").fetchall()
        return [decode(r) for r in rows]

    def unfinished_studies(self) -> list[dict]:
        """id, status, backend and owner of every queued or running study (what recovery looks at)."""
        with self.connect() as db:
            rows = db.execute(f"SELECT id, status, backend, owner FROM studies WHERE status IN "
                              f"({','.join('?' * len(ACTIVE))}) ORDER BY created", ACTIVE).fetchall()
        return [dict(r) for r in rows]

    def start_study(self, study_id: str, owner: str) -> bool:
        """Mark a queued or running study "running" for ``owner``; False if it already ended (cancelled, done,
        failed). One statement, so a study that ends meanwhile is never set running again."""
        condition, allowed = status_condition(Status.RUNNING, stay=True)
        with self.connect() as db:
            cur = db.execute(f"UPDATE studies SET status=?, owner=?, error=NULL WHERE id=? AND {condition}",
                             (Status.RUNNING, owner, study_id, *allowed))
            return cur.rowcount == 1

    def release_study(self, study_id: str, owner: str) -> None:
        """``owner`` no longer executes the study: clear its owner, unless another process took it since."""
        with self.connect() as db:
            db.execute("UPDATE studies SET owner=NULL WHERE id=? AND owner=?", (study_id, owner))

    def settle_study(self, study_id: str, verdict: Callable[[list[dict], bool], tuple[str, str | None]],
                     blocking: tuple[str, ...] = ACTIVE) -> str | None:
        """Give a queued or running study its final status once none of its runs is in a ``blocking`` status.

        With a cancel asked, its queued runs are cancelled first. ``verdict(runs, cancel_requested)`` gives
        (status, error). One write-locked transaction: of several workers ending runs of one study at once,
        exactly one settles it, and never while a run still trains. Returns the status set, or None."""
        with self.connect(write_lock=True) as db:
            study = db.execute("SELECT status, cancel_requested FROM studies WHERE id=?", (study_id,)).fetchone()
            if study is None or study["status"] not in ACTIVE:
                return None
            if study["cancel_requested"]:
                close_queued(db, study_id, Status.CANCELLED)
            runs = [decode(r) for r in db.execute("SELECT * FROM runs WHERE study_id=? ORDER BY id", (study_id,))]
            if any(r["status"] in blocking for r in runs):
                return None
            status, error = verdict(runs, bool(study["cancel_requested"]))
            if not can_change(study["status"], status):
                raise ValueError(f"A {study['status']} study cannot become {status} (status.TRANSITIONS).")
            db.execute("UPDATE studies SET status=?, error=? WHERE id=?", (Status(status), error, study_id))
            return Status(status)

    def add_seed_runs(self, study_id: str, spec: dict, runs: list[tuple[str, list[str], int]], config: dict,
                      backend: str) -> bool:
        """Queue a settled study again with ``runs`` added (its new seeds' runs) and ``spec`` (its new seed count)
        stored, its done runs kept; ``backend``: who executes it now ("queue": the workers). One write-locked
        transaction that first checks the study is settled: False (nothing written) for an unknown study or one
        that is queued or running."""
        with self.connect(write_lock=True) as db:
            row = db.execute("SELECT status FROM studies WHERE id=?", (study_id,)).fetchone()
            if row is None or row["status"] not in SETTLED:
                return False
            db.execute("UPDATE studies SET status=?, spec_json=?, backend=?, cancel_requested=0, error=NULL "
                       "WHERE id=?", (Status.QUEUED, json.dumps(spec), backend, study_id))
            insert_runs(db, study_id, runs, config)
            return True

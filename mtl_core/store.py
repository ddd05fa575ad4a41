"""SQLite results store: studies, runs, scores, curves, baselines. WAL mode; every write one transaction.

One connection per call, so Streamlit threads, the CLI and worker processes can share the file. Whatever
several worker processes may race for (claiming a run, putting one back, settling a study) is one statement
or one write-locked transaction, so two processes never both win.
"""
from __future__ import annotations

import json
import sqlite3
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from mtl_core.paths import store_path

SCHEMA = """
CREATE TABLE IF NOT EXISTS studies (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, created REAL NOT NULL, status TEXT NOT NULL,
    spec_json TEXT NOT NULL, split_json TEXT, vocab_json TEXT, tasks_json TEXT, report_json TEXT, error TEXT);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT, study_id TEXT NOT NULL REFERENCES studies(id),
    setting TEXT NOT NULL, tasks_json TEXT NOT NULL, seed INTEGER NOT NULL, status TEXT NOT NULL,
    config_json TEXT, device TEXT, best_epoch INTEGER, epochs_run INTEGER, train_seconds REAL,
    examples_per_second REAL, progress_json TEXT, error TEXT, checkpoint TEXT,
    started REAL, finished REAL);
CREATE TABLE IF NOT EXISTS scores (
    run_id INTEGER NOT NULL REFERENCES runs(id), task TEXT NOT NULL, split TEXT NOT NULL,
    metric TEXT NOT NULL, value REAL, PRIMARY KEY (run_id, task, split, metric));
CREATE TABLE IF NOT EXISTS curves (
    run_id INTEGER NOT NULL REFERENCES runs(id), epoch INTEGER NOT NULL, task TEXT NOT NULL,
    name TEXT NOT NULL, value REAL);
CREATE TABLE IF NOT EXISTS baselines (
    study_id TEXT NOT NULL REFERENCES studies(id), task TEXT NOT NULL, method TEXT NOT NULL,
    metric TEXT NOT NULL, value REAL, n INTEGER, PRIMARY KEY (study_id, task, method, metric));
CREATE TABLE IF NOT EXISTS workers (
    identity TEXT PRIMARY KEY, pid INTEGER NOT NULL, host TEXT, started REAL NOT NULL, beat REAL NOT NULL);
CREATE INDEX IF NOT EXISTS runs_by_study ON runs(study_id);
CREATE INDEX IF NOT EXISTS curves_by_run ON curves(run_id);
"""
# Columns added after the first release: (table, column, declaration); added to older stores on open.
MIGRATIONS = [
    ("studies", "backend", "TEXT"),                         # 'queue' (background worker) or 'inline' (CLI)
    ("studies", "owner", "TEXT"),                           # process executing it: 'pid:start-ticks'
    ("studies", "cancel_requested", "INTEGER NOT NULL DEFAULT 0"),
    ("runs", "owner", "TEXT"),
    ("runs", "attempts", "INTEGER NOT NULL DEFAULT 0"),      # times a process started training it
]

INIT_ATTEMPTS = 20  # opening the store: tries while other processes hold a brand-new file's lock


class Store:
    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path else store_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for attempt in range(INIT_ATTEMPTS):
            try:
                self._create()
                break
            except sqlite3.OperationalError as exc:  # SQLite answers "locked" at once, without waiting, when
                if "locked" not in str(exc) or attempt == INIT_ATTEMPTS - 1:  # processes switch a new file to
                    raise                                                     # WAL together: try again
                time.sleep(0.05 * (attempt + 1))

    def _create(self) -> None:
        """Tables and migrations, under the write lock: processes opening a new (or older) store at once
        create and migrate it once."""
        with self.connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
        with self.connect(write_lock=True) as db:
            for statement in filter(str.strip, SCHEMA.split(";")):
                db.execute(statement)
            for table, column, declaration in MIGRATIONS:
                present = {r["name"] for r in db.execute(f"PRAGMA table_info({table})")}
                if column not in present:
                    db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")

    @contextmanager
    def connect(self, write_lock: bool = False) -> Iterator[sqlite3.Connection]:
        """A connection whose block is one transaction: committed on success, rolled back on error.

        ``write_lock``: take the store's write lock at the start (BEGIN IMMEDIATE), so nothing the block reads
        can change before it writes, in any process."""
        db = sqlite3.connect(self.path, timeout=30)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA foreign_keys=ON")
        try:
            with db:
                if write_lock:
                    db.execute("BEGIN IMMEDIATE")
                yield db
        finally:
            db.close()

    # studies ---------------------------------------------------------------------------------
    def create_study(self, name: str, spec: dict, runs: list[tuple[str, list[str], int]] = (),
                     config: dict | None = None, backend: str = "inline") -> str:
        """A new queued study and, in the same transaction, its planned (setting, tasks, seed) runs."""
        study_id = time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
        with self.connect() as db:
            db.execute("INSERT INTO studies (id, name, created, status, spec_json, backend) VALUES (?,?,?,?,?,?)",
                       (study_id, name, time.time(), "queued", json.dumps(spec), backend))
            _insert_runs(db, study_id, runs, config)
        return study_id

    def cancel_requested(self, study_id: str) -> bool:
        with self.connect() as db:
            row = db.execute("SELECT cancel_requested FROM studies WHERE id=?", (study_id,)).fetchone()
        return bool(row and row[0])

    def update_study(self, study_id: str, **fields) -> None:
        columns = {k: (json.dumps(v) if k.endswith("_json") else v) for k, v in fields.items()}
        assignments = ", ".join(f"{k}=?" for k in columns)
        with self.connect() as db:
            db.execute(f"UPDATE studies SET {assignments} WHERE id=?", (*columns.values(), study_id))

    def study(self, study_id: str) -> dict | None:
        with self.connect() as db:
            row = db.execute("SELECT * FROM studies WHERE id=?", (study_id,)).fetchone()
        return _decode(row) if row else None

    def studies(self) -> list[dict]:
        with self.connect() as db:
            rows = db.execute("SELECT * FROM studies ORDER BY created DESC").fetchall()
        return [_decode(r) for r in rows]

    def unfinished_studies(self) -> list[dict]:
        """id, status, backend and owner of every queued or running study (what recovery looks at)."""
        with self.connect() as db:
            rows = db.execute("SELECT id, status, backend, owner FROM studies WHERE status IN ('queued', 'running') "
                              "ORDER BY created").fetchall()
        return [dict(r) for r in rows]

    def start_study(self, study_id: str, owner: str) -> bool:
        """Mark a queued or running study "running" for ``owner``; False if it already ended (cancelled, done,
        failed). One statement, so a study that ends meanwhile is never set running again."""
        with self.connect() as db:
            cur = db.execute("UPDATE studies SET status='running', owner=?, error=NULL WHERE id=? "
                             "AND status IN ('queued', 'running')", (owner, study_id))
            return cur.rowcount == 1

    def release_study(self, study_id: str, owner: str) -> None:
        """``owner`` no longer executes the study: clear its owner, unless another process took it since."""
        with self.connect() as db:
            db.execute("UPDATE studies SET owner=NULL WHERE id=? AND owner=?", (study_id, owner))

    def settle_study(self, study_id: str, verdict: Callable[[list[dict], bool], tuple[str, str | None]],
                     blocking: tuple[str, ...] = ("queued", "running")) -> str | None:
        """Give a queued or running study its final status once none of its runs is in a ``blocking`` status.

        With a cancel asked, its queued runs are cancelled first. ``verdict(runs, cancel_requested)`` gives
        (status, error). One write-locked transaction: of several workers ending runs of one study at once,
        exactly one settles it, and never while a run still trains. Returns the status set, or None."""
        with self.connect(write_lock=True) as db:
            study = db.execute("SELECT status, cancel_requested FROM studies WHERE id=?", (study_id,)).fetchone()
            if study is None or study["status"] not in ("queued", "running"):
                return None
            if study["cancel_requested"]:
                _close_queued(db, study_id, "cancelled")
            runs = [_decode(r) for r in db.execute("SELECT * FROM runs WHERE study_id=? ORDER BY id", (study_id,))]
            if any(r["status"] in blocking for r in runs):
                return None
            status, error = verdict(runs, bool(study["cancel_requested"]))
            db.execute("UPDATE studies SET status=?, error=? WHERE id=?", (status, error, study_id))
            return status

    # runs ------------------------------------------------------------------------------------
    def add_runs_once(self, study_id: str, runs: list[tuple[str, list[str], int]], config: dict) -> bool:
        """Add the study's planned (setting, tasks, seed) runs unless it has runs already (another worker
        planned them first); True if added. One write-locked transaction."""
        with self.connect(write_lock=True) as db:
            if db.execute("SELECT 1 FROM runs WHERE study_id=? LIMIT 1", (study_id,)).fetchone():
                return False
            _insert_runs(db, study_id, runs, config)
            return True

    def add_run(self, study_id: str, setting: str, tasks: list[str], seed: int, config: dict) -> int:
        with self.connect() as db:
            cur = db.execute("INSERT INTO runs (study_id, setting, tasks_json, seed, status, config_json) "
                             "VALUES (?,?,?,?,?,?)", (study_id, setting, json.dumps(tasks), seed, "queued",
                                                      json.dumps(config)))
            return int(cur.lastrowid)

    def update_run(self, run_id: int, **fields) -> None:
        columns = {k: (json.dumps(v) if k.endswith("_json") else v) for k, v in fields.items()}
        assignments = ", ".join(f"{k}=?" for k in columns)
        with self.connect() as db:
            db.execute(f"UPDATE runs SET {assignments} WHERE id=?", (*columns.values(), run_id))

    def next_queued_run(self, study_id: str) -> dict | None:
        with self.connect() as db:
            row = db.execute("SELECT * FROM runs WHERE study_id=? AND status='queued' ORDER BY id LIMIT 1",
                             (study_id,)).fetchone()
        return _decode(row) if row else None

    def claim_run(self, run_id: int, owner: str) -> bool:
        """Mark a queued run "running" for ``owner`` (counting the attempt); False if it was not queued,
        e.g. another process took it first. One statement, so two processes can never both claim it."""
        with self.connect() as db:
            cur = db.execute("UPDATE runs SET status='running', started=?, owner=?, attempts=attempts+1 "
                             "WHERE id=? AND status='queued'", (time.time(), owner, run_id))
            return cur.rowcount == 1

    def record_progress(self, run_id: int, progress: dict, curves: list[dict] = ()) -> None:
        """A running run's progress and, at an epoch's end, that epoch's curve rows (one transaction)."""
        with self.connect() as db:
            db.executemany("INSERT INTO curves VALUES (?,?,?,?,?)",
                           [(run_id, c["epoch"], c["task"], c["name"], c["value"]) for c in curves])
            db.execute("UPDATE runs SET progress_json=? WHERE id=?", (json.dumps(progress), run_id))

    def clear_curves(self, run_id: int) -> None:
        """Forget a run's curve rows (it trains again from the start, e.g. with a smaller batch)."""
        with self.connect() as db:
            db.execute("DELETE FROM curves WHERE run_id=?", (run_id,))

    def reset_run(self, run_id: int, status: str = "queued", when: tuple[str, ...] | None = None,
                  owner: str | None = None) -> bool:
        """Forget a run's partial or earlier results (curves, scores, progress, error) and set ``status``.

        Only if its status is one of ``when`` and, given ``owner``, its owner is that process (both checked in
        the same statement, so a run another worker claimed meanwhile is left alone); True if it was reset."""
        where, args = "id=?", [run_id]
        if when is not None:
            where += f" AND status IN ({','.join('?' * len(when))})"
            args += list(when)
        if owner is not None:
            where += " AND owner=?"
            args.append(owner)
        with self.connect() as db:
            cur = db.execute("UPDATE runs SET status=?, device=NULL, best_epoch=NULL, epochs_run=NULL, "
                             "train_seconds=NULL, examples_per_second=NULL, progress_json=NULL, error=NULL, "
                             f"checkpoint=NULL, started=NULL, finished=NULL, owner=NULL WHERE {where}",
                             (status, *args))
            if cur.rowcount != 1:
                return False
            db.execute("DELETE FROM curves WHERE run_id=?", (run_id,))
            db.execute("DELETE FROM scores WHERE run_id=?", (run_id,))
            return True

    def close_queued_runs(self, study_id: str, status: str, error: str | None = None) -> int:
        """Set every still-queued run of the study to ``status`` (cancelled, failed) in one statement, so a run
        a worker claims at that moment is either claimed or closed, never both; returns how many."""
        with self.connect() as db:
            return _close_queued(db, study_id, status, error)

    def finish_run(self, run_id: int, result, checkpoint: str | None = None) -> None:
        """Scores, curves and the run's summary in one transaction: a run is done entirely or not at all.

        Curve rows already written live (``record_progress``) are not written twice."""
        with self.connect() as db:
            for split, per_task in (("test", result.test_scores), ("val", result.val_scores),
                                    ("aux", result.aux_scores)):  # aux: the auxiliary tasks' test scores
                db.executemany("INSERT OR REPLACE INTO scores VALUES (?,?,?,?,?)",
                               [(run_id, t, split, m, v) for t, ms in per_task.items() for m, v in ms.items()])
            db.executemany("INSERT OR REPLACE INTO scores VALUES (?,?,?,?,?)",
                           [(run_id, t, "test", "n", len(items)) for t, items in result.predictions.items()])
            db.executemany("INSERT INTO curves SELECT ?,?,?,?,? WHERE NOT EXISTS (SELECT 1 FROM curves "
                           "WHERE run_id=? AND epoch=? AND task=? AND name=?)",
                           [(run_id, c["epoch"], c["task"], c["name"], c["value"], run_id, c["epoch"], c["task"],
                             c["name"]) for c in result.curves])
            db.execute("UPDATE runs SET status='done', device=?, best_epoch=?, epochs_run=?, train_seconds=?, "
                       "examples_per_second=?, checkpoint=?, finished=? WHERE id=?",
                       (result.device, result.best_epoch, result.epochs_run, result.train_seconds,
                        result.examples_per_second, checkpoint, time.time(), run_id))

    def runs(self, study_id: str) -> list[dict]:
        with self.connect() as db:
            rows = db.execute("SELECT * FROM runs WHERE study_id=? ORDER BY id", (study_id,)).fetchall()
        return [_decode(r) for r in rows]

    def scores(self, study_id: str, split: str = "test") -> list[dict]:
        """One row per (run, task, metric) of finished runs: setting, seed, task, metric, value."""
        with self.connect() as db:
            rows = db.execute(
                "SELECT r.id AS run_id, r.setting, r.seed, s.task, s.metric, s.value FROM scores s "
                "JOIN runs r ON r.id = s.run_id WHERE r.study_id=? AND s.split=? AND r.status='done'",
                (study_id, split)).fetchall()
        return [dict(r) for r in rows]

    def curves(self, run_id: int) -> list[dict]:
        with self.connect() as db:
            rows = db.execute("SELECT epoch, task, name, value FROM curves WHERE run_id=? ORDER BY epoch",
                              (run_id,)).fetchall()
        return [dict(r) for r in rows]

    def speed_samples(self) -> list[dict]:
        """Finished runs' config, measured training speed and wall-clock seconds (for time estimates)."""
        with self.connect() as db:
            rows = db.execute("SELECT config_json, examples_per_second, train_seconds, finished - started AS wall "
                              "FROM runs WHERE status='done' AND examples_per_second > 0 ORDER BY finished DESC "
                              "LIMIT 500").fetchall()
        return [_decode(r) for r in rows]

    # workers ---------------------------------------------------------------------------------
    def beat(self, identity: str, pid: int, host: str, started: float) -> None:
        with self.connect() as db:
            db.execute("INSERT INTO workers VALUES (?,?,?,?,?) ON CONFLICT(identity) DO UPDATE SET beat=excluded.beat",
                       (identity, pid, host, started, time.time()))

    def workers(self) -> list[dict]:
        with self.connect() as db:
            return [dict(r) for r in db.execute("SELECT * FROM workers ORDER BY beat DESC")]

    def remove_worker(self, identity: str) -> None:
        with self.connect() as db:
            db.execute("DELETE FROM workers WHERE identity=?", (identity,))

    # baselines -------------------------------------------------------------------------------
    def add_baseline(self, study_id: str, task: str, method: str, scores: dict[str, float], n: int) -> None:
        with self.connect() as db:
            db.executemany("INSERT OR REPLACE INTO baselines VALUES (?,?,?,?,?,?)",
                           [(study_id, task, method, m, v, n) for m, v in scores.items()])

    def baselines(self, study_id: str) -> list[dict]:
        with self.connect() as db:
            rows = db.execute("SELECT task, method, metric, value, n FROM baselines WHERE study_id=?",
                              (study_id,)).fetchall()
        return [dict(r) for r in rows]


def _insert_runs(db: sqlite3.Connection, study_id: str, runs: list[tuple[str, list[str], int]],
                 config: dict | None) -> None:
    db.executemany("INSERT INTO runs (study_id, setting, tasks_json, seed, status, config_json) VALUES (?,?,?,?,?,?)",
                   [(study_id, setting, json.dumps(tasks), seed, "queued", json.dumps(config))
                    for setting, tasks, seed in runs])


def _close_queued(db: sqlite3.Connection, study_id: str, status: str, error: str | None = None) -> int:
    return db.execute("UPDATE runs SET status=?, error=?, finished=? WHERE study_id=? AND status='queued'",
                      (status, error, time.time(), study_id)).rowcount


def _decode(row: sqlite3.Row) -> dict:
    out = dict(row)
    for key in list(out):
        if key.endswith("_json") and out[key] is not None:
            out[key[:-5]] = json.loads(out.pop(key))
        elif key.endswith("_json"):
            out[key[:-5]] = out.pop(key)
    return out

"""SQLite results store: studies, runs, scores, curves, baselines. WAL mode; every write one transaction.

One connection per call, so Streamlit threads, the CLI and worker processes can share the file.
"""
from __future__ import annotations

import json
import sqlite3
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from .paths import store_path

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


class Store:
    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path else store_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)
            for table, column, declaration in MIGRATIONS:
                present = {r["name"] for r in db.execute(f"PRAGMA table_info({table})")}
                if column not in present:
                    db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """A connection whose block is one transaction: committed on success, rolled back on error."""
        db = sqlite3.connect(self.path, timeout=30)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA foreign_keys=ON")
        try:
            with db:
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
            db.executemany("INSERT INTO runs (study_id, setting, tasks_json, seed, status, config_json) "
                           "VALUES (?,?,?,?,?,?)", [(study_id, setting, json.dumps(tasks), seed, "queued",
                                                     json.dumps(config)) for setting, tasks, seed in runs])
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

    # runs ------------------------------------------------------------------------------------
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

    def reset_run(self, run_id: int, status: str = "queued") -> None:
        """Forget a run's partial or earlier results (curves, scores, progress, error) and set ``status``."""
        with self.connect() as db:
            db.execute("DELETE FROM curves WHERE run_id=?", (run_id,))
            db.execute("DELETE FROM scores WHERE run_id=?", (run_id,))
            db.execute("UPDATE runs SET status=?, device=NULL, best_epoch=NULL, epochs_run=NULL, train_seconds=NULL,"
                       " examples_per_second=NULL, progress_json=NULL, error=NULL, checkpoint=NULL, started=NULL,"
                       " finished=NULL, owner=NULL WHERE id=?", (status, run_id))

    def finish_run(self, run_id: int, result, checkpoint: str | None = None) -> None:
        """Scores, curves and the run's summary in one transaction: a run is done entirely or not at all.

        Curve rows already written live (``record_progress``) are not written twice."""
        with self.connect() as db:
            for split, per_task in (("test", result.test_scores), ("val", result.val_scores)):
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


def _decode(row: sqlite3.Row) -> dict:
    out = dict(row)
    for key in list(out):
        if key.endswith("_json") and out[key] is not None:
            out[key[:-5]] = json.loads(out.pop(key))
        elif key.endswith("_json"):
            out[key[:-5]] = out.pop(key)
    return out

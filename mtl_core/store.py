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
CREATE INDEX IF NOT EXISTS runs_by_study ON runs(study_id);
CREATE INDEX IF NOT EXISTS curves_by_run ON curves(run_id);
"""


class Store:
    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path else store_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)

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
    def create_study(self, name: str, spec: dict) -> str:
        study_id = time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
        with self.connect() as db:
            db.execute("INSERT INTO studies (id, name, created, status, spec_json) VALUES (?,?,?,?,?)",
                       (study_id, name, time.time(), "queued", json.dumps(spec)))
        return study_id

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

    def finish_run(self, run_id: int, result, checkpoint: str | None = None) -> None:
        """Scores, curves and the run's summary in one transaction: a run is done entirely or not at all."""
        with self.connect() as db:
            for split, per_task in (("test", result.test_scores), ("val", result.val_scores)):
                db.executemany("INSERT OR REPLACE INTO scores VALUES (?,?,?,?,?)",
                               [(run_id, t, split, m, v) for t, ms in per_task.items() for m, v in ms.items()])
            db.executemany("INSERT OR REPLACE INTO scores VALUES (?,?,?,?,?)",
                           [(run_id, t, "test", "n", len(items)) for t, items in result.predictions.items()])
            db.executemany("INSERT INTO curves VALUES (?,?,?,?,?)",
                           [(run_id, c["epoch"], c["task"], c["name"], c["value"]) for c in result.curves])
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

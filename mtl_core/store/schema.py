"""The store's tables, and what older stores get when opened: tables and columns added since the first release."""
from __future__ import annotations

import sqlite3

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
# Tables added after the first release; created in older stores on open. ``datasets``: the dataset library's saved
# datasets (data.library), which that module once created itself on every call, with these same columns.
ADDED_TABLES = """
CREATE TABLE IF NOT EXISTS datasets (
    id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, created REAL NOT NULL, source_json TEXT NOT NULL,
    tasks_json TEXT NOT NULL, n_examples INTEGER NOT NULL);
"""
# Columns added after the first release: (table, column, declaration); added to older stores on open.
MIGRATIONS = [
    ("studies", "backend", "TEXT"),                         # 'queue' (background worker) or 'inline' (CLI)
    ("studies", "owner", "TEXT"),                           # process executing it: 'pid:start-ticks'
    ("studies", "cancel_requested", "INTEGER NOT NULL DEFAULT 0"),
    ("runs", "owner", "TEXT"),
    ("runs", "attempts", "INTEGER NOT NULL DEFAULT 0"),      # times a process started training it
    ("studies", "tags_json", "TEXT"),                       # the user's tags: a JSON list of words
    ("studies", "note", "TEXT"),                            # the user's free-text note
    ("studies", "executor_json", "TEXT"),                   # where its runs train: local or Ray (studies.backends)
]
# A counter every change of a study or a run moves (triggers), so a page polling the store reads one number and
# re-reads studies and runs only when it moved. Created in older stores on open.
REVISION = """
CREATE TABLE IF NOT EXISTS revision (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL);
INSERT OR IGNORE INTO revision VALUES (1, 0);
""" + "".join(f"""
CREATE TRIGGER IF NOT EXISTS {table}_{event.lower()}_revision AFTER {event} ON {table}
BEGIN UPDATE revision SET n = n + 1 WHERE id = 1; END;""" for table in ("studies", "runs")
              for event in ("INSERT", "UPDATE", "DELETE"))


def migrate(db: sqlite3.Connection) -> None:
    """Create the tables a store lacks and add the columns it lacks (run under the store's write lock)."""
    for statement in filter(str.strip, (SCHEMA + ADDED_TABLES).split(";")):
        db.execute(statement)
    for table, column, declaration in MIGRATIONS:
        present = {r["name"] for r in db.execute(f"PRAGMA table_info({table})")}
        if column not in present:
            db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")
    for statement in filter(str.strip, REVISION.split(";\n")):  # a trigger's body holds a ';' of its own
        db.execute(statement)

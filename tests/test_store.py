"""The store: older stores migrated on open (the saved datasets' table included), and SQL spoken only there."""
from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

from mtl_core.data import library
from mtl_core.store import Store
from mtl_core.store.schema import ADDED_TABLES, MIGRATIONS, SCHEMA

REPO = Path(__file__).resolve().parents[1]


def columns(store: Store, table: str) -> set[str]:
    db = sqlite3.connect(store.path)
    try:
        return {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
    finally:
        db.close()


def test_a_first_release_store_gets_the_later_columns_and_the_datasets_table(tmp_path, datasets_dir):
    path = tmp_path / "mtl_lab.sqlite"
    db = sqlite3.connect(path)
    db.executescript(SCHEMA)  # the first release's tables: no datasets table, none of the later columns
    db.close()
    store = Store(path)
    assert all(column in columns(store, table) for table, column, _ in MIGRATIONS)
    source = {"files": [str(datasets_dir / "uci_sentiment" / "yelp_labelled.txt")]}
    dataset_id = library.register_dataset("yelp", source, store)
    (saved,) = library.list_datasets(store)
    assert saved["id"] == dataset_id and saved["source"] == source and saved["n_examples"] == 1000
    assert store.dataset("yelp")["tasks"] == saved["tasks"] and store.dataset("amazon") is None


def test_datasets_saved_by_the_library_s_own_table_are_kept(tmp_path):
    path = tmp_path / "mtl_lab.sqlite"
    db = sqlite3.connect(path)
    db.executescript(SCHEMA + ADDED_TABLES)  # the library created this very table itself, before the store did
    db.execute("INSERT INTO datasets VALUES (?,?,?,?,?,?)", ("ds-1", "old", 1.0, json.dumps({"files": ["a.csv"]}),
                                                            json.dumps({"label": {"name": "label"}}), 12))
    db.commit()
    db.close()
    assert library.list_datasets(Store(path)) == [{"id": "ds-1", "name": "old", "source": {"files": ["a.csv"]},
                                                   "tasks": {"label": {"name": "label"}}, "n_examples": 12,
                                                   "created": 1.0}]


def test_sql_is_spoken_only_in_the_store():
    sql = re.compile(r"\.execute(many)?\(|\bsqlite3\b|\b(SELECT|INSERT|UPDATE|DELETE FROM)\b")
    sources = [*REPO.glob("mtl_core/**/*.py"), *REPO.glob("ui/**/*.py"), *REPO.glob("pages/*.py")]
    outside = [str(p.relative_to(REPO)) for p in sources
               if "store" not in p.relative_to(REPO).parts[:2] and sql.search(p.read_text())]
    assert outside == []
    assert sql.search((REPO / "mtl_core" / "store" / "runs.py").read_text())  # the check finds SQL where it is

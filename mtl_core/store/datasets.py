"""Saved datasets in the store: a name, the ``source`` that loads it, its tasks and size (see data.library)."""
from __future__ import annotations

import json
import time
import uuid

from mtl_core.store.database import Database, decode


class Datasets(Database):
    def save_dataset(self, name: str, source: dict, tasks: dict, n_examples: int) -> str:
        """Record a dataset under ``name``; saving again under a name already used replaces that entry, keeping
        its id. One write-locked transaction, so two saves of one name at once keep one id."""
        with self.connect(write_lock=True) as db:
            row = db.execute("SELECT id FROM datasets WHERE name=?", (name,)).fetchone()
            dataset_id = row["id"] if row else time.strftime("ds-%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
            db.execute("INSERT OR REPLACE INTO datasets VALUES (?,?,?,?,?,?)",
                       (dataset_id, name, time.time(), json.dumps(source), json.dumps(tasks), n_examples))
        return dataset_id

    def datasets(self) -> list[dict]:
        """Saved datasets, newest first: {id, name, created, source, tasks, n_examples}."""
        with self.connect() as db:
            rows = db.execute("SELECT * FROM datasets ORDER BY created DESC").fetchall()
        return [decode(r) for r in rows]

    def dataset(self, name: str) -> dict | None:
        """The dataset saved under ``name``, or None."""
        with self.connect() as db:
            row = db.execute("SELECT * FROM datasets WHERE name=?", (name,)).fetchone()
        return decode(row) if row else None

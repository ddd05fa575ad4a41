"""The store's file: opening (and migrating) it, one transaction per connection, and what every part shares: rows
as dicts with their JSON decoded, and the condition that lets a status change only as ``status.TRANSITIONS`` says."""
from __future__ import annotations

import json
import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator

from mtl_core.paths import store_path
from mtl_core.status import Status, changes_into
from mtl_core.store.schema import migrate

INIT_ATTEMPTS = 20  # opening the store: tries while other processes hold a brand-new file's lock


class Database:
    """An SQLite file in WAL mode, opened once per call, so threads and processes can share it."""

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
            migrate(db)

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

    def integrity_check(self) -> str:
        """SQLite's own check of the whole file: 'ok' when nothing is corrupt."""
        with self.connect() as db:
            return db.execute("PRAGMA integrity_check").fetchone()[0]

    def _update(self, table: str, row_id: int | str, fields: dict) -> bool:
        """Set ``fields`` of one row of ``table`` in one statement; with a ``status`` among them, only if the row
        keeps its status or may change it so (``status_condition``). True if the row was written."""
        columns = {k: (json.dumps(v) if k.endswith("_json") else v) for k, v in fields.items()}
        where, args = "id=?", [row_id]
        if "status" in columns:
            columns["status"] = Status(columns["status"])  # an unknown word fails here
            condition, allowed = status_condition(columns["status"], stay=True, run=table == "runs")
            where, args = f"{where} AND {condition}", args + allowed
        assignments = ", ".join(f"{k}=?" for k in columns)
        with self.connect() as db:
            return db.execute(f"UPDATE {table} SET {assignments} WHERE {where}",
                              (*columns.values(), *args)).rowcount == 1


def status_condition(after: str, only_from: Iterable[str] | None = None, stay: bool = False,
                     run: bool = False) -> tuple[str, list[Status]]:
    """``"status IN (?,..)"`` and its values, for a statement that changes a study's (with ``run``, a run's) status
    to ``after``: from each of ``only_from`` (default: every status TRANSITIONS lets change to ``after``), and
    from ``after`` itself when ``stay``. A ``before`` TRANSITIONS does not allow is a mistake in the code:
    ValueError."""
    after = Status(after)
    allowed = changes_into(after, run)
    chosen = [Status(s) for s in only_from] if only_from is not None else list(allowed)
    unlisted = [s for s in chosen if s not in allowed and not (stay and s == after)]
    if unlisted:
        raise ValueError(f"No status change {[str(s) for s in unlisted]} -> {after!s} in status.TRANSITIONS.")
    if stay and after not in chosen:
        chosen.append(after)
    return f"status IN ({','.join('?' * len(chosen))})", chosen


def decode(row: sqlite3.Row) -> dict:
    """A row as a dict, each ``x_json`` column decoded under the name ``x``."""
    out = dict(row)
    for key in list(out):
        if key.endswith("_json") and out[key] is not None:
            out[key[:-5]] = json.loads(out.pop(key))
        elif key.endswith("_json"):
            out[key[:-5]] = out.pop(key)
    return out

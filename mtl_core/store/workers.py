"""Worker heartbeats in the store: each worker process' row (identity, pid, host, start, last beat)."""
from __future__ import annotations

import time

from mtl_core.store.database import Database


class Workers(Database):
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

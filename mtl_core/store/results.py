"""What training leaves in the store: live progress and curves, a finished run's scores, the baselines, and the
measured speeds that time estimates read."""
from __future__ import annotations

import json
import time

from mtl_core.status import Status
from mtl_core.store.database import Database, decode, status_condition


def confusion_counts(items: list[tuple]) -> dict[tuple[str, str], int]:
    """(gold, predicted) -> count over a task's test predictions ((row, gold, predicted) triples; tagging: per
    token). Stored as score rows of split "confusion", metric = the JSON pair, value = the count, so that a study's
    deletion or a run's retry removes them with its other scores."""
    counts: dict[tuple[str, str], int] = {}
    for _, gold, pred in items:
        for pair in zip(gold, pred) if isinstance(gold, list) else [(gold, pred)]:
            counts[pair] = counts.get(pair, 0) + 1
    return counts


class Results(Database):
    def record_progress(self, run_id: int, progress: dict, curves: list[dict] = ()) -> None:
        """A running run's progress and, at an epoch's end, that epoch's curve rows (one transaction)."""
        with self.connect() as db:
            db.executemany("INSERT INTO curves VALUES (?,?,?,?,?)",
                           [(run_id, c["epoch"], c["task"], c["name"], c["value"]) for c in curves])
            db.execute("UPDATE runs SET progress_json=? WHERE id=?", (json.dumps(progress), run_id))

    def finish_run(self, run_id: int, result, checkpoint: str | None = None) -> bool:
        """Scores, curves and the run's summary in one transaction: a run is done entirely or not at all.

        Only a running run becomes done (False, nothing written, otherwise). Curve rows already written live
        (``record_progress``) are not written twice."""
        condition, allowed = status_condition(Status.DONE, only_from=[Status.RUNNING], run=True)
        with self.connect() as db:
            cur = db.execute(f"UPDATE runs SET status=?, device=?, best_epoch=?, epochs_run=?, train_seconds=?, "
                             f"examples_per_second=?, checkpoint=?, finished=? WHERE id=? AND {condition}",
                             (Status.DONE, result.device, result.best_epoch, result.epochs_run, result.train_seconds,
                              result.examples_per_second, checkpoint, time.time(), run_id, *allowed))
            if cur.rowcount != 1:
                return False
            for split, per_task in (("test", result.test_scores), ("val", result.val_scores),
                                    ("aux", result.aux_scores)):  # aux: the auxiliary tasks' test scores
                db.executemany("INSERT OR REPLACE INTO scores VALUES (?,?,?,?,?)",
                               [(run_id, t, split, m, v) for t, ms in per_task.items() for m, v in ms.items()])
            db.executemany("INSERT OR REPLACE INTO scores VALUES (?,?,?,?,?)",
                           [(run_id, t, "test", "n", len(items)) for t, items in result.predictions.items()])
            db.executemany("INSERT OR REPLACE INTO scores VALUES (?,?,?,?,?)",  # see confusion_counts
                           [(run_id, t, "confusion", json.dumps(pair), n) for t, items in result.predictions.items()
                            for pair, n in confusion_counts(items).items()])
            db.executemany("INSERT INTO curves SELECT ?,?,?,?,? WHERE NOT EXISTS (SELECT 1 FROM curves "
                           "WHERE run_id=? AND epoch=? AND task=? AND name=?)",
                           [(run_id, c["epoch"], c["task"], c["name"], c["value"], run_id, c["epoch"], c["task"],
                             c["name"]) for c in result.curves])
            return True

    def scores(self, study_id: str, split: str = "test") -> list[dict]:
        """One row per (run, task, metric) of finished runs: setting, seed, task, metric, value."""
        with self.connect() as db:
            rows = db.execute(
                "SELECT r.id AS run_id, r.setting, r.seed, s.task, s.metric, s.value FROM scores s "
                "JOIN runs r ON r.id = s.run_id WHERE r.study_id=? AND s.split=? AND r.status=?",
                (study_id, split, Status.DONE)).fetchall()
        return [dict(r) for r in rows]

    def curves(self, run_id: int) -> list[dict]:
        with self.connect() as db:
            rows = db.execute("SELECT epoch, task, name, value FROM curves WHERE run_id=? ORDER BY epoch",
                              (run_id,)).fetchall()
        return [dict(r) for r in rows]

    def study_curves(self, study_id: str) -> dict[int, list[dict]]:
        """The curve rows of every finished run of a study, in one read: run id -> rows (by epoch)."""
        with self.connect() as db:
            rows = db.execute("SELECT c.run_id, c.epoch, c.task, c.name, c.value FROM curves c "
                              "JOIN runs r ON r.id = c.run_id WHERE r.study_id=? AND r.status=? "
                              "ORDER BY c.run_id, c.epoch", (study_id, Status.DONE)).fetchall()
        by_run: dict[int, list[dict]] = {}
        for r in rows:
            by_run.setdefault(r["run_id"], []).append({k: r[k] for k in ("epoch", "task", "name", "value")})
        return by_run

    def speed_samples(self) -> list[dict]:
        """Finished runs' config, measured training speed and wall-clock seconds (for time estimates)."""
        with self.connect() as db:
            rows = db.execute("SELECT config_json, examples_per_second, train_seconds, finished - started AS wall "
                              "FROM runs WHERE status=? AND examples_per_second > 0 ORDER BY finished DESC "
                              "LIMIT 500", (Status.DONE,)).fetchall()
        return [decode(r) for r in rows]

    def add_baseline(self, study_id: str, task: str, method: str, scores: dict[str, float], n: int) -> None:
        with self.connect() as db:
            db.executemany("INSERT OR REPLACE INTO baselines VALUES (?,?,?,?,?,?)",
                           [(study_id, task, method, m, v, n) for m, v in scores.items()])

    def baselines(self, study_id: str) -> list[dict]:
        with self.connect() as db:
            rows = db.execute("SELECT task, method, metric, value, n FROM baselines WHERE study_id=?",
                              (study_id,)).fetchall()
        return [dict(r) for r in rows]

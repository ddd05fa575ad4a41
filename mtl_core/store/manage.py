"""What a user keeps about a study: its name, tags and note; deleting a settled study with everything it left in the
store; and the cheap reads a page polls (the revision counter, the queue's size, one row per study)."""
from __future__ import annotations

import json

from mtl_core.errors import ConfigError
from mtl_core.status import ACTIVE, Status, can_delete
from mtl_core.store.database import Database, decode

MAX_NAME, MAX_TAG, MAX_TAGS, MAX_NOTE = 120, 40, 20, 5000


class Management(Database):
    def revision(self) -> int:
        """A number that moves whenever any study or run changes (schema.REVISION): unchanged, nothing to re-read."""
        with self.connect() as db:
            return db.execute("SELECT n FROM revision WHERE id=1").fetchone()[0]

    def active_count(self) -> int:
        """How many studies are queued or running (the sidebar's queue line), without reading their specs."""
        with self.connect() as db:
            return db.execute(f"SELECT count(*) FROM studies WHERE status IN ({','.join('?' * len(ACTIVE))})",
                              ACTIVE).fetchone()[0]

    def study_state(self, study_id: str) -> dict | None:
        """id, name, status, error and tasks (task name -> spec) of one study, or None: what a page polling it
        shows, without its vocabulary, split or report."""
        with self.connect() as db:
            row = db.execute("SELECT id, name, status, error, tasks_json FROM studies WHERE id=?",
                             (study_id,)).fetchone()
        return decode(row) if row else None

    def curve_count(self, run_id: int) -> int:
        """How many curve rows the run has so far (they grow once an epoch)."""
        with self.connect() as db:
            return db.execute("SELECT count(*) FROM curves WHERE run_id=?", (run_id,)).fetchone()[0]

    def study_overview(self) -> list[dict]:
        """One row per study, newest first: id, name, created, status, tags, note, tasks (the spec's, else the runs'),
        runs and runs_done; specs are read but not vocabularies or splits."""
        with self.connect() as db:
            rows = db.execute(
                "SELECT s.id, s.name, s.created, s.status, s.tags_json, s.note, s.spec_json, "
                "(SELECT count(*) FROM runs r WHERE r.study_id = s.id) AS runs, "
                "(SELECT count(*) FROM runs r WHERE r.study_id = s.id AND r.status = ?) AS runs_done, "
                "(SELECT r.tasks_json FROM runs r WHERE r.study_id = s.id AND r.setting = 'all' LIMIT 1) AS all_tasks "
                "FROM studies s ORDER BY s.created DESC", (Status.DONE,)).fetchall()
        out = []
        for r in rows:
            spec = json.loads(r["spec_json"])
            tasks = spec.get("tasks") or (json.loads(r["all_tasks"]) if r["all_tasks"] else [])
            out.append({"id": r["id"], "name": r["name"], "created": r["created"], "status": r["status"],
                        "tags": json.loads(r["tags_json"]) if r["tags_json"] else [], "note": r["note"] or "",
                        "tasks": tasks, "runs": r["runs"], "runs_done": r["runs_done"]})
        return out

    def rename_study(self, study_id: str, name: str) -> None:
        """Give the study a new name (1 to MAX_NAME characters, spaces at the ends dropped)."""
        name = str(name).strip()
        if not name or len(name) > MAX_NAME:
            raise ConfigError(f"A study's name must have 1 to {MAX_NAME} characters. Got {len(name)} instead.")
        self._annotate(study_id, "name", name)

    def set_tags(self, study_id: str, tags: list[str] | str) -> list[str]:
        """Replace the study's tags (a list, or one text of comma-separated tags); returns them as kept: stripped,
        empty ones dropped, each once, in the order given."""
        given = tags.split(",") if isinstance(tags, str) else list(tags)
        kept = list(dict.fromkeys(t.strip() for t in given if t.strip()))
        long = [t for t in kept if len(t) > MAX_TAG]
        if long or len(kept) > MAX_TAGS:
            raise ConfigError(f"A study has at most {MAX_TAGS} tags of at most {MAX_TAG} characters each. "
                              f"Got {len(kept)} tag(s)" + (f", {long[0][:50]!r} too long." if long else "."))
        self._annotate(study_id, "tags_json", json.dumps(kept))
        return kept

    def set_note(self, study_id: str, note: str) -> None:
        """Replace the study's free-text note (at most MAX_NOTE characters; empty clears it)."""
        note = str(note).strip()
        if len(note) > MAX_NOTE:
            raise ConfigError(f"A study's note may have at most {MAX_NOTE} characters. Got {len(note)} instead.")
        self._annotate(study_id, "note", note or None)

    def _annotate(self, study_id: str, column: str, value) -> None:
        with self.connect() as db:
            if db.execute(f"UPDATE studies SET {column}=? WHERE id=?", (value, study_id)).rowcount != 1:
                raise self.no_such_study(study_id)

    def no_such_study(self, study_id: str) -> ConfigError:
        return ConfigError(f"No study {study_id!r} in {self.path}. `python -m mtl_core studies list` lists them.")

    def delete_study_rows(self, study_id: str) -> list[str]:
        """Delete the study with its runs, scores, curves and baselines, in one write-locked transaction, and only
        if it is settled (``status.can_delete``): a queued or running study raises ConfigError, nothing deleted.
        Returns the checkpoint files its runs had (the caller removes the files)."""
        with self.connect(write_lock=True) as db:
            row = db.execute("SELECT status FROM studies WHERE id=?", (study_id,)).fetchone()
            if row is None:
                raise self.no_such_study(study_id)
            if not can_delete(row["status"]):
                raise ConfigError(f"Study {study_id} is {row['status']}: a study is deleted only once it has ended. "
                                  "Cancel it first (Train page, Cancel study), then delete it.")
            checkpoints = [r["checkpoint"] for r in db.execute(
                "SELECT checkpoint FROM runs WHERE study_id=? AND checkpoint IS NOT NULL", (study_id,))]
            for table in ("scores", "curves"):
                db.execute(f"DELETE FROM {table} WHERE run_id IN (SELECT id FROM runs WHERE study_id=?)", (study_id,))
            for table in ("runs", "baselines"):
                db.execute(f"DELETE FROM {table} WHERE study_id=?", (study_id,))
            db.execute("DELETE FROM studies WHERE id=?", (study_id,))
        return checkpoints

"""The store: older stores migrated on open (the saved datasets' table included), and SQL spoken only there; a
study renamed, tagged, annotated and deleted (only once it has ended)."""
from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest

from mtl_core.data import library
from mtl_core.errors import ConfigError
from mtl_core.status import Status, can_delete
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


def planned_study(store: Store, name: str = "demo", seeds: int = 2, **config) -> str:
    """A queued synthetic-demo study with its planned runs, written as the queue writes one (nothing trained)."""
    from mtl_core.studies.execute import create_study
    from mtl_core.studies.spec import StudySpec

    spec = StudySpec.from_preset("synthetic-demo", name=name, seeds=seeds)
    spec.config.update(config)
    return create_study(spec, store, backend="queue")


def test_a_study_is_renamed_tagged_and_annotated_and_a_bad_value_is_refused(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    study_id = planned_study(store)
    before = store.revision()
    store.rename_study(study_id, "  ABSA, second try ")
    assert store.set_tags(study_id, "absa, baseline,, absa , lstm") == ["absa", "baseline", "lstm"]
    store.set_note(study_id, "lr 0.002 was too high")
    (row,) = store.study_overview()
    assert (row["name"], row["tags"], row["note"]) == ("ABSA, second try", ["absa", "baseline", "lstm"],
                                                      "lr 0.002 was too high")
    assert row["runs"] == len(store.runs(study_id)) > 0 and row["runs_done"] == 0 and row["tasks"]
    assert store.revision() > before  # a page polling the counter sees the change
    for bad in (lambda: store.rename_study(study_id, "   "), lambda: store.set_tags(study_id, ["x" * 41]),
                lambda: store.set_note(study_id, "n" * 5001), lambda: store.rename_study("no-such-id", "x")):
        with pytest.raises(ConfigError):
            bad()
    assert store.study(study_id)["name"] == "ABSA, second try"


def test_a_study_is_deleted_only_once_it_has_ended_with_its_runs_models_and_queue_messages(tmp_path, monkeypatch):
    from mtl_core.paths import mtl_home
    from mtl_core.studies.manage import delete_study
    from mtl_core.studies.queue import _enqueue, cancel_study, get_queue

    store = Store(tmp_path / "s.sqlite")
    study_id, kept = planned_study(store), planned_study(store, name="kept")
    _enqueue(store, study_id, 2)  # the messages a submit leaves for the workers
    run = store.runs(study_id)[0]
    checkpoint = mtl_home() / "checkpoints" / study_id / f"run{run['id']}.pt"
    checkpoint.parent.mkdir(parents=True)
    checkpoint.write_bytes(b"model")
    store.update_run(run["id"], checkpoint=str(checkpoint))
    with pytest.raises(ConfigError, match="queued.*Cancel it first"):
        delete_study(study_id, store)
    store.start_study(study_id, "123:456")
    with pytest.raises(ConfigError, match="running.*Cancel it first"):
        delete_study(study_id, store)
    assert store.study(study_id) and checkpoint.is_file()  # refused: nothing deleted
    store.update_study(study_id, status=Status.QUEUED, owner=None)
    cancel_study(study_id, store)
    assert delete_study(study_id, store) == 1
    assert store.study(study_id) is None and store.runs(study_id) == [] and not checkpoint.parent.exists()
    queue = get_queue(store)
    assert all(queue.is_revoked(t, peek=True) for t in queue.pending() if t.args[0] == study_id)
    assert [s["id"] for s in store.study_overview()] == [kept] and store.runs(kept)
    with pytest.raises(ConfigError, match="No study"):
        delete_study(study_id, store)


def test_status_rule_says_which_studies_may_be_deleted():
    assert [s for s in Status if can_delete(s)] == [Status.DONE, Status.FAILED, Status.CANCELLED]


def test_an_older_store_gets_the_revision_counter_that_moves_on_every_change(tmp_path):
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.executescript(SCHEMA)
    db.close()
    store = Store(path)
    assert {"tags_json", "note"} <= columns(store, "studies") and store.revision() == 0
    study_id = planned_study(store)
    after_create = store.revision()
    assert after_create > 0 and store.active_count() == 1
    store.update_study(study_id, status=Status.CANCELLED)
    assert store.revision() > after_create and store.active_count() == 0
    assert Store(path).revision() == store.revision()  # opening it again migrates nothing twice

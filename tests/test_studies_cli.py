"""`python -m mtl_core studies list | diff A B | rm ID`, and the settings diff they print (also the Studies page's)."""
from __future__ import annotations

from pathlib import Path

import pytest

from mtl_core.cli import main
from mtl_core.status import Status
from mtl_core.store import Store
from mtl_core.studies.diff import describe_source, settings_diff


def queued(store: Store, name: str, seeds: int = 2, **config) -> str:
    from mtl_core.studies.execute import create_study
    from mtl_core.studies.spec import StudySpec

    spec = StudySpec.from_preset("synthetic-demo", name=name, seeds=seeds)
    spec.config.update(config)
    return create_study(spec, store, backend="queue")


@pytest.fixture
def two_studies() -> tuple[Store, str, str]:
    store = Store()  # the MTL Lab home of this test (conftest), where the CLI looks too
    first = queued(store, "lstm baseline", seeds=2)
    second = queued(store, "more epochs", seeds=3, epochs=30, weighting="dwa")  # the preset: 20 epochs
    store.set_tags(first, ["baseline"])
    return store, first, second


def test_studies_list_prints_every_study_as_a_table_and_filters_by_tag(two_studies, capsys):
    store, first, second = two_studies
    assert main(["studies", "list"]) == 0
    header, rule, *rows = capsys.readouterr().out.splitlines()
    assert header.split() == ["id", "name", "status", "tags", "created", "tasks", "runs"] and set(rule) == {"-", " "}
    assert [r.split()[0] for r in rows] == [second, first]  # newest first
    assert "lstm baseline" in rows[1] and "baseline" in rows[1] and "0/" in rows[1] and "queued" in rows[1]
    assert main(["studies", "list", "--tag", "baseline"]) == 0
    assert [r.split()[0] for r in capsys.readouterr().out.splitlines()[2:]] == [first]


def test_studies_diff_prints_only_the_settings_that_differ_unless_asked_for_all(two_studies, capsys):
    store, first, second = two_studies
    assert main(["studies", "diff", first, second]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["setting", first, second]
    differing = {line.split()[0]: line.split()[1:] for line in lines[2:]}
    assert differing == {"seeds": ["2", "3"], "runs": [str(len(store.runs(first))), str(len(store.runs(second)))],
                         "epochs": ["20", "30"], "weighting": ["equal", "dwa"]}
    assert main(["studies", "diff", first, second, "--all"]) == 0
    every = [line.split()[0] for line in capsys.readouterr().out.splitlines()[2:]]
    assert every[:3] == ["data", "split", "tasks"] and {"backbone", "sharing", "hidden", "plan"} <= set(every)


def test_studies_rm_refuses_a_queued_study_with_exit_2_and_deletes_an_ended_one(two_studies, capsys):
    store, first, second = two_studies
    assert main(["studies", "rm", first]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: Study ") and "is queued" in err and "Cancel it first" in err
    assert "Traceback" not in err and store.study(first)
    store.update_study(first, status=Status.CANCELLED)
    assert main(["studies", "rm", first]) == 0
    assert f"deleted study {first}" in capsys.readouterr().out
    assert store.study(first) is None and [s["id"] for s in store.study_overview()] == [second]
    assert main(["studies", "diff", first, second]) == 2
    assert "No study" in capsys.readouterr().err


def test_the_diff_names_uploaded_files_by_their_name_not_the_server_folder(two_studies, tmp_path):
    store, first, _ = two_studies
    upload = Path("/root/.mtl_lab/uploads/2e77abcd/reviews.csv")
    assert describe_source({"files": [str(upload)], "text_column": "text", "label_columns": ["food", "price"]}) \
        == "reviews.csv (upload 2e77abcd); text_column text; label_columns food, price"
    assert describe_source({"preset": "absa"}) == "preset absa"
    rows = settings_diff(store, first, first, every_row=True)
    assert rows and not any(r["differs"] for r in rows) and settings_diff(store, first, first) == []

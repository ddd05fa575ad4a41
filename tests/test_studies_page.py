"""The Studies page (AppTest): filter the table, rename, tag, annotate, diff and delete (with a confirmation, refused
while a study runs); and the sidebar and Home page for a study that was just queued."""
from __future__ import annotations

import pytest
from app_pages import open_page

from mtl_core.status import Status
from mtl_core.store import Store

PAGE = "pages/7_Studies.py"


@pytest.fixture
def lab(monkeypatch) -> dict:
    """This test's home with three studies, none trained: 'absa old' (done, 2 seeds), 'absa dwa' (done, dwa, 3 seeds)
    and the newest, 'running one' (running)."""
    from mtl_core.studies.execute import create_study
    from mtl_core.studies.spec import StudySpec

    monkeypatch.setenv("MTL_LAB_AUTOSTART_WORKER", "0")
    store, ids = Store(), {}
    for name, seeds, config, status in (("absa old", 2, {}, Status.DONE), ("absa dwa", 3, {"weighting": "dwa"},
                                                                             Status.DONE),
                                        ("running one", 1, {}, Status.RUNNING)):
        spec = StudySpec.from_preset("synthetic-demo", name=name, seeds=seeds)
        spec.config.update(config)
        ids[name] = create_study(spec, store, backend="queue")
        store.update_study(ids[name], status=status)
    return {"store": store, **ids}


def form_button(at, label: str):
    return next(b for b in at.button if b.label == label)


def test_the_table_lists_filters_and_sorts_the_studies(lab):
    at = open_page(PAGE)
    assert not at.exception
    assert list(at.dataframe[0].value["name"]) == ["running one", "absa dwa", "absa old"]
    at.text_input(key="studies_filter").input("ABSA").run()
    assert list(at.dataframe[0].value["name"]) == ["absa dwa", "absa old"]
    at.selectbox(key="studies_sort").select("name").run()
    assert list(at.dataframe[0].value["name"]) == ["absa dwa", "absa old"]
    at.multiselect(key="studies_statuses").select("running").run()
    assert at.dataframe[0].value.empty and any("No study matches" in i.value for i in at.info)


def test_rename_tag_and_note_are_saved_and_shown(lab):
    study = lab["absa old"]
    at = open_page(PAGE, study=study)
    at.text_input(key=f"studies_name_{study}").input("ABSA, first try")
    at.text_input(key=f"studies_tags_{study}").input("absa, baseline")
    at.text_area(key=f"studies_note_{study}").input("lr too high")
    form_button(at, "Save name, tags and note").click().run()
    assert not at.exception and any("Saved" in s.value for s in at.success)
    (row,) = [s for s in lab["store"].study_overview() if s["id"] == study]
    assert (row["name"], row["tags"], row["note"]) == ("ABSA, first try", ["absa", "baseline"], "lr too high")
    table = at.dataframe[0].value.set_index("id")
    assert table.loc[study, "name"] == "ABSA, first try" and table.loc[study, "tags"] == "absa, baseline"
    at.multiselect(key="studies_tags").select("baseline").run()
    assert list(at.dataframe[0].value["id"]) == [study]
    at.text_input(key=f"studies_name_{study}").input(" ")
    form_button(at, "Save name, tags and note").click().run()
    assert any("1 to 120 characters" in e.value for e in at.error)  # refused, in words, not a traceback


def test_a_finished_study_is_deleted_after_a_confirmation_and_a_running_one_is_refused(lab):
    at = open_page(PAGE, study=lab["running one"])
    assert not [b for b in at.button if b.key == "studies_delete"]
    assert any("cancel it on the Train page first" in c.value for c in at.caption)
    at = open_page(PAGE, study=lab["absa old"])
    at.button(key="studies_delete").click().run()
    assert any("cannot be undone" in w.value for w in at.warning)
    assert lab["store"].study(lab["absa old"])  # asked, not deleted yet
    at.button(key="studies_delete_yes").click().run()
    assert not at.exception and any("Deleted study absa old" in s.value for s in at.success)
    assert lab["store"].study(lab["absa old"]) is None
    assert list(at.dataframe[0].value["name"]) == ["running one", "absa dwa"]


def test_the_diff_shows_what_differs_between_two_studies(lab):
    at = open_page(PAGE)
    at.selectbox(key="studies_diff_first").select_index(1)
    at.selectbox(key="studies_diff_second").select_index(2).run()
    diff = at.dataframe[-1].value.set_index("setting")
    assert set(diff.index) == {"seeds", "runs", "weighting"}
    assert list(diff.loc["weighting"])[:2] == ["dwa", "equal"]
    at.checkbox(key="studies_diff_every").check().run()
    assert {"backbone", "epochs", "data"} <= set(at.dataframe[-1].value["setting"])


def test_a_just_queued_study_is_announced_with_a_link_to_train_not_called_missing(monkeypatch):
    from mtl_core.studies.execute import create_study
    from mtl_core.studies.spec import StudySpec

    monkeypatch.setenv("MTL_LAB_AUTOSTART_WORKER", "0")
    store = Store()
    study = create_study(StudySpec.from_preset("synthetic-demo", name="just queued", seeds=1), store, backend="queue")
    at = open_page(None, study=study)
    assert not at.exception
    shown = [*(i.value for i in at.info), *(w.value for w in at.warning)]
    assert not any("No finished study" in text for text in shown)
    assert any("just queued" in text and "is queued" in text for text in shown)
    assert any(c.value == "Queue: 1 study waiting or running" for c in at.caption)
    assert at.query_params["study"] == study  # the link to the queued study is kept
    store.update_study(study, status=Status.CANCELLED)
    at.run()
    assert any(c.value == "Queue: empty" for c in at.caption)

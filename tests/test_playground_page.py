"""The Playground page through AppTest: its sliders, a waiting study, and a finished playground study's charts."""
from __future__ import annotations

from app_pages import open_page
from streamlit.testing.v1 import AppTest

from mtl_core.results.interference import study_gradient_curves
from mtl_core.results.study_results import StudyResults
from mtl_core.store import Store
from mtl_core.studies.execute import run_study
from mtl_core.studies.playground import playground_spec
from mtl_core.charts.playground import conflict_chart, cosine_chart

SLIDERS = ("pg_overlap", "pg_contra", "pg_noise", "pg_n_a", "pg_n_b")


def page(**query) -> AppTest:
    return open_page("pages/6_Playground.py", **query)


def test_the_sliders_describe_the_study_that_would_run():
    at = page()
    assert not at.exception
    assert [at.slider(key=k).value for k in SLIDERS] == [12, 0, 0.05, 300, 900]
    assert at.select_slider(key="pg_hidden").value == 4 and at.checkbox(key="pg_same").value is False
    assert at.button(key="pg_run") is not None
    assert "Run quick study" in at.info[0].value
    at.slider(key="pg_overlap").set_value(6)
    at.slider(key="pg_contra").set_value(9).run()
    assert not at.exception and "at most 6 can contradict" in at.warning[0].value
    b = playground_spec(6, 9, 0.1, 200, 400).source["synthetic"]["tasks"][1]
    assert (b["shared_cues"], b["contradicting_cues"], b["private_cues"], b["label_noise"]) == (0, 6, 6, 0.1)


def test_a_queued_study_shows_its_progress():
    store = Store()
    study_id = store.create_study("playground: waiting", playground_spec(12, 0, 0.05, 300, 900).to_dict())
    store.add_runs_once(study_id, [("single", ["A"], 0)], {})
    at = page(study=study_id)
    assert not at.exception
    assert "0 of 1 runs finished" in at.get("progress")[0].proto.text
    assert not at.get("plotly_chart")


def test_a_finished_playground_study_shows_scores_and_gradient_charts():
    spec = playground_spec(12, 0, 0.05, 120, 240, seeds=2)
    spec.config.update(epochs=2, grad_every=2)
    store = Store()
    study_id, _ = run_study(spec, store, echo=lambda line: None, save_models=False)
    grads = study_gradient_curves(StudyResults.load(store, study_id))
    assert {g["name"] for g in grads} == {"grad_cosine", "grad_conflict_rate", "grad_norm_ratio"}
    assert {g["task"] for g in grads} == {"A|B"} and {g["seed"] for g in grads} == {0, 1}
    assert len(cosine_chart(grads).data) == 3  # two seeds' lines and their mean
    at = page(study=study_id)
    assert not at.exception
    assert len(at.get("plotly_chart")) == 3  # alone vs together, cosine over epochs, conflict rate
    deltas = at.dataframe[0].value
    assert list(deltas["task"]) == ["A", "B"] and set(deltas["setting"]) == {"with:B", "with:A"}
    assert "mean gradient cosine" in at.metric[0].label
    assert len(conflict_chart(grads).data) == 1

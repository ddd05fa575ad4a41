"""Predicting with a finished run's saved model (mtl_core.predict) and the Predict page, on a real tiny study."""
from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from app_pages import open_page

from mtl_core.predict import PredictError, load_predictor, runs_with_models
from mtl_core.store import Store
from mtl_core.studies.execute import run_study
from mtl_core.studies.presets import load_study_source
from mtl_core.studies.spec import StudySpec

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def finished(tmp_path_factory, datasets_dir) -> dict:
    """A synthetic-demo study (2 tasks, 1 seed, tiny model) that saved its models, and its run results."""
    home = tmp_path_factory.mktemp("predict_home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MTL_LAB_HOME", str(home))  # checkpoints go under the home
        spec = StudySpec.from_preset("synthetic-demo", name="predict demo", seeds=1, tasks=["base", "related"])
        spec.config.update(epochs=2, hidden=16, emb_dim=16)
        store = Store(home / "mtl_lab.sqlite")
        study_id, results = run_study(spec, store, echo=lambda line: None, save_models=True)
    return {"home": home, "study": study_id, "results": results, "spec": spec}


@pytest.fixture
def store(finished, monkeypatch) -> Store:
    monkeypatch.setenv("MTL_LAB_HOME", str(finished["home"]))
    return Store()


def test_predictor_reproduces_the_runs_stored_test_predictions(finished, store):
    texts = load_study_source(finished["spec"].source).corpus.texts
    runs = runs_with_models(store, finished["study"])
    assert [r["setting"] for r in runs] == ["single", "single", "all"]
    for run in runs:
        predictor = load_predictor(store, run["id"])
        assert list(predictor.specs) == run["tasks"]
        for task, triples in finished["results"][run["id"]].predictions.items():
            sample = triples[:25]
            out = predictor.predict([texts[row] for row, _, _ in sample])
            assert [o[task]["label"] for o in out] == [pred for _, _, pred in sample]
            for o in out:
                p = o[task]
                assert math.isclose(sum(p["probabilities"].values()), 1.0, abs_tol=1e-5)
                assert p["confidence"] == max(p["probabilities"].values())
                assert set(p["probabilities"]) == {"neg", "pos"}


def test_checkpoints_are_plain_weights_and_unsafe_files_are_refused(finished, store):
    run = runs_with_models(store, finished["study"])[-1]
    state = torch.load(run["checkpoint"], weights_only=True)  # tensors only: no pickled code needed
    assert all(isinstance(v, torch.Tensor) for v in state.values())
    unsafe = Path(run["checkpoint"]).with_name("unsafe.pt")
    torch.save({"weights": state, "callback": Path("x")}, unsafe)  # an arbitrary pickled object
    store.update_run(run["id"], checkpoint=str(unsafe))
    try:
        with pytest.raises(PredictError, match="cannot be read as plain weights"):
            load_predictor(store, run["id"])
    finally:
        store.update_run(run["id"], checkpoint=run["checkpoint"])


def test_missing_or_unsaved_checkpoints_give_clear_errors(finished, store):
    run = runs_with_models(store, finished["study"])[0]
    store.update_run(run["id"], checkpoint=str(finished["home"] / "gone.pt"))
    try:
        with pytest.raises(PredictError, match=r"gone\.pt: the saved model of run \d+ is missing"):
            load_predictor(store, run["id"])
        store.update_run(run["id"], checkpoint=None)
        with pytest.raises(PredictError, match="saved no model"):
            load_predictor(store, run["id"])
    finally:
        store.update_run(run["id"], checkpoint=run["checkpoint"])
    with pytest.raises(PredictError, match="no run 9999"):
        load_predictor(store, 9999)


def test_tagging_tasks_give_one_tag_per_token(tmp_path, datasets_dir):
    lines = (datasets_dir / "conll2002_spanish" / "esp.testa").read_text(encoding="latin-1").split("\n")
    sample = tmp_path / "sample.conll"
    sample.write_text("\n".join(lines[:3000]) + "\n", encoding="utf-8")  # about 100 real sentences
    spec = StudySpec(name="tags", source={"files": [str(sample)], "format": "conll"}, seeds=1, plan="all",
                     config={"epochs": 2, "hidden": 16, "emb_dim": 16, "use_vectors": False})
    store = Store()
    study_id, _ = run_study(spec, store, echo=lambda line: None, save_models=True)
    (run,) = runs_with_models(store, study_id)
    predictor = load_predictor(store, run["id"])
    (out,) = predictor.predict(["El Gobierno de España aprobó la ley en Madrid ."])
    assert {p["kind"] for p in out.values()} == {"tagging"}
    for task, p in out.items():
        assert p["tokens"][:3] == ["el", "gobierno", "de"]
        assert len(p["tags"]) == len(p["tokens"]) == len(p["confidences"]) == 10
        assert set(p["tags"]) <= set(predictor.specs[task].labels)
        assert all(math.isclose(sum(d.values()), 1.0, abs_tol=1e-5) for d in p["probabilities"])


def test_predict_page_shows_every_tasks_prediction(finished, store):
    at = open_page("pages/5_Predict.py")
    assert not at.exception
    assert at.selectbox(key="predict_run").value["setting"] == "all"
    assert "Type a sentence" in at.info[0].value
    at.text_area(key="predict_text").input("bazovi bape balofe satipe vigape huzo").run()
    assert not at.exception
    scores, table = at.dataframe[0].value, at.dataframe[1].value
    assert list(scores["task"]) == ["base", "related"]  # the run's own test scores, stored with it
    assert ((scores["accuracy"] > 0) & (scores["accuracy"] <= 1)).all()
    majority = {b["task"]: b["value"] for b in store.baselines(finished["study"])
                if b["method"] == "majority" and b["metric"] == "accuracy"}
    guessing = [t for t, a in zip(scores["task"], scores["accuracy"]) if a <= majority[t]]
    warned = [w.value for w in at.warning if "answers are guesses" in w.value]
    assert bool(warned) == bool(guessing) and all(f"{t}: accuracy" in warned[0] for t in guessing)
    assert "applies? accuracy" not in scores  # synthetic tasks apply to every sentence
    assert list(table["task"]) == ["base", "related"]
    assert set(table["answer"]) <= {"neg", "pos"}
    assert set(table["applies? P"]) == {"always"}
    assert ((table["confidence"] >= 0.5) & (table["confidence"] <= 1)).all()
    assert len(at.get("plotly_chart")) == 1
    side = at.dataframe[2].value  # alone vs together: each task's single run beside the run of both
    assert list(side["task"]) == ["base", "related"] and set(side["together"]) <= {"neg", "pos"}
    at.selectbox(key="predict_run").select_index(0).run()  # the 'base' task alone
    assert not at.exception
    assert list(at.dataframe[0].value["task"]) == ["base"]

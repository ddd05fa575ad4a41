"""A study exported to MLflow reads back through MLflow's own client: one MLflow run per training run, with its
params, per-epoch metrics, test scores, baselines and summary.csv; exporting again updates and never duplicates."""
from __future__ import annotations

import copy
import os
import subprocess
import sys
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from mtl_core.report.mlflow_export import RUN_TAG, STATUS_TAG, export_to_mlflow
from mtl_core.results.study_results import StudyResults
from mtl_core.store import Store
from mtl_core.studies.execute import create_study, execute_study
from mtl_core.studies.presets import get_preset
from mtl_core.studies.spec import StudySpec

REPO = Path(__file__).resolve().parents[1]


def small_spec() -> StudySpec:
    synthetic = copy.deepcopy(get_preset("synthetic-demo")["synthetic"])
    synthetic["tasks"] = [{**t, "n_examples": 160} for t in synthetic["tasks"][:2]]  # base, related
    return StudySpec(name="mlflow demo", source={"synthetic": synthetic}, seeds=1,
                     config={"epochs": 2, "hidden": 8, "emb_dim": 8})


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A study exported while queued (params only), then trained and exported twice more."""
    home = tmp_path_factory.mktemp("mlflow_home")
    store = Store(home / "mtl_lab.sqlite")
    uri = (home / "mlruns").as_uri()
    study_id = create_study(small_spec(), store)
    queued = export_to_mlflow(store, study_id, uri)
    execute_study(study_id, store, echo=lambda line: None, save_models=False, raise_errors=True)
    finished = export_to_mlflow(store, study_id, uri)
    again = export_to_mlflow(store, study_id, uri)
    return store, study_id, uri, (queued, finished, again)


def test_exporting_again_updates_and_never_duplicates(exported):
    _, _, uri, (queued, finished, again) = exported
    assert queued == {**queued, "runs": 3, "created": 3, "updated": 0, "unchanged": 0}
    assert finished == {**finished, "runs": 3, "created": 0, "updated": 3, "unchanged": 0}
    assert again == {**again, "runs": 3, "created": 0, "updated": 0, "unchanged": 3}
    client = MlflowClient(tracking_uri=uri)
    assert len(client.search_runs([queued["experiment_id"]])) == 3


def test_every_run_reads_back_with_its_params_curves_scores_and_baselines(exported):
    store, study_id, uri, (queued, *_) = exported
    results = StudyResults.load(store, study_id)
    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment(queued["experiment_id"])
    assert study_id in experiment.name and experiment.tags["mtl_lab.study_id"] == study_id
    mlflow_runs = {r.data.tags[RUN_TAG]: r for r in client.search_runs([experiment.experiment_id])}
    assert set(mlflow_runs) == {str(r["id"]) for r in results.runs}
    for run in results.runs:
        got = mlflow_runs[str(run["id"])]
        assert got.info.status == "FINISHED" and got.data.tags[STATUS_TAG] == "done"
        params = got.data.params
        assert params["hidden"] == "8" and params["backbone"] == run["config"]["backbone"]
        assert params["seed"] == str(run["seed"]) and params["tasks"] == "+".join(run["tasks"])
        assert set(run["config"]) <= set(params)  # the whole RunConfig
        for task in run["tasks"]:
            history = client.get_metric_history(got.info.run_id, f"{task}/val_accuracy")
            assert sorted(m.step for m in history) == list(range(1, run["epochs_run"] + 1))  # once per epoch
            score = next(s["value"] for s in results.scores
                         if s["run_id"] == run["id"] and s["task"] == task and s["metric"] == "accuracy")
            assert got.data.metrics[f"test/{task}/accuracy"] == pytest.approx(score)
            baseline = next(b["value"] for b in results.baselines
                            if b["task"] == task and b["method"] == "tfidf-lr" and b["metric"] == "accuracy")
            assert got.data.metrics[f"baseline/tfidf-lr/{task}/accuracy"] == pytest.approx(baseline)
        assert got.data.metrics["epochs_run"] == run["epochs_run"]
        artifacts = [a.path for a in client.list_artifacts(got.info.run_id)]
        assert artifacts == ["summary.csv"]
        summary = Path(client.download_artifacts(got.info.run_id, "summary.csv")).read_text()
        assert summary.startswith("task,setting,metric,mean,ci_low,ci_high,n_seeds,majority_baseline")


def test_cli_mlflow_export_defaults_to_a_file_store_under_out(exported, tmp_path):
    store, study_id, _, _ = exported
    env = {**os.environ, "MTL_LAB_HOME": str(Path(store.path).parent)}
    done = subprocess.run([sys.executable, "-m", "mtl_core", "export", study_id, "--mlflow", "--out", str(tmp_path)],
                          cwd=REPO, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "3 runs (3 new, 0 updated, 0 unchanged)" in done.stdout
    client = MlflowClient(tracking_uri=(tmp_path / "mlruns").as_uri())
    assert len(client.search_experiments()) >= 1
    assert len(client.search_runs([e.experiment_id for e in client.search_experiments()])) == 3

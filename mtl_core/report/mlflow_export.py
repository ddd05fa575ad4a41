"""A study as an MLflow experiment: one MLflow run per training run, with its RunConfig as params, its per-epoch
curves as metric histories (step = epoch), its test scores, the study's baselines, and summary.csv as an artifact.

Re-exporting updates instead of duplicating: each MLflow run carries our run id as the tag ``mtl_lab.run_id`` and
is found by it. Metrics are logged once, when the run has finished (a run still queued or training gets its params
and status only, and its metrics on the export after it finishes), so no metric history holds a point twice.
``summary.csv`` is written again on every export (the study's table grows as runs finish).

The default tracking store is a local ``file:`` folder (``MTL_LAB_HOME/mlruns``); MLflow 3 keeps that backend
in maintenance and asks for ``MLFLOW_ALLOW_FILE_STORE=true`` before using it, which this module sets for file
stores only. ``mlflow ui --backend-store-uri <that folder>`` browses it.
"""
from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path

from mtl_core.errors import ConfigError
from mtl_core.paths import mtl_home
from mtl_core.results.export import write_csv
from mtl_core.results.study_results import StudyResults
from mtl_core.results.summary import COLUMNS, summary_rows
from mtl_core.status import Status
from mtl_core.store import Store

RUN_TAG, STUDY_TAG, STATUS_TAG = "mtl_lab.run_id", "mtl_lab.study_id", "mtl_lab.status"
MLFLOW_STATUS = {Status.DONE: "FINISHED", Status.FAILED: "FAILED", Status.CANCELLED: "KILLED",
                 Status.QUEUED: "SCHEDULED", Status.RUNNING: "RUNNING"}
MAX_PARAM_CHARS = 6000  # MLflow's limit on a param value


def default_tracking_uri(folder: str | Path | None = None) -> str:
    """A local ``file:`` store: ``folder``/mlruns, else ``MTL_LAB_HOME``/mlruns."""
    return (Path(folder) if folder else mtl_home()).resolve().joinpath("mlruns").as_uri()


def _client(tracking_uri: str):
    try:
        from mlflow.tracking import MlflowClient
    except ImportError as exc:
        raise ConfigError("MLflow export needs the 'mlflow-skinny' package: pip install -r requirements.txt "
                          "(or pip install mlflow-skinny).") from exc
    if tracking_uri.startswith("file:") or "://" not in tracking_uri:
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")  # see the module docstring
    return MlflowClient(tracking_uri=tracking_uri)


def metric_key(*parts: str) -> str:
    """An MLflow metric name from parts joined by '/'; characters MLflow refuses become '_'."""
    return "/".join(re.sub(r"[^\w\-. ]", "_", p) for p in parts if p)


def run_params(run: dict) -> dict[str, str]:
    """The run's RunConfig (lists and dicts as JSON) and what it trained: setting, tasks, seed."""
    values = {**(run.get("config") or {}), "setting": run["setting"], "tasks": "+".join(run["tasks"]),
              "seed": run["seed"]}
    return {k: (json.dumps(v) if isinstance(v, (list, dict)) else str(v))[:MAX_PARAM_CHARS] for k, v in values.items()}


def run_metrics(results: StudyResults, run: dict) -> list[tuple[str, float, int]]:
    """(key, value, step): each curve point (step = epoch), each test score (step 0), the timings, and the
    baselines of the run's tasks (majority and TF-IDF + LR on the same test split)."""
    out = [(metric_key(c["task"], c["name"]), float(c["value"]), int(c["epoch"]))
           for c in results.run_curves(run["id"]) if c["value"] is not None]
    out += [(metric_key("test", s["task"], s["metric"]), float(s["value"]), 0)
            for s in results.scores if s["run_id"] == run["id"] and s["value"] is not None]
    out += [(metric_key("aux_test", s["task"], s["metric"]), float(s["value"]), 0)
            for s in results.aux_scores if s["run_id"] == run["id"] and s["value"] is not None]
    out += [(k, float(run[k]), 0) for k in ("best_epoch", "epochs_run", "train_seconds", "examples_per_second")
            if run.get(k) is not None]
    out += [(metric_key("baseline", b["method"], b["task"], b["metric"]), float(b["value"]), 0)
            for b in results.baselines if b["task"] in run["tasks"] and b["value"] is not None]
    return out


def _experiment(client, results: StudyResults) -> str:
    name = f"MTL Lab · {results.name} · {results.id}"
    found = client.get_experiment_by_name(name)
    if found is not None:
        if found.lifecycle_stage == "deleted":
            client.restore_experiment(found.experiment_id)
        return found.experiment_id
    return client.create_experiment(name, tags={STUDY_TAG: results.id, "mtl_lab.study_name": results.name})


def _existing_runs(client, experiment_id: str) -> dict[str, object]:
    """Our run id -> the MLflow run already exported for it."""
    found, token = {}, None
    while True:
        page = client.search_runs([experiment_id], max_results=1000, page_token=token)
        found.update({r.data.tags[RUN_TAG]: r for r in page if RUN_TAG in r.data.tags})
        token = page.token
        if not token:
            return found


def _ms(seconds: float | None) -> int | None:
    return int(seconds * 1000) if seconds else None


def _log_run(client, experiment_id: str, results: StudyResults, run: dict, existing) -> tuple[str, str]:
    """Create or update one MLflow run; returns ("created", "updated" or "unchanged", its MLflow run id)."""
    from mlflow.entities import Metric, Param, RunTag

    status = str(run["status"])
    if existing is not None and existing.data.tags.get(STATUS_TAG) == status:
        return "unchanged", existing.info.run_id
    if existing is None:
        created = client.create_run(experiment_id, start_time=_ms(run.get("started")),
                                    run_name=f"{run['setting']} {'+'.join(run['tasks'])} seed {run['seed']}",
                                    tags={RUN_TAG: str(run["id"]), STUDY_TAG: results.id})
        mlflow_id = created.info.run_id
        client.log_batch(mlflow_id, params=[Param(k, v) for k, v in run_params(run).items()])
    else:
        mlflow_id = existing.info.run_id
    stamp = _ms(run.get("finished")) or _ms(run.get("started")) or 0
    metrics = [Metric(k, v, stamp, step) for k, v, step in run_metrics(results, run)] if status == Status.DONE else []
    for start in range(0, len(metrics), 1000):  # MLflow takes at most 1000 metrics per batch
        client.log_batch(mlflow_id, metrics=metrics[start:start + 1000])
    client.log_batch(mlflow_id, tags=[RunTag(STATUS_TAG, status)] + ([RunTag("error", run["error"][:5000])]
                                                                     if run.get("error") else []))
    if status in (Status.DONE, Status.FAILED, Status.CANCELLED):
        client.set_terminated(mlflow_id, MLFLOW_STATUS[status], end_time=_ms(run.get("finished")))
    else:
        client.update_run(mlflow_id, status=MLFLOW_STATUS.get(status, "RUNNING"))
    return ("created" if existing is None else "updated"), mlflow_id


def export_to_mlflow(store: Store, study_id: str, tracking_uri: str | None = None) -> dict:
    """Log the study to MLflow (see the module docstring); returns the counts: ``runs`` (in the study),
    ``created``, ``updated``, ``unchanged``, plus ``experiment_id`` and ``tracking_uri``."""
    results = StudyResults.load(store, study_id)
    uri = tracking_uri or default_tracking_uri()
    client = _client(uri)
    experiment_id = _experiment(client, results)
    existing = _existing_runs(client, experiment_id)
    counts = {"runs": len(results.runs), "created": 0, "updated": 0, "unchanged": 0}
    with tempfile.TemporaryDirectory() as tmp:
        summary = write_csv(summary_rows(results), Path(tmp) / "summary.csv", COLUMNS)
        for run in results.runs:
            outcome, mlflow_id = _log_run(client, experiment_id, results, run, existing.get(str(run["id"])))
            counts[outcome] += 1
            client.log_artifact(mlflow_id, str(summary))
    return {**counts, "experiment_id": experiment_id, "tracking_uri": uri}

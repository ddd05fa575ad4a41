"""Compare ways of learning tasks together: several studies of the same tasks, each with its own method.

A study trains one method (sharing, backbone, weighting, sampling, auxiliary tasks); comparing methods means
putting studies side by side: per task, each study's score trained together (or alone, for a study of one
task) with its 95% CI, and how many epochs its runs took to converge (the best epoch early stopping kept).
"""
from __future__ import annotations

from .compare import lead_metrics, lead_rows
from .stats import mean_ci
from .store import Store
from .summary import describe_method, summary_rows

COLUMNS = ["study", "method", "task", "metric", "setting", "mean", "ci_low", "ci_high", "n_seeds",
           "epochs_to_converge", "epochs_ci_low", "epochs_ci_high"]


def comparable_studies(store: Store, study_id: str) -> list[dict]:
    """Finished studies whose tasks overlap ``study_id``'s (same task names), newest first, itself included."""
    base = store.study(study_id) or {}
    tasks = set(base.get("tasks") or {})
    return [s for s in store.studies() if s["status"] == "done" and tasks & set(s.get("tasks") or {})]


def epochs_to_converge(store: Store, study_id: str, setting: str) -> tuple[float, float, float] | None:
    """Mean and 95% CI of the best epoch of the study's finished runs in ``setting``."""
    values = [float(r["best_epoch"]) for r in store.runs(study_id)
              if r["status"] == "done" and r["setting"] == setting and r.get("best_epoch")]
    if not values:
        return None
    est = mean_ci(values)
    return est.mean, est.ci_low, est.ci_high


def method_rows(store: Store, study_ids: list[str]) -> list[dict]:
    """Rows of COLUMNS: per study and task, the multitask score ('all'; 'single' when the study trained no
    multitask run, e.g. one task plus auxiliary tasks) on the task's lead metric."""
    rows = []
    for study_id in study_ids:
        study = store.study(study_id)
        lead = lead_metrics(study.get("tasks") or {})
        summary = [r for r in lead_rows(summary_rows(store, study_id), lead) if r["setting"] in ("single", "all")]
        setting = "all" if any(r["setting"] == "all" for r in summary) else "single"
        epochs = epochs_to_converge(store, study_id, setting) or (None, None, None)
        for r in summary:
            if r["setting"] == setting:
                rows.append(dict(zip(COLUMNS, [study["name"], describe_method(study["spec"].get("config", {})),
                                               r["task"], r["metric"], setting, r["mean"], r["ci_low"],
                                               r["ci_high"], r["n_seeds"], *epochs])))
    return rows

"""Compare ways of learning tasks together: several studies of the same tasks, each with its own method.

A study trains one method (sharing, backbone, weighting, sampling, auxiliary tasks); comparing methods means
putting studies side by side: per task, each study's score trained together (or alone, for a study of one
task) with its 95% CI, and how fast its runs learned, two ways:

- epochs to converge: the best epoch early stopping kept. A method that keeps improving for longer (a
  regulariser, e.g. auxiliary tasks) scores *later* here even when it is ahead at every epoch.
- epochs to reach the target: the first epoch whose validation score reached the level that every compared
  run reached (the lowest best validation score among them): who gets to the same quality first, the sense
  in which the literature says multitask models "converge in fewer epochs". Every run reaches it, so no run
  is left out or given a made-up value.
"""
from __future__ import annotations

from mtl_core.results.gains import lead_rows
from mtl_core.results.stats import mean_ci
from mtl_core.results.study_results import StudyResults
from mtl_core.results.summary import describe_method, summary_rows
from mtl_core.status import Status

COLUMNS = ["study", "method", "task", "metric", "setting", "mean", "ci_low", "ci_high", "n_seeds",
           "epochs_to_converge", "epochs_ci_low", "epochs_ci_high",
           "target", "epochs_to_target", "target_ci_low", "target_ci_high"]


def comparable_studies(studies: list[dict], study: dict) -> list[dict]:
    """Of ``studies`` (``Store.studies`` rows, newest first), the finished ones whose tasks overlap ``study``'s
    (same task names), in the same order, ``study`` itself included when it is finished."""
    tasks = set(study.get("tasks") or {})
    return [s for s in studies if s["status"] == Status.DONE and tasks & set(s.get("tasks") or {})]


def epochs_to_converge(results: StudyResults, setting: str) -> tuple[float, float, float] | None:
    """Mean and 95% CI of the best epoch of the study's finished runs in ``setting``."""
    values = [float(r["best_epoch"]) for r in results.finished_runs if r["setting"] == setting and r.get("best_epoch")]
    if not values:
        return None
    est = mean_ci(values)
    return est.mean, est.ci_low, est.ci_high


def validation_curves(results: StudyResults, setting: str, task: str, metric: str) -> list[list[float]]:
    """Per finished run in ``setting``: the task's validation ``metric`` at each epoch, in epoch order."""
    return [[c["value"] for c in results.run_curves(r["id"]) if c["task"] == task and c["name"] == f"val_{metric}"]
            for r in results.finished_runs if r["setting"] == setting]


def epochs_to_reach(curves: list[list[float]], target: float) -> list[int]:
    """Per run that reached ``target``: the first epoch (from 1) whose score is >= it."""
    return [next(k for k, v in enumerate(curve, 1) if v >= target) for curve in curves
            if curve and max(curve) >= target]


def shared_target(curves: list[list[float]]) -> float | None:
    """The validation score every run reached: the lowest of the runs' best scores (None without curves)."""
    bests = [max(curve) for curve in curves if curve]
    return min(bests) if bests else None


def row_setting(summary: list[dict]) -> str:
    """The setting a study is compared in: 'all' (trained together), or 'single' for a one-task study."""
    return "all" if any(r["setting"] == "all" for r in summary) else "single"


def method_rows(studies: list[StudyResults]) -> list[dict]:
    """Rows of COLUMNS: per study and task, the multitask score ('all'; 'single' when the study trained no
    multitask run, e.g. one task plus auxiliary tasks) on the task's lead metric, its epochs to converge, and
    its epochs to reach the target shared by all ``studies`` for that task."""
    found = []
    for results in studies:
        summary = [r for r in lead_rows(summary_rows(results), results.lead) if r["setting"] in ("single", "all")]
        setting = row_setting(summary)
        epochs = epochs_to_converge(results, setting) or (None, None, None)
        for r in summary:
            if r["setting"] == setting:
                found.append((results, r, epochs, validation_curves(results, setting, r["task"], r["metric"])))
    targets = {task: shared_target([c for _, r, _, runs in found if r["task"] == task for c in runs])
               for task in {r["task"] for _, r, _, _ in found}}
    rows = []
    for results, r, epochs, curves in found:
        target = targets[r["task"]]
        reach = epochs_to_reach(curves, target) if target is not None else []
        est = mean_ci([float(k) for k in reach]) if reach else None
        rows.append(dict(zip(COLUMNS, [results.name, describe_method(results.config),
                                       r["task"], r["metric"], r["setting"], r["mean"], r["ci_low"], r["ci_high"],
                                       r["n_seeds"], *epochs, target,
                                       *((est.mean, est.ci_low, est.ci_high) if est else (None, None, None))])))
    return rows

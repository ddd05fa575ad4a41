"""Single-task vs multitask, per task: paired per-seed deltas with a verdict the CI supports."""
from __future__ import annotations

from collections import defaultdict

from .stats import paired_delta
from .store import Store
from .tasks import TaskSpec

HELPS, HURTS, UNCLEAR = "helps", "hurts", "no clear difference"
DELTA_COLUMNS = ["task", "metric", "single", "all", "delta", "ci_low", "ci_high", "n_seeds", "verdict"]


def lead_metrics(tasks: dict[str, dict]) -> dict[str, str]:
    """Each task's lead metric (the one model selection uses), from a study's stored task specs."""
    return {name: TaskSpec(**spec).selection_metric for name, spec in tasks.items()}


def paired_deltas(scores: list[dict], lead: dict[str, str], setting: str = "all",
                  baseline: str = "single") -> list[dict]:
    """Per task: ``setting`` minus ``baseline`` on the lead metric, paired by seed, with a verdict.

    ``scores`` are rows of ``Store.scores`` (setting, seed, task, metric, value). The verdict is
    "helps" or "hurts" only when the 95% CI of the mean per-seed difference excludes 0.
    """
    by_seed: dict[tuple[str, str], dict[int, float]] = defaultdict(dict)
    for s in scores:
        if lead.get(s["task"]) == s["metric"] and s["value"] is not None:
            by_seed[(s["task"], s["setting"])][s["seed"]] = s["value"]
    rows = []
    for task, metric in lead.items():
        alone, together = by_seed.get((task, baseline), {}), by_seed.get((task, setting), {})
        seeds = sorted(set(alone) & set(together))
        if not seeds:
            continue
        est, significant = paired_delta([together[k] for k in seeds], [alone[k] for k in seeds])
        verdict = (HELPS if est.mean > 0 else HURTS) if significant else UNCLEAR
        rows.append(dict(zip(DELTA_COLUMNS, [
            task, metric, sum(alone[k] for k in seeds) / len(seeds), sum(together[k] for k in seeds) / len(seeds),
            est.mean, est.ci_low, est.ci_high, est.n, verdict])))
    return rows


def study_deltas(store: Store, study_id: str) -> list[dict]:
    """``paired_deltas`` for a stored study: all tasks together vs each task alone."""
    tasks = (store.study(study_id) or {}).get("tasks") or {}
    return paired_deltas(store.scores(study_id), lead_metrics(tasks))


def lead_rows(summary: list[dict], lead: dict[str, str]) -> list[dict]:
    """The summary rows on each task's lead metric (the ones a per-task chart shows), tasks in study order."""
    order = {task: k for k, task in enumerate(lead)}
    rows = [r for r in summary if lead.get(r["task"]) == r["metric"]]
    return sorted(rows, key=lambda r: order[r["task"]])

"""Single-task vs multitask, per task: paired per-seed deltas with a verdict the CI supports."""
from __future__ import annotations

from collections import defaultdict

from mtl_core.results.stats import paired_delta
from mtl_core.results.summary import labelled_scores, setting_rank
from mtl_core.store import Store
from mtl_core.tasks import TaskSpec

HELPS, HURTS, UNCLEAR = "helps", "hurts", "no clear difference"
DELTA_COLUMNS = ["task", "metric", "single", "all", "delta", "ci_low", "ci_high", "n_seeds", "verdict"]
SETTING_DELTA_COLUMNS = ["task", "setting", "metric", "single", "multitask", "delta", "ci_low", "ci_high",
                         "n_seeds", "verdict"]
NOT_MULTITASK = ("single", "tfidf-lr")


def lead_metrics(tasks: dict[str, dict]) -> dict[str, str]:
    """Each task's lead metric (the one model selection uses), from a study's stored task specs."""
    return {name: TaskSpec(**spec).selection_metric for name, spec in tasks.items()}


def _lead_by_seed(scores: list[dict], lead: dict[str, str]) -> dict[tuple[str, str], dict[int, float]]:
    """{(task, setting): {seed: value}} on each task's lead metric."""
    by_seed: dict[tuple[str, str], dict[int, float]] = defaultdict(dict)
    for s in scores:
        if lead.get(s["task"]) == s["metric"] and s["value"] is not None:
            by_seed[(s["task"], s["setting"])][s["seed"]] = s["value"]
    return by_seed


def _delta(alone: dict[int, float], together: dict[int, float]) -> dict | None:
    """Means, the paired delta (together - alone over shared seeds), its CI and the verdict; None if no seed is shared."""
    seeds = sorted(set(alone) & set(together))
    if not seeds:
        return None
    est, significant = paired_delta([together[k] for k in seeds], [alone[k] for k in seeds])
    return {"single": sum(alone[k] for k in seeds) / len(seeds), "multitask": sum(together[k] for k in seeds) / len(seeds),
            "delta": est.mean, "ci_low": est.ci_low, "ci_high": est.ci_high, "n_seeds": est.n,
            "verdict": (HELPS if est.mean > 0 else HURTS) if significant else UNCLEAR, "significant": significant}


def paired_deltas(scores: list[dict], lead: dict[str, str], setting: str = "all",
                  baseline: str = "single") -> list[dict]:
    """Per task: ``setting`` minus ``baseline`` on the lead metric, paired by seed, with a verdict.

    ``scores`` are rows of ``Store.scores`` (setting, seed, task, metric, value). The verdict is
    "helps" or "hurts" only when the 95% CI of the mean per-seed difference excludes 0.
    """
    by_seed = _lead_by_seed(scores, lead)
    rows = []
    for task, metric in lead.items():
        d = _delta(by_seed.get((task, baseline), {}), by_seed.get((task, setting), {}))
        if d is not None:
            rows.append({"task": task, "metric": metric, **d, "all": d["multitask"]})
    return [{k: r[k] for k in DELTA_COLUMNS} for r in rows]


def setting_deltas(scores: list[dict], lead: dict[str, str], baseline: str = "single") -> list[dict]:
    """``paired_deltas`` for every multitask setting at once ('all', 'with:<partner>', 'group:a+b', ...).

    ``scores`` carry per-task settings (``summary.labelled_scores``). Rows of SETTING_DELTA_COLUMNS plus
    ``significant`` (the CI excludes 0), tasks in study order, settings in summary order.
    """
    by_seed = _lead_by_seed(scores, lead)
    order = {task: k for k, task in enumerate(lead)}
    rows = []
    for (task, setting), together in by_seed.items():
        if setting not in NOT_MULTITASK and setting != baseline:
            d = _delta(by_seed.get((task, baseline), {}), together)
            if d is not None:
                rows.append({"task": task, "setting": setting, "metric": lead[task], **d})
    return sorted(rows, key=lambda r: (order[r["task"]], setting_rank(r["setting"], order)))


def study_deltas(store: Store, study_id: str) -> list[dict]:
    """``paired_deltas`` for a stored study: all tasks together vs each task alone."""
    tasks = (store.study(study_id) or {}).get("tasks") or {}
    return paired_deltas(store.scores(study_id), lead_metrics(tasks))


def study_setting_deltas(store: Store, study_id: str) -> list[dict]:
    """``setting_deltas`` for a stored study: every multitask setting vs each task alone."""
    tasks = (store.study(study_id) or {}).get("tasks") or {}
    return setting_deltas(labelled_scores(store, study_id), lead_metrics(tasks))


def lead_rows(summary: list[dict], lead: dict[str, str]) -> list[dict]:
    """The summary rows on each task's lead metric (the ones a per-task chart shows), tasks in study order."""
    order = {task: k for k, task in enumerate(lead)}
    rows = [r for r in summary if lead.get(r["task"]) == r["metric"]]
    return sorted(rows, key=lambda r: order[r["task"]])

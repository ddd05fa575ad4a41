"""Single-task vs multitask, per task: paired per-seed deltas with a verdict the CI supports."""
from __future__ import annotations

from collections import defaultdict
from typing import Iterable

from mtl_core.results.stats import paired_delta
from mtl_core.results.study_results import StudyResults
from mtl_core.results.summary import setting_rank
from mtl_core.results.verdict import HELPS, HURTS, UNCLEAR, verdict  # noqa: F401  (HELPS..: re-exported)

SETTING_DELTA_COLUMNS = ["task", "setting", "metric", "single", "multitask", "delta", "ci_low", "ci_high",
                         "n_seeds", "verdict"]
DELTA_COLUMNS = ["task", "metric", "single", "all", "delta", "ci_low", "ci_high", "n_seeds", "verdict"]
NOT_MULTITASK = ("single", "tfidf-lr")


def _lead_by_seed(scores: list[dict], lead: dict[str, str]) -> dict[tuple[str, str], dict[int, float]]:
    """{(task, setting): {seed: value}} on each task's lead metric."""
    by_seed: dict[tuple[str, str], dict[int, float]] = defaultdict(dict)
    for s in scores:
        if lead.get(s["task"]) == s["metric"] and s["value"] is not None:
            by_seed[(s["task"], s["setting"])][s["seed"]] = s["value"]
    return by_seed


def _delta(alone: dict[int, float], together: dict[int, float]) -> dict | None:
    """Means, the paired delta (together - alone over shared seeds), its CI (None with one seed) and the verdict
    (``verdict.verdict``); None if no seed is shared."""
    seeds = sorted(set(alone) & set(together))
    if not seeds:
        return None
    est, significant = paired_delta([together[k] for k in seeds], [alone[k] for k in seeds])
    return {"single": sum(alone[k] for k in seeds) / len(seeds), "multitask": sum(together[k] for k in seeds) / len(seeds),
            "delta": est.mean, "ci_low": est.ci_low, "ci_high": est.ci_high, "n_seeds": est.n,
            "verdict": verdict(est), "significant": significant}


def paired_deltas(scores: list[dict], lead: dict[str, str], settings: Iterable[str] | None = None,
                  baseline: str = "single") -> list[dict]:
    """Per task and multitask setting: the setting minus ``baseline`` on the lead metric, paired by seed.

    ``scores`` are score rows (run_id, setting, seed, task, metric, value) whose settings are labelled per task
    (``StudyResults.scores``: 'all', 'with:<partner>', 'group:a+b', ...). ``settings``: only these (e.g.
    ``["all"]``); None: every multitask setting. Rows of SETTING_DELTA_COLUMNS plus ``significant``, tasks in
    study order, settings in summary order. The verdict is "helps" or "hurts" only when the 95% CI of the mean
    per-seed difference excludes 0, and "run ≥ 2 seeds" with one seed (no CI). ``lead`` may map each task to
    any metric it was scored on (the Compare page's metric picker), not only its lead metric.
    """
    wanted = None if settings is None else set(settings)
    by_seed = _lead_by_seed(scores, lead)
    order = {task: k for k, task in enumerate(lead)}
    rows = []
    for (task, setting), together in by_seed.items():
        if setting in NOT_MULTITASK or setting == baseline or (wanted is not None and setting not in wanted):
            continue
        d = _delta(by_seed.get((task, baseline), {}), together)
        if d is not None:
            rows.append({"task": task, "setting": setting, "metric": lead[task], **d})
    return sorted(rows, key=lambda r: (order[r["task"]], setting_rank(r["setting"], order)))


def study_deltas(results: StudyResults) -> list[dict]:
    """Rows of DELTA_COLUMNS: per task, all tasks trained together ('all') vs the task alone."""
    return [{c: d["multitask"] if c == "all" else d[c] for c in DELTA_COLUMNS}
            for d in paired_deltas(results.scores, results.lead, settings=["all"])]


def lead_rows(summary: list[dict], lead: dict[str, str]) -> list[dict]:
    """The summary rows on each task's lead metric (the ones a per-task chart shows), tasks in study order."""
    order = {task: k for k, task in enumerate(lead)}
    rows = [r for r in summary if lead.get(r["task"]) == r["metric"]]
    return sorted(rows, key=lambda r: order[r["task"]])

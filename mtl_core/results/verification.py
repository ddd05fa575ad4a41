"""A verification study's results: the predicted grouping measured, beside each task alone and all together.

A verification (``studies.verify``) trains a subsets study's recommended grouping, every task alone and every task
together on one split, for each seed; its spec holds the prediction (``verifies``). Per task
(``verification_rows``): the score predicted in its group, the score measured there (mean over seeds with a 95%
t-interval; none from one seed), whether the prediction fell inside that interval, and the paired per-seed
differences group - alone and group - all with their intervals and verdicts (``gains.paired_deltas``: the same
rule as every other delta). For the grouping as a whole (``verification_summary``): per seed, the mean per-task
score of the grouping, of all together and of each alone; their means over seeds with intervals, and the
grouping's paired differences with the other two.

A task alone in the grouping is measured by its single run (group - alone is then not a difference); a group of
every task is the all-tasks run (group - all is then not a difference).
"""
from __future__ import annotations

from mtl_core.results.gains import _lead_by_seed, paired_deltas
from mtl_core.results.stats import Estimate, mean_ci
from mtl_core.results.study_results import StudyResults, setting_label
from mtl_core.results.summary import summary_rows
from mtl_core.results.verdict import verdict

VERIFICATION_COLUMNS = ["task", "group", "setting", "metric", "predicted", "predicted_gain", "measured", "ci_low",
                        "ci_high", "n_seeds", "prediction_in_ci", "alone", "all", "vs_alone", "vs_alone_low",
                        "vs_alone_high", "vs_alone_verdict", "vs_all", "vs_all_low", "vs_all_high", "vs_all_verdict"]
SUMMARY_COLUMNS = ["arrangement", "mean", "ci_low", "ci_high", "n_seeds", "predicted", "grouping_minus",
                   "delta_low", "delta_high", "verdict"]
GROUPING, ALL, ALONE = "recommended grouping", "all together", "each alone"
MEAN = "mean per task"
NO_SCORE = dict.fromkeys(("mean", "ci_low", "ci_high", "n_seeds"))


def verifies(results: StudyResults) -> dict | None:
    """The prediction a verification study measures (``StudySpec.verifies``); None for any other study."""
    return results.spec.get("verifies") or None


def task_groups(results: StudyResults) -> dict[str, list[str]]:
    """Task -> its group in the verified grouping, tasks in study order."""
    groups = {t: g for g in verifies(results)["groups"] for t in g}
    order = list(results.tasks) or sorted(groups)
    return {t: groups[t] for t in sorted(groups, key=lambda t: order.index(t) if t in order else len(order))}


def group_settings(results: StudyResults) -> dict[str, str]:
    """Task -> the setting label its group's scores carry: 'single' alone, 'all' for a group of every task,
    else 'group:a+b' (``study_results.setting_label``)."""
    groups = task_groups(results)
    every = set(results.tasks or groups)
    return {t: setting_label("single" if len(g) == 1 else "all" if set(g) == every else "group", g, t)
            for t, g in groups.items()}


def _predicted(results: StudyResults, metrics: dict[str, str], task: str) -> tuple[float | None, float | None]:
    """The predicted score and gain of ``task`` when shown on the metric they were predicted on, else None."""
    v = verifies(results)
    if (v.get("metrics") or results.lead).get(task) != metrics.get(task) or task not in v["predicted"]:
        return None, None
    return v["predicted"][task], v["predicted_gain"].get(task)


def _flipped(d: dict | None) -> dict | None:
    """A paired delta the other way round (alone - all from all - alone): the t-interval is symmetric."""
    if d is None:
        return None
    low, high = (None, None) if d["ci_low"] is None else (-d["ci_high"], -d["ci_low"])
    return {**d, "delta": -d["delta"], "ci_low": low, "ci_high": high,
            "verdict": verdict(Estimate(-d["delta"], low, high, d["n_seeds"]))}


def _delta_columns(prefix: str, d: dict | None) -> dict:
    keys = ("delta", "ci_low", "ci_high", "verdict")
    return dict(zip([prefix, f"{prefix}_low", f"{prefix}_high", f"{prefix}_verdict"],
                    [d[k] for k in keys] if d else [None] * 4))


def on_new_seeds(spec: dict) -> bool:
    """Whether a verification study trained on seeds its parent did not use (``studies.verify``). One queued before
    verifications took new seeds (no ``first_seed``) trained on the parent's own: its alone and all-together runs
    are the very runs the surrogate was fitted on, so it is no independent check."""
    return spec.get("first_seed", 0) > 0


def verifications_of(store, study_id: str, groups: list[list[str]] | None = None) -> list[dict]:
    """The verification studies of ``study_id``'s predicted grouping, newest first: {id, name, status, max_groups,
    groups, new_seeds}; only those of ``groups`` (in any order) when given (a parent given more seeds may predict
    another)."""
    wanted = None if groups is None else {frozenset(g) for g in groups}
    found = []
    for study in store.studies():
        v = (study.get("spec") or {}).get("verifies") or {}
        if v.get("study") == study_id and (wanted is None or {frozenset(g) for g in v.get("groups", [])} == wanted):
            found.append({"id": study["id"], "name": study["name"], "status": study["status"],
                          "max_groups": v.get("max_groups"), "groups": v.get("groups", []),
                          "new_seeds": on_new_seeds(study["spec"])})
    return found


def verification_rows(results: StudyResults, metrics: dict[str, str] | None = None) -> list[dict]:
    """Rows of VERIFICATION_COLUMNS, one per task in study order (see the module docstring); [] when ``results``
    is not a verification study. ``metrics``: task -> metric shown (default: each task's lead metric; the
    prediction is shown only on the metric it was made on). ``prediction_in_ci``: None without an interval."""
    if verifies(results) is None:
        return []
    metrics = metrics or results.lead
    groups, labels = task_groups(results), group_settings(results)
    summary = {(r["task"], r["setting"], r["metric"]): r for r in summary_rows(results)}
    vs_alone = {(d["task"], d["setting"]): d for d in paired_deltas(results.scores, metrics)}
    vs_all = {(d["task"], d["setting"]): d for d in paired_deltas(results.scores, metrics, baseline="all")}
    rows = []
    for task, setting in labels.items():
        metric = metrics.get(task)
        measured = summary.get((task, setting, metric), NO_SCORE)
        predicted, gain = _predicted(results, metrics, task)
        inside = None if predicted is None or measured["ci_low"] is None else \
            measured["ci_low"] <= predicted <= measured["ci_high"]
        against_all = None if setting == "all" else (  # alone: all - alone, the other way round
            _flipped(vs_alone.get((task, "all"))) if setting == "single" else vs_all.get((task, setting)))
        rows.append({"task": task, "group": "+".join(groups[task]), "setting": setting, "metric": metric,
                     "predicted": predicted, "predicted_gain": gain, "measured": measured["mean"],
                     "ci_low": measured["ci_low"], "ci_high": measured["ci_high"], "n_seeds": measured["n_seeds"],
                     "prediction_in_ci": inside,
                     "alone": summary.get((task, "single", metric), NO_SCORE)["mean"],
                     "all": summary.get((task, "all", metric), NO_SCORE)["mean"],
                     **_delta_columns("vs_alone", None if setting == "single" else vs_alone.get((task, setting))),
                     **_delta_columns("vs_all", against_all)})
    return rows


def _mean_per_task(results: StudyResults, metrics: dict[str, str], labels: dict[str, str]) -> list[dict]:
    """Score rows (task MEAN, setting = arrangement, seed, value): per seed, the mean over every task of its score
    in that arrangement, on the seeds where every task has one."""
    by_seed = _lead_by_seed(results.scores, metrics)
    rows = []
    for arrangement, setting_of in ((GROUPING, labels.get), (ALL, lambda t: "all"), (ALONE, lambda t: "single")):
        values = [by_seed.get((t, setting_of(t)), {}) for t in labels]
        seeds = set.intersection(*map(set, values)) if values else set()
        rows += [{"task": MEAN, "setting": arrangement, "seed": seed, "metric": MEAN,
                  "value": sum(v[seed] for v in values) / len(values)} for seed in sorted(seeds)]
    return rows


def verification_summary(results: StudyResults, metrics: dict[str, str] | None = None) -> list[dict]:
    """Rows of SUMMARY_COLUMNS for the recommended grouping, all together and each alone: the mean per-task score
    over seeds with its 95% interval, the predicted mean where there is one, and the grouping minus that
    arrangement paired by seed (``grouping_minus``), with its interval and verdict ("helps": the grouping scores
    higher). [] when ``results`` is not a verification study."""
    if verifies(results) is None:
        return []
    metrics = metrics or results.lead
    labels = group_settings(results)
    scores = _mean_per_task(results, metrics, labels)
    predicted = [_predicted(results, metrics, t) for t in labels]
    known = bool(predicted) and all(p is not None and g is not None for p, g in predicted)
    expected = {GROUPING: sum(p for p, _ in predicted) / len(predicted),
                ALONE: sum(p - g for p, g in predicted) / len(predicted)} if known else {}
    deltas = {}  # baseline -> the grouping minus it, paired by seed
    for baseline in (ALL, ALONE):
        deltas.update({baseline: d for d in paired_deltas(scores, {MEAN: MEAN}, settings=[GROUPING],
                                                          baseline=baseline)})
    rows = []
    for arrangement in (GROUPING, ALL, ALONE):
        est = mean_ci([s["value"] for s in scores if s["setting"] == arrangement])
        if est.n:
            d = deltas.get(arrangement)
            rows.append(dict(zip(SUMMARY_COLUMNS, [arrangement, est.mean, est.ci_low, est.ci_high, est.n,
                                                   expected.get(arrangement), *_delta_columns("d", d).values()])))
    return rows

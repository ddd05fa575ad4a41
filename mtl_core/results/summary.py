"""The study's results table: per task and setting, mean and 95% CI over seeds, beside the baselines.

Settings as users read them: 'single' (alone), 'all' (every task together), 'with:<partner>' (the task's
score in the pair run with that partner), 'group:<a+b+c>' (its score in that custom group), 'tfidf-lr'.
"""
from __future__ import annotations

from collections import defaultdict

from mtl_core.models.pretrained import PRETRAINED_ENCODERS
from mtl_core.results.stats import mean_ci
from mtl_core.results.study_results import StudyResults
from mtl_core.results.verdict import interval_text
from mtl_core.training.config import RunConfig

COLUMNS = ["task", "setting", "metric", "mean", "ci_low", "ci_high", "n_seeds", "majority_baseline"]
AUX_COLUMNS = ["task", "with", "metric", "mean", "ci_low", "ci_high", "n_runs"]
OVERALL = "overall"  # all classification tasks pooled: accuracy over every present (example, task) label


def summary_rows(results: StudyResults) -> list[dict]:
    """Rows of COLUMNS, one per task, setting and metric (see the module docstring); plus 'overall' rows."""
    tasks, baselines, lead = results.tasks, results.baselines, results.lead
    majority = {(b["task"], b["metric"]): b["value"] for b in baselines if b["method"] == "majority"}
    per_seed: dict[tuple[str, str, str], dict[int, float]] = defaultdict(dict)
    for s in results.scores:
        if s["metric"] != "n":
            per_seed[(s["task"], s["setting"], s["metric"])][s["seed"]] = s["value"]
    rows: list[dict] = []
    order = {name: k for k, name in enumerate(tasks)}
    for (task, setting, metric), by_seed in per_seed.items():
        est = mean_ci(list(by_seed.values()))
        rows.append(_row(task, setting, metric, est.mean, est.ci_low, est.ci_high, est.n, majority.get((task, metric))))
    for b in baselines:
        if b["method"] == "tfidf-lr":
            rows.append(_row(b["task"], "tfidf-lr", b["metric"], b["value"], None, None, 1,  # one fit: no CI
                             majority.get((b["task"], b["metric"]))))
    rows.sort(key=lambda r: (order.get(r["task"], 99), r["metric"] != lead.get(r["task"], "accuracy"),
                             r["metric"], setting_rank(r["setting"], order)))
    return rows + _overall_rows(tasks, per_seed, baselines)


def setting_rank(setting: str, task_order: dict[str, int]) -> tuple:
    """Sort key: single, all, with:<partner> (partners in task order), group:..., other, tfidf-lr."""
    if setting.startswith("with:"):
        return (2, task_order.get(setting[5:], 99), setting)
    if setting.startswith("group:"):
        return (3, 0, setting)
    return ({"single": 0, "all": 1, "tfidf-lr": 9}.get(setting, 5), 0, setting)


def _row(task, setting, metric, mean, lo, hi, n, maj) -> dict:
    return dict(zip(COLUMNS, [task, setting, metric, mean, lo, hi, n, maj]))


def _overall_rows(tasks: dict, per_seed: dict, baselines: list[dict]) -> list[dict]:
    """Accuracy pooled over classification tasks, weighted by each task's number of test labels."""
    names = [t for t, s in tasks.items() if s.get("kind") == "classification"]
    if len(names) < 2:
        return []
    rows = []
    n_test = {b["task"]: b["n"] for b in baselines if b["method"] == "majority" and b["metric"] == "accuracy"}
    total = sum(n_test.get(t, 0) for t in names)
    if not total:
        return []
    maj = sum(next((b["value"] for b in baselines if b["task"] == t and b["method"] == "majority"
                    and b["metric"] == "accuracy"), 0) * n_test.get(t, 0) for t in names) / total
    for setting in ("single", "all"):
        seeds = set.intersection(*[set(per_seed.get((t, setting, "accuracy"), {})) for t in names])
        values = [sum(per_seed[(t, setting, "accuracy")][seed] * n_test[t] for t in names) / total
                  for seed in sorted(seeds)]
        if values:
            est = mean_ci(values)
            rows.append(_row(OVERALL, setting, "accuracy", est.mean, est.ci_low, est.ci_high, est.n, maj))
    tfidf = [b for b in baselines if b["method"] == "tfidf-lr" and b["metric"] == "accuracy"]
    if len(tfidf) == len(names):
        value = sum(b["value"] * n_test[b["task"]] for b in tfidf) / total
        rows.append(_row(OVERALL, "tfidf-lr", "accuracy", value, None, None, 1, maj))
    return rows


def format_table(rows: list[dict]) -> str:
    """A plain-text table for the terminal: task, setting, metric, mean, 95% CI (or "1 seed: no interval"),
    seeds, majority."""
    w = max([10] + [len(r["setting"]) + 2 for r in rows])  # 'with:<partner>' and 'group:a+b' can be long
    lines = [f"{'task':<14}{'setting':<{w}}{'metric':<16}{'mean':>8}  {'95% CI':<20}{'seeds':>5}{'majority':>10}"]
    for r in rows:
        ci = interval_text(r["ci_low"], r["ci_high"], r["n_seeds"])
        maj = f"{r['majority_baseline']:.3f}" if r["majority_baseline"] is not None else "-"
        lines.append(f"{r['task'][:13]:<14}{r['setting']:<{w}}{r['metric']:<16}{r['mean']:>8.3f}  {ci:<20}"
                     f"{r['n_seeds']:>5}{maj:>10}")
    return "\n".join(lines)


def auxiliary_rows(results: StudyResults) -> list[dict]:
    """Rows of AUX_COLUMNS: the automatic auxiliary tasks' test scores (trained in every run, never part of the
    results above), per auxiliary task, setting and metric, mean and 95% CI over seeds."""
    run_tasks = {r["id"]: r["tasks"] for r in results.runs}
    per_seed: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    for r in results.aux_scores:
        if r["run_id"] in run_tasks:
            label = r["setting"] if r["setting"] in ("single", "all") else "+".join(run_tasks[r["run_id"]])
            per_seed[(r["task"], label, r["metric"])].append(r["value"])
    rows = []
    for (task, setting, metric), values in sorted(per_seed.items()):
        est = mean_ci(values)
        rows.append(dict(zip(AUX_COLUMNS, [task, setting, metric, est.mean, est.ci_low, est.ci_high, est.n])))
    return rows


def describe_method(config: dict) -> str:
    """One line naming a study's multitask method from its config overrides (RunConfig defaults elsewhere),
    e.g. 'hard sharing · bilstm · weighting equal · sampling proportional'."""
    c = {**RunConfig().to_dict(), **config}
    backbone = c["backbone"]
    if backbone in PRETRAINED_ENCODERS:
        backbone += (" (fine-tuned" if c["tune_pretrained"] else " (frozen") + (
            f", mean of top {c['pretrained_layers']} layers)" if c["pretrained_layers"] > 1 else ")")
    options = ", ".join(f"{k}={v}" for k, v in sorted(c["weighting_options"].items()))
    weighting = f"weighting {c['weighting']}" + (f" ({options})" if options else "")
    parts = [f"{c['sharing']} sharing", backbone, weighting, f"sampling {c['sampling']}"]
    if c["aux"]:
        parts.append("auxiliary: " + ", ".join(c["aux"]))
    return " · ".join(parts)

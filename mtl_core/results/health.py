"""Plain warnings for tasks whose models did not learn: not above the majority-class baseline (always guessing
the most common label), or below TF-IDF + logistic regression, with the likely reason.

Computed here once; the Compare page shows each warning beside its task and the CLI prints them under the table.
The likely reasons are read from what the store keeps: the split's size and the task's test-label share (how many
training examples the task had), its number of classes, and whether runs stopped while still improving.
"""
from __future__ import annotations

from mtl_core.results.study_results import StudyResults
from mtl_core.tasks import CLASSIFICATION, TaskSpec

COLUMNS = ["task", "metric", "problem", "reason", "warning"]
FEW_ROWS = 500        # below this many training examples a neural model rarely beats simple baselines
FEW_PER_CLASS = 30    # training examples per class below which a class is hard to learn
SETTING_WORDS = {"single": "alone", "all": "all tasks together"}


def _words(setting: str) -> str:
    if setting.startswith("with:"):
        return "with " + setting[5:]
    return SETTING_WORDS.get(setting, setting)


def _settings(rows: list[dict], models: list[dict]) -> str:
    """'alone 0.525 and all tasks together 0.525', or for many: 'every setting (best: with related 0.675)'."""
    if len(rows) == len(models) and len(rows) > 2:
        best = max(rows, key=lambda r: r["mean"])
        return f"every setting (best: {_words(best['setting'])} {best['mean']:.3f}) is"
    if len(rows) > 3:
        best = max(rows, key=lambda r: r["mean"])
        return f"{len(rows)} of {len(models)} settings (best of them: {_words(best['setting'])} {best['mean']:.3f}) are"
    return " and ".join(f"{_words(r['setting'])} {r['mean']:.3f}" for r in rows) + (" is" if len(rows) == 1 else " are")


def train_examples(results: StudyResults, task: str) -> int | None:
    """About how many training examples have a label for ``task``: the split's training rows times the share of
    test rows labelled for it (the split is stratified); None when the study has no stored split."""
    split = results.study.get("split") or {}
    n_test = next((b["n"] for b in results.baselines if b["task"] == task and b["method"] == "majority"), None)
    if not split.get("train") or not split.get("test") or not n_test:
        return None
    return round(len(split["train"]) * n_test / len(split["test"]))


def likely_reasons(results: StudyResults, task: str) -> list[str]:
    """The likely reasons a task's models learned little: too few rows, too many classes, too few epochs."""
    reasons = []
    n = train_examples(results, task)
    if n is not None and n < FEW_ROWS:
        reasons.append(f"too few rows: about {n} training examples (fewer than {FEW_ROWS})")
    spec = TaskSpec(**results.tasks[task])
    if spec.kind == CLASSIFICATION and n is not None and spec.num_classes and n / spec.num_classes < FEW_PER_CLASS:
        reasons.append(f"too many classes for the data: {spec.num_classes} classes, about "
                       f"{n // spec.num_classes} training examples each")
    runs = [r for r in results.finished_runs if task in r["tasks"]]
    cut = [r for r in runs if r.get("best_epoch") and r.get("epochs_run") and r["best_epoch"] >= r["epochs_run"]
           and r["epochs_run"] >= ((r.get("config") or {}).get("epochs") or r["epochs_run"])]
    if cut:
        reasons.append(f"too few epochs: {len(cut)} of {len(runs)} runs were still improving at their last epoch "
                       f"({cut[0]['epochs_run']}); allow more epochs")
    return reasons


def task_warnings(results: StudyResults, summary: list[dict], metrics: dict[str, str] | None = None) -> list[dict]:
    """Rows of COLUMNS, one per task whose model settings (alone, together, ...) have a mean not above the
    majority baseline or below TF-IDF + LR on the shown metric (``metrics``: task -> metric, default the lead
    metric). ``summary`` are ``summary.summary_rows``. ``warning`` is the whole sentence, ready to show."""
    metrics = metrics or results.lead
    found = []
    for task, metric in metrics.items():
        rows = [r for r in summary if r["task"] == task and r["metric"] == metric and r["mean"] == r["mean"]]
        models = [r for r in rows if r["setting"] != "tfidf-lr"]
        majority = next((r["majority_baseline"] for r in rows if r["majority_baseline"] is not None), None)
        tfidf = next((r["mean"] for r in rows if r["setting"] == "tfidf-lr"), None)
        low = [r for r in models if majority is not None and r["mean"] <= majority]
        under = [r for r in models if tfidf is not None and r["mean"] < tfidf and r not in low]
        problems = []
        if low:
            problems.append(f"{_settings(low, models)} not above the majority-class baseline {majority:.3f}")
        if under:
            problems.append(f"{_settings(under, models)} below TF-IDF + LR {tfidf:.3f}")
        if not problems:
            continue
        reasons = likely_reasons(results, task) or [
            "no obvious cause: check that the text carries this label (Data page), or try another method"]
        problem, reason = "; ".join(problems), "; ".join(reasons)
        found.append(dict(zip(COLUMNS, [task, metric, problem, reason,
                                        f"{task} ({metric}): {problem}. Likely reason: {reason}."])))
    return found


def run_at_chance(scores: dict[str, dict[str, float]], baselines: list[dict], lead: dict[str, str]) -> list[str]:
    """One sentence per task where a single run is not above the majority-class baseline on the task's lead metric:
    its answers for that task are no better than always guessing the most common label. ``scores``: task ->
    {metric: value} of the run (``predict.run_test_scores``); ``baselines``: the study's stored baseline rows."""
    majority = {(b["task"], b["metric"]): b["value"] for b in baselines
                if b["method"] == "majority" and b["value"] is not None}
    found = []
    for task, values in scores.items():
        metric = lead.get(task)
        base = majority.get((task, metric))
        if base is not None and values.get(metric) is not None and values[metric] <= base:
            found.append(f"{task}: {metric} {values[metric]:.3f}, not above always guessing the most common label "
                         f"({base:.3f})")
    return found

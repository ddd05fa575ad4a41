"""The "short runs" estimate of transfer: what each pair would have said after only a few epochs.

A pair's gain for task t with partner p is t's best validation score over the first ``epochs`` epochs of the pair
run, minus t's best over the first ``epochs`` epochs of t's single run, paired by seed and averaged over seeds.
With a constant learning rate (the default) the first E epochs of a run are exactly a run of E epochs, so this is
what pairs trained for a fraction of the budget would measure, read from the curves of the study's own pair and
single runs: no extra training, and only validation scores (never the test split). Runs with a learning-rate
schedule are left out (their first epochs depend on the planned length). Its cost is the pair and single runs it
reads, pro rata of their epochs.

Like gradient cosine and lookahead affinity it is a pairwise value; ``relatedness.checks`` predicts a task's gain
in a larger subset as the mean over its group-mates and scores it on the study's measured gains.
"""
from __future__ import annotations

from collections import defaultdict

import numpy as np

from mtl_core.relatedness.checks import Cost
from mtl_core.results.study_results import StudyResults

NAME = "short_runs"
SHORT_EPOCHS = 3


def _usable(run: dict) -> bool:
    return len(run["tasks"]) <= 2 and (run.get("config") or {}).get("lr_schedule", "constant") == "constant"


def early_scores(results: StudyResults, epochs: int, metrics: dict[str, str]) -> dict[tuple[int, str], float]:
    """(run id, task) -> the best validation score on the task's metric over epochs 1 .. ``epochs`` of each finished
    single or pair run (left out when the run recorded none)."""
    out: dict[tuple[int, str], float] = {}
    for run in results.finished_runs:
        if not _usable(run):
            continue
        for row in results.run_curves(run["id"]):
            if row["epoch"] <= epochs and row["value"] is not None and row["name"] == f"val_{metrics.get(row['task'])}":
                key = (run["id"], row["task"])
                out[key] = max(out.get(key, row["value"]), row["value"])
    return out


def short_run_gains(results: StudyResults, epochs: int = SHORT_EPOCHS,
                    metrics: dict[str, str] | None = None) -> dict[tuple[str, str], float]:
    """(task, partner) -> mean over seeds of the pair's early validation score minus the task alone's (see the
    module docstring); empty without curves or without pair runs."""
    if results.curves is None:
        return {}
    scores = early_scores(results, epochs, metrics or results.lead)
    alone = {(r["tasks"][0], r["seed"]): scores.get((r["id"], r["tasks"][0]))
             for r in results.finished_runs if len(r["tasks"]) == 1}
    gains: dict[tuple[str, str], list[float]] = defaultdict(list)
    for run in results.finished_runs:
        if len(run["tasks"]) != 2 or not _usable(run):
            continue
        for task, partner in (run["tasks"], run["tasks"][::-1]):
            together, single = scores.get((run["id"], task)), alone.get((task, run["seed"]))
            if together is not None and single is not None:
                gains[(task, partner)].append(together - single)
    return {key: float(np.mean(values)) for key, values in gains.items()}


def short_run_cost(results: StudyResults, epochs: int = SHORT_EPOCHS) -> Cost:
    """The single and pair runs the estimate reads and their training minutes up to ``epochs`` epochs each."""
    runs = [r for r in results.finished_runs if _usable(r)]
    seconds = [r["train_seconds"] * min(epochs, r["epochs_run"]) / r["epochs_run"] for r in runs
               if r.get("train_seconds") is not None and r.get("epochs_run")]
    return Cost(len(runs), sum(seconds) / 60 if seconds else None)

"""Lookahead task affinity read back from a study: the probe's curve rows (``training.affinity_probe``),
averaged over epochs then seeds, as a task x partner matrix."""
from __future__ import annotations

from collections import defaultdict
from itertools import permutations

import numpy as np

from mtl_core.results.study_results import StudyResults
from mtl_core.training.affinity_probe import NAME, step_label

COLUMNS = ["task", "partner", "affinity", "n_runs"]


def estimate_runs(results: StudyResults, names: tuple[str, ...]) -> list[tuple[dict, list[dict]]]:
    """(run, its curve rows named in ``names``) for the finished multi-task runs that measured them.

    The cheap estimates come from the all-tasks runs (one run instead of every pair: the point of measuring
    them); a study without such runs falls back to every multi-task run that measured them.
    """
    found = []
    for run in results.finished_runs:
        if len(run["tasks"]) > 1:
            curves = [c for c in results.run_curves(run["id"]) if c["name"] in names and c["value"] is not None]
            if curves:
                found.append((run, curves))
    every = [f for f in found if f[0]["setting"] == "all"]
    return every or found


def affinity_matrix(results: StudyResults) -> list[dict]:
    """Rows of COLUMNS: affinity(partner -> task) = how much a step on ``partner``'s loss lowers ``task``'s,
    averaged over epochs, then over runs (seeds). Empty when no run measured it (``affinity_every`` = 0)."""
    per_run: dict[tuple[str, str], list[float]] = defaultdict(list)
    for run, curves in estimate_runs(results, (NAME,)):
        labels = {step_label(i, j): (j, i) for i, j in permutations(run["tasks"], 2)}
        values: dict[tuple[str, str], list[float]] = defaultdict(list)
        for c in curves:
            if c["task"] in labels:
                values[labels[c["task"]]].append(c["value"])
        for key, v in values.items():
            per_run[key].append(float(np.mean(v)))
    order = {t: k for k, t in enumerate(results.tasks)}
    keys = sorted(per_run, key=lambda k: (order.get(k[0], 99), order.get(k[1], 99), k))
    return [dict(zip(COLUMNS, [task, partner, float(np.mean(per_run[(task, partner)])), len(per_run[(task, partner)])]))
            for task, partner in keys]

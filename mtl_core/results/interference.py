"""Gradient interference read back from a study: the probe's curve rows (``training.gradient_probe``) per
finished multitask run, and their summary per task pair."""
from __future__ import annotations

from collections import defaultdict

import numpy as np

from mtl_core.results.study_results import StudyResults
from mtl_core.training.gradient_probe import NAMES, SEP


def conflict_summary(curves: list[dict]) -> list[dict]:
    """Per pair, over all epochs of the given curve rows: mean cosine, mean conflict rate, mean norm ratio."""
    values: dict[tuple[str, str], list[float]] = defaultdict(list)
    for c in curves:
        if c["name"] in NAMES and SEP in c["task"] and c["value"] is not None:
            values[(c["task"], c["name"])].append(c["value"])
    pairs = list(dict.fromkeys(p for p, _ in values))
    return [{"pair": p, **{n: float(np.mean(values[(p, n)])) if values.get((p, n)) else None for n in NAMES}}
            for p in pairs]


def study_gradient_curves(results: StudyResults) -> list[dict]:
    """The gradient rows of every finished multitask run of the study, each with its run's seed and setting."""
    return [{**c, "seed": run["seed"], "setting": run["setting"], "run_id": run["id"]}
            for run in results.finished_runs if len(run["tasks"]) > 1
            for c in results.run_curves(run["id"]) if c["name"] in NAMES]


MATRIX_COLUMNS = ["task", "partner", "value", "n_runs"]


def gradient_epochs(rows: list[dict]) -> list[int]:
    """The epochs at which gradients were measured, in order."""
    return sorted({r["epoch"] for r in rows if r["name"] in NAMES})


def pair_matrix(rows: list[dict], name: str, epoch: int | None = None) -> list[dict]:
    """Rows of MATRIX_COLUMNS for a task x task view that scales to many tasks: per unordered pair, the
    statistic ``name`` ("grad_cosine" or "grad_conflict_rate") averaged over the epochs (or only ``epoch``),
    then over runs (seeds); both orders of a pair get the same value (the statistics are symmetric).

    ``rows`` are ``study_gradient_curves`` rows of one setting."""
    per_run: dict[tuple[str, str], dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        if r["name"] == name and SEP in r["task"] and r["value"] is not None and epoch in (None, r["epoch"]):
            a, b = r["task"].split(SEP, 1)
            per_run[(a, b)][r.get("run_id", 0)].append(r["value"])
    out = []
    for (a, b), runs in per_run.items():
        value = float(np.mean([np.mean(v) for v in runs.values()]))
        out += [dict(zip(MATRIX_COLUMNS, [a, b, value, len(runs)])), dict(zip(MATRIX_COLUMNS, [b, a, value, len(runs)]))]
    return out

"""How well do the cheap relatedness estimates predict measured transfer?

Per ordered pair (task, partner), three numbers, cheapest first:
- ``grad_cosine``: mean cosine of the two tasks' gradients on the shared encoder (``interference``; symmetric,
  so both orders of a pair get the same value);
- ``lookahead_affinity``: how much a step on the partner's loss lowers the task's loss (``affinity``);
- ``transfer``: the measured delta of the task trained with the partner vs alone (``transfer``; needs pair runs).
The estimates come from the all-tasks runs when the study has them (see ``affinity.estimate_runs``).

``estimate_agreement`` gives each estimate's Spearman rank correlation with measured transfer over the pairs,
with a 95% percentile bootstrap CI (pairs resampled with replacement, seeded). Ordered pairs sharing a task
are not independent, so with few tasks read the CI as rough.
"""
from __future__ import annotations

from collections import defaultdict
from itertools import permutations

import numpy as np

from mtl_core.results.affinity import estimate_runs
from mtl_core.results.study_results import StudyResults
from mtl_core.training.gradient_probe import pair_label

ESTIMATES = ("grad_cosine", "lookahead_affinity")
POINT_COLUMNS = ["task", "partner", "transfer", "significant", "grad_cosine", "lookahead_affinity"]
AGREEMENT_COLUMNS = ["estimate", "spearman", "ci_low", "ci_high", "n_pairs"]
RESAMPLES = 1000


def gradient_cosines(results: StudyResults) -> dict[tuple[str, str], float]:
    """(task, partner) -> mean grad_cosine (over epochs, then runs) for both orders of each measured pair."""
    per_run: dict[tuple[str, str], list[float]] = defaultdict(list)
    for run, curves in estimate_runs(results, ("grad_cosine",)):
        labels = {pair_label(a, b): (a, b) for a, b in permutations(run["tasks"], 2)}
        values: dict[tuple[str, str], list[float]] = defaultdict(list)
        for c in curves:
            if c["task"] in labels:
                values[labels[c["task"]]].append(c["value"])
        for (a, b), v in values.items():
            per_run[(a, b)].append(float(np.mean(v)))
            per_run[(b, a)].append(float(np.mean(v)))
    return {pair: float(np.mean(v)) for pair, v in per_run.items()}


def pair_points(results: StudyResults, transfer: list[dict], affinity: list[dict]) -> list[dict]:
    """Rows of POINT_COLUMNS, one per ordered pair with measured transfer; an estimate not measured is None.

    ``transfer`` and ``affinity`` are the study's ``transfer_matrix`` and ``affinity_matrix`` rows."""
    cosine = gradient_cosines(results)
    lookahead = {(r["task"], r["partner"]): r["affinity"] for r in affinity}
    return [dict(zip(POINT_COLUMNS, [r["task"], r["partner"], r["delta_mean"], r["significant"],
                                     cosine.get((r["task"], r["partner"])), lookahead.get((r["task"], r["partner"]))]))
            for r in transfer if r["delta_mean"] is not None]


def spearman(x, y) -> np.ndarray | float:
    """Spearman rank correlation (ties get average ranks). 2-D inputs: one correlation per row.
    NaN where either side is constant."""
    from scipy.stats import rankdata  # scipy.stats (~0.7 s) only where estimates are compared
    rx, ry = rankdata(np.asarray(x, float), axis=-1), rankdata(np.asarray(y, float), axis=-1)
    rx, ry = rx - rx.mean(-1, keepdims=True), ry - ry.mean(-1, keepdims=True)
    denom = np.sqrt((rx ** 2).sum(-1) * (ry ** 2).sum(-1))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(denom > 0, (rx * ry).sum(-1) / np.where(denom > 0, denom, 1), np.nan)
    return float(r) if r.ndim == 0 else r


def agreement(x: list[float], y: list[float], resamples: int = RESAMPLES, seed: int = 0) -> dict:
    """Spearman of ``x`` vs ``y`` with a 95% percentile bootstrap CI over the points; None where undefined."""
    n = len(x)
    if n < 3:
        return {"spearman": None, "ci_low": None, "ci_high": None, "n_pairs": n}
    rho = spearman(x, y)
    idx = np.random.default_rng(seed).integers(0, n, size=(resamples, n))
    boot = spearman(np.asarray(x, float)[idx], np.asarray(y, float)[idx])
    boot = boot[~np.isnan(boot)]
    lo, hi = (float(v) for v in np.percentile(boot, [2.5, 97.5])) if len(boot) else (None, None)
    return {"spearman": None if np.isnan(rho) else rho, "ci_low": lo, "ci_high": hi, "n_pairs": n}


def estimate_agreement(points: list[dict]) -> list[dict]:
    """Rows of AGREEMENT_COLUMNS, one per cheap estimate measured in ``points`` (``pair_points``; none without
    pair runs)."""
    rows = []
    for name in ESTIMATES:
        used = [p for p in points if p[name] is not None]
        if used:
            rows.append({"estimate": name, **agreement([p[name] for p in used], [p["transfer"] for p in used])})
    return rows

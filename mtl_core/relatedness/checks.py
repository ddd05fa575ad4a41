"""Every relatedness estimate checked against the truth: how well does it rank the measured gains of subsets it
was not fitted on?

Truth: the measured gain of task t in subset S = t's score in S minus its score alone, paired by seed, averaged
over seeds. Only multi-task subsets (two tasks or more: pairs, groups, sampled subsets, all together) are
predicted; every task alone is always fitted.

Held out: the study's multi-task subsets are shuffled (seeded) and cut into FOLDS folds (fewer when there are
fewer subsets); the surrogate predicting a fold is fitted on the single runs plus the other folds (cross-fitting),
so every subset is predicted once by a surrogate that never saw it. Pairwise estimates (gradient cosine,
lookahead affinity: measured on the all-tasks runs, not fitted on the gains) predict t's gain in S as the mean of
their values (t, p) over t's group-mates p in S, and are scored on the same subsets.

Score: per target task, Spearman's rank correlation between predicted and measured gains over its held-out
subsets (tasks with fewer than 3, or with constant values, are left out); then the mean over tasks with a 95%
percentile bootstrap interval over tasks (tasks resampled with replacement, seeded; with few tasks it is rough).

Noise ceiling: the same per-task Spearman between the measured gains of two disjoint halves of the seeds (seeds
alternately to each half), averaged over tasks, with the same bootstrap. It needs at least 2 seeds. It is a
split-half value (each half has half the seeds) without a Spearman-Brown correction, so it understates how
repeatable the all-seed gains are: read it as "how well one half of the measurement predicts the other".
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from mtl_core.errors import ConfigError
from mtl_core.relatedness.surrogate import Measurement, fit_surrogate

FOLDS = 5
RESAMPLES = 1000
MIN_SUBSETS = 3  # a rank correlation over fewer points says nothing
SURROGATE = "surrogate"
CHECK_COLUMNS = ["estimate", "spearman", "ci_low", "ci_high", "ceiling", "ceiling_low", "ceiling_high", "n_tasks",
                 "n_heldout_subsets", "runs", "minutes", "note"]
POINT_COLUMNS = ["task", "subset", "estimate", "predicted", "measured"]

Key = tuple[str, frozenset[str]]  # (target task, subset containing it)


@dataclass(frozen=True)
class Cost:
    """What an estimate cost: training runs used and their summed training minutes (None: not recorded)."""

    runs: int
    minutes: float | None


@dataclass
class Checks:
    rows: list[dict]     # CHECK_COLUMNS, one per estimate
    points: list[dict]   # POINT_COLUMNS, one per (task, held-out subset, estimate)


def scores_by_seed(measurements: list[Measurement]) -> dict[Key, dict[int, float]]:
    """(task, subset) -> {seed: score}."""
    out: dict[Key, dict[int, float]] = defaultdict(dict)
    for m in measurements:
        out[(m.task, m.subset)][m.seed] = m.score
    return out


def measured_gains(measurements: list[Measurement], seeds: list[int] | None = None) -> dict[Key, float]:
    """(task, multi-task subset) -> mean over the seeds it shares with the task alone (only ``seeds`` if given) of
    score in the subset minus score alone."""
    by_seed = scores_by_seed(measurements)
    gains = {}
    for (task, subset), together in by_seed.items():
        alone = by_seed.get((task, frozenset([task])), {})
        shared = [s for s in together if s in alone and (seeds is None or s in seeds)]
        if len(subset) > 1 and shared:
            gains[(task, subset)] = float(np.mean([together[s] - alone[s] for s in shared]))
    return gains


def subset_folds(subsets: list[frozenset[str]], folds: int = FOLDS, seed: int = 0) -> list[list[frozenset[str]]]:
    """``subsets`` shuffled (seeded) and cut into ``folds`` near-equal folds (fewer if there are fewer subsets)."""
    ordered = sorted(subsets, key=lambda s: (len(s), sorted(s)))
    shuffled = [ordered[i] for i in np.random.default_rng(seed).permutation(len(ordered))]
    cuts = np.array_split(np.arange(len(shuffled)), min(folds, len(shuffled))) if shuffled else []
    return [[shuffled[i] for i in cut] for cut in cuts]


def surrogate_predictions(measurements: list[Measurement], tasks: list[str], folds: int = FOLDS,
                          seed: int = 0) -> dict[Key, float]:
    """(task, subset) -> the gain predicted by a surrogate fitted without that subset (cross-fitting)."""
    multi = sorted({m.subset for m in measurements if len(m.subset) > 1}, key=lambda s: (len(s), sorted(s)))
    predicted = {}
    for fold in subset_folds(multi, folds, seed) if multi else []:
        held = set(fold)
        surrogate = fit_surrogate([m for m in measurements if m.subset not in held], tasks, resamples=0)
        for subset in fold:
            for task in subset:
                try:
                    predicted[(task, subset)] = surrogate.predicted_gain(task, subset)
                except ConfigError:  # no surrogate for the task, or a partner it never saw without this fold
                    continue
    return predicted


def pairwise_predictions(pair_values: dict[tuple[str, str], float], keys: list[Key]) -> dict[Key, float]:
    """(task, subset) -> the mean of ``pair_values[(task, p)]`` over task's group-mates p; left out when one is
    missing."""
    predicted = {}
    for task, subset in keys:
        values = [pair_values.get((task, p)) for p in subset if p != task]
        if values and all(v is not None for v in values):
            predicted[(task, subset)] = float(np.mean(values))
    return predicted


def rank_correlation(x: list[float], y: list[float]) -> float | None:
    """Spearman's rho; None with fewer than MIN_SUBSETS points or a constant side."""
    if len(x) < MIN_SUBSETS or np.ptp(x) == 0 or np.ptp(y) == 0:
        return None
    from scipy.stats import spearmanr  # scipy.stats (~0.7 s) only where a study is checked, not at every start
    return float(spearmanr(x, y)[0])


def per_task_correlation(first: dict[Key, float], second: dict[Key, float], keys: list[Key]) -> dict[str, float]:
    """Task -> Spearman of ``first`` vs ``second`` over that task's ``keys`` present in both."""
    by_task: dict[str, list[Key]] = defaultdict(list)
    for key in keys:
        if key in first and key in second:
            by_task[key[0]].append(key)
    out = {}
    for task, found in by_task.items():
        rho = rank_correlation([first[k] for k in found], [second[k] for k in found])
        if rho is not None:
            out[task] = rho
    return out


def mean_over_tasks(values: list[float], resamples: int = RESAMPLES,
                    seed: int = 0) -> tuple[float | None, float | None, float | None]:
    """Mean and a 95% percentile bootstrap interval over tasks (None: no tasks; no interval from one task)."""
    if not values:
        return None, None, None
    xs = np.asarray(values, dtype=float)
    if len(xs) < 2:
        return float(xs.mean()), None, None
    draws = xs[np.random.default_rng(seed).integers(0, len(xs), size=(resamples, len(xs)))].mean(axis=1)
    lo, hi = np.percentile(draws, [2.5, 97.5])
    return float(xs.mean()), float(lo), float(hi)


def seed_halves(measurements: list[Measurement]) -> tuple[list[int], list[int]] | None:
    """The seeds, alternately into two disjoint halves; None with fewer than 2 seeds."""
    seeds = sorted({m.seed for m in measurements})
    return (seeds[0::2], seeds[1::2]) if len(seeds) >= 2 else None


def noise_ceiling(measurements: list[Measurement], keys: list[Key], resamples: int = RESAMPLES,
                  seed: int = 0) -> tuple[tuple[float | None, float | None, float | None], str]:
    """(mean, low, high) of the per-task split-half Spearman over ``keys``, and a note when there is none."""
    halves = seed_halves(measurements)
    if halves is None:
        return (None, None, None), "no noise ceiling: it needs at least 2 seeds"
    first, second = (measured_gains(measurements, half) for half in halves)
    per_task = per_task_correlation(first, second, keys)
    if not per_task:
        return (None, None, None), f"no noise ceiling: no task has {MIN_SUBSETS} subsets that vary in both halves"
    return mean_over_tasks(list(per_task.values()), resamples, seed), ""


def check_estimate(name: str, predicted: dict[Key, float], measured: dict[Key, float],
                   measurements: list[Measurement], cost: Cost | None, resamples: int = RESAMPLES,
                   seed: int = 0) -> tuple[dict, list[dict]]:
    """One row of CHECK_COLUMNS and the estimate's points, over the subsets both predicted and measured."""
    keys = sorted((k for k in predicted if k in measured), key=lambda k: (k[0], len(k[1]), sorted(k[1])))
    per_task = per_task_correlation(predicted, measured, keys)
    rho, lo, hi = mean_over_tasks(list(per_task.values()), resamples, seed)
    (ceiling, c_lo, c_hi), note = noise_ceiling(measurements, keys, resamples, seed)
    if not per_task:
        note = "; ".join(filter(None, [f"no task has {MIN_SUBSETS} held-out subsets with varying values", note]))
    row = dict(zip(CHECK_COLUMNS, [name, rho, lo, hi, ceiling, c_lo, c_hi, len(per_task), len({k[1] for k in keys}),
                                   cost.runs if cost else None, cost.minutes if cost else None, note]))
    points = [dict(zip(POINT_COLUMNS, [t, "+".join(sorted(s)), name, predicted[(t, s)], measured[(t, s)]]))
              for t, s in keys]
    return row, points


def check_estimates(measurements: list[Measurement], tasks: list[str],
                    pair_estimates: dict[str, dict[tuple[str, str], float]] | None = None,
                    costs: dict[str, Cost] | None = None, folds: int = FOLDS, seed: int = 0,
                    resamples: int = RESAMPLES) -> Checks:
    """The surrogate (cross-fitted) and each pairwise estimate in ``pair_estimates`` (name -> {(task, partner):
    value}; an empty one is skipped) against the measured gains (see the module docstring). ``costs``: name ->
    what the estimate cost."""
    measured = measured_gains(measurements)
    candidates = {SURROGATE: surrogate_predictions(measurements, tasks, folds, seed)}
    for name, values in (pair_estimates or {}).items():
        if values:
            candidates[name] = pairwise_predictions(values, list(measured))
    rows, points = [], []
    for name, predicted in candidates.items():
        row, found = check_estimate(name, predicted, measured, measurements, (costs or {}).get(name), resamples, seed)
        rows.append(row)
        points += found
    return Checks(rows, points)

"""Statistics over seeds: mean with a 95% t-interval, and paired deltas.

An interval needs at least two values: from one value the spread is unknown, so ``ci_low`` and ``ci_high`` are
None (never the value itself, which would read as a zero-width interval). ``significant`` is the one rule for
"the interval excludes 0"; ``verdict`` turns it into the words every page, export and CLI table shows.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

MIN_SEEDS = 2  # fewer values than this give no interval


@dataclass
class Estimate:
    mean: float
    ci_low: float | None   # None: fewer than MIN_SEEDS values, no interval
    ci_high: float | None
    n: int


def mean_ci(values: list[float], confidence: float = 0.95) -> Estimate:
    """Mean and Student-t confidence interval; with one value there is no interval (None, None)."""
    xs = np.array([v for v in values if v == v], dtype=float)  # drop NaN
    if xs.size == 0:
        return Estimate(math.nan, None, None, 0)
    mean = float(xs.mean())
    if xs.size < MIN_SEEDS:
        return Estimate(mean, None, None, int(xs.size))
    from scipy import stats  # imported when an interval is made: a one-seed study's start does not pay for it
    half = float(stats.t.ppf(0.5 + confidence / 2, xs.size - 1) * xs.std(ddof=1) / math.sqrt(xs.size))
    return Estimate(mean, mean - half, mean + half, int(xs.size))


def significant(est: Estimate) -> bool:
    """The rule: an interval exists (>= MIN_SEEDS values) and it excludes 0."""
    if est.n < MIN_SEEDS or est.ci_low is None or est.ci_high is None:
        return False
    return est.ci_low > 0 or est.ci_high < 0


def paired_delta(with_partner: list[float], alone: list[float], confidence: float = 0.95) -> tuple[Estimate, bool]:
    """Mean of per-seed differences with its CI; significant when the CI excludes 0 (needs >= 2 seeds)."""
    est = mean_ci([a - b for a, b in zip(with_partner, alone)], confidence)
    return est, significant(est)

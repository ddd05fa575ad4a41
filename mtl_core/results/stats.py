"""Statistics over seeds: mean with a 95% t-interval, and paired deltas."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass
class Estimate:
    mean: float
    ci_low: float
    ci_high: float
    n: int


def mean_ci(values: list[float], confidence: float = 0.95) -> Estimate:
    """Mean and Student-t confidence interval; with one value the interval is that value (no spread known)."""
    xs = np.array([v for v in values if v == v], dtype=float)  # drop NaN
    if xs.size == 0:
        return Estimate(math.nan, math.nan, math.nan, 0)
    mean = float(xs.mean())
    if xs.size == 1:
        return Estimate(mean, mean, mean, 1)
    half = float(stats.t.ppf(0.5 + confidence / 2, xs.size - 1) * xs.std(ddof=1) / math.sqrt(xs.size))
    return Estimate(mean, mean - half, mean + half, int(xs.size))


def paired_delta(with_partner: list[float], alone: list[float], confidence: float = 0.95) -> tuple[Estimate, bool]:
    """Mean of per-seed differences with its CI; significant when the CI excludes 0 (needs >= 2 seeds)."""
    diffs = [a - b for a, b in zip(with_partner, alone)]
    est = mean_ci(diffs, confidence)
    significant = est.n >= 2 and (est.ci_low > 0 or est.ci_high < 0)
    return est, significant

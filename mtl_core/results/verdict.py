"""The words every page, export and CLI table uses to say whether a difference is real (the rule itself is
``stats.significant``: the 95% interval of the per-seed difference excludes 0; an interval needs 2 seeds).

With one seed there is no interval at all: no whiskers, empty ``ci_low``/``ci_high`` in the CSVs, NO_INTERVAL in
tables, and the verdict asks for more seeds (ONE_SEED) instead of guessing.
"""
from __future__ import annotations

from mtl_core.results.stats import MIN_SEEDS, Estimate, significant

HELPS, HURTS, UNCLEAR = "helps", "hurts", "no clear difference"
ONE_SEED = "run ≥ 2 seeds"           # the verdict when there is nothing to judge the spread by
NO_INTERVAL = "1 seed: no interval"  # what a table shows in place of an interval from one seed


def verdict(est: Estimate) -> str:
    """HELPS / HURTS when the interval excludes 0, UNCLEAR when it includes 0, ONE_SEED without an interval."""
    if est.n < MIN_SEEDS:
        return ONE_SEED
    if not significant(est):
        return UNCLEAR
    return HELPS if est.mean > 0 else HURTS


def interval_text(ci_low: float | None, ci_high: float | None, n: int | None, digits: int = 3,
                  signed: bool = False) -> str:
    """An interval as a table shows it: "[0.812, 0.845]", or NO_INTERVAL below 2 seeds."""
    if (n or 0) < MIN_SEEDS or ci_low is None or ci_high is None:
        return NO_INTERVAL
    fmt = f"{'+' if signed else ''}.{digits}f"
    return f"[{ci_low:{fmt}}, {ci_high:{fmt}}]"


def verdict_sentence(task: str, setting: str, delta: float, n: int, ci_low: float | None,
                     ci_high: float | None) -> str:
    """One plain sentence: '<task> with <setting>: +0.012 [..]: helps.' (used by chart hovers and summaries)."""
    est = Estimate(delta, ci_low, ci_high, n)
    return f"{task} {setting}: {delta:+.3f} {interval_text(ci_low, ci_high, n, signed=True)} — {verdict(est)}"

"""A surrogate of each task's score from which partners it was trained with (Li, Nguyen & Zhang 2023).

Per target task t, on every measured run that contains t (alone, pairs, groups, sampled subsets, all together;
one row per run, i.e. per subset and seed) a linear model

    score_t(S) ~ b0 + sum over partners p != t of w_p * [p in S]

is fitted by least squares with a tiny ridge penalty (RIDGE x rows, intercept not penalised) so it is always
solvable: a partner whose membership never varies among t's runs (never, or always, trained with t) gets weight
0 and no reported weight; partners that always appear together share their effect. ``w_p`` reads "what p adds
to t's score, whatever else is in the subset"; the predicted gain of t in S over t alone is the sum of its
partners' weights (the intercept is the model's score alone).

Interaction terms w_pq * [p in S][q in S] are considered only when the task has more fitted subsets than that
model has parameters (else they cannot all be identified), and added only when they lower the leave-one-subset-out
error (all seeds of a subset left out together) by at least CV_MARGIN; the chosen model makes the predictions,
while the relevance table always reports the linear weights. Each weight's 95% interval is the wider of two: a
percentile bootstrap over the fitted subsets (subsets drawn with replacement, each with all its seeds; seeded),
and the t-interval of least squares on the subset means (df = subsets - parameters). The bootstrap alone is too
narrow with few subsets (simulated with planted weights, 5 tasks, 3 seeds: 49% coverage with 5 sampled subsets,
73% with 7, 92% with 10); the envelope holds about 95% there. With no degrees of freedom left (as many
parameters as subsets) a weight has no interval.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations
from typing import Iterable

import numpy as np

from mtl_core.errors import ConfigError

RIDGE = 1e-4          # penalty per row: negligible against a membership's spread, enough to make X'X invertible
CV_MARGIN = 0.10      # interactions must cut the leave-one-subset-out error by 10% to be used
RESAMPLES = 1000
CONSTANT = 1e-9       # a centred column with less spread than this is "membership never varies"
RELEVANCE_COLUMNS = ["task", "partner", "weight", "ci_low", "ci_high", "n_subsets", "model"]
LINEAR, INTERACTIONS = "linear", "linear+interactions"


@dataclass(frozen=True)
class Measurement:
    """One run's test score on one of its tasks."""

    task: str
    subset: frozenset[str]   # every task the run trained (contains ``task``)
    seed: int
    score: float


def measurements_from_scores(runs: list[dict], scores: list[dict], metrics: dict[str, str]) -> list[Measurement]:
    """One Measurement per finished run and task, on the metric ``metrics`` names for that task, from a study's
    stored rows (runs: id, tasks; scores: run_id, task, seed, metric, value)."""
    run_tasks = {r["id"]: frozenset(r["tasks"]) for r in runs}
    return [Measurement(s["task"], run_tasks[s["run_id"]], s["seed"], float(s["value"])) for s in scores
            if s["run_id"] in run_tasks and metrics.get(s["task"]) == s["metric"] and s["value"] is not None]


@dataclass(frozen=True)
class Fit:
    """Ridge fits, one per row of ``weights`` (B, S): intercepts (B,), coefficients (B, m), and which columns had
    no spread in that fit (B, m) (their coefficients are 0)."""

    intercept: np.ndarray
    coef: np.ndarray
    constant: np.ndarray


def fit_weighted(design: np.ndarray, sums: np.ndarray, sizes: np.ndarray, weights: np.ndarray,
                 ridge: float = RIDGE) -> Fit:
    """Ridge regression of the run scores on ``design``, once per row of ``weights``, from per-subset sums.

    ``design`` (S, m): one row per distinct subset; ``sums`` (S,): the sum of its runs' scores; ``sizes`` (S,): its
    number of runs; ``weights`` (B, S): how many times each subset counts in fit b (ones: the fit; a bootstrap's
    draw counts; 1 - identity: leave one subset out). Every run of a subset shares its design row, so the
    centred normal equations need only these sums.
    """
    rows = weights * sizes                                   # (B, S) runs per subset in each fit
    n = rows.sum(axis=1)                                     # (B,)
    sx = rows @ design                                       # (B, m)
    sy = weights @ sums                                      # (B,)
    xx = np.einsum("bs,si,sj->bij", rows, design, design) - sx[:, :, None] * sx[:, None, :] / n[:, None, None]
    xy = (weights * sums) @ design - sx * (sy / n)[:, None]
    spread = np.diagonal(xx, axis1=1, axis2=2)               # (B, m) n x variance of each column
    constant = spread < CONSTANT * np.maximum(n[:, None], 1)
    eye = np.eye(design.shape[1])
    coef = np.linalg.solve(xx + ridge * n[:, None, None] * eye, xy[:, :, None])[:, :, 0]
    coef = np.where(constant, 0.0, coef)
    return Fit(intercept=(sy - (sx * coef).sum(axis=1)) / n, coef=coef, constant=constant)


def _membership(subsets: list[frozenset[str]], partners: list[str], pairs: list[tuple[str, str]]) -> np.ndarray:
    """(S, m) design: one column per partner ([p in S]), then one per interaction pair ([p in S][q in S])."""
    cols = [[p in s for p in partners] + [p in s and q in s for p, q in pairs] for s in subsets]
    return np.asarray(cols, dtype=float).reshape(len(subsets), len(partners) + len(pairs))


def _loso_error(design: np.ndarray, sums: np.ndarray, sumsq: np.ndarray, sizes: np.ndarray) -> float | None:
    """Mean squared error over every run when each subset (all its seeds) is predicted by a fit without it."""
    if len(sizes) < 3:
        return None
    fit = fit_weighted(design, sums, sizes, 1.0 - np.eye(len(sizes)))
    pred = fit.intercept + (fit.coef * design).sum(axis=1)   # subset s predicted by fit s
    # sum over runs of (y - pred)^2 = sumsq - 2 pred sum + size pred^2
    return float((sumsq - 2 * pred * sums + sizes * pred ** 2).sum() / sizes.sum())


def _percentile_ci(draws: np.ndarray) -> tuple[float | None, float | None]:
    draws = draws[~np.isnan(draws)]
    if len(draws) < 20:  # a weight almost never identifiable in a resample has no useful interval
        return None, None
    lo, hi = np.percentile(draws, [2.5, 97.5])
    return float(lo), float(hi)


def _t_intervals(design: np.ndarray, sums: np.ndarray, sizes: np.ndarray, fit: Fit) -> list[tuple | None]:
    """95% t-intervals of the linear weights from the between-subset residuals: least squares on subset means
    weighted by their runs, df = subsets - parameters. None for a constant column, and for every column when
    df < 1 (as many parameters as subsets: nothing is left to measure the noise)."""
    keep = ~fit.constant[0]
    df = len(sizes) - int(keep.sum()) - 1
    out: list[tuple | None] = [None] * design.shape[1]
    if df < 1:
        return out
    pred = fit.intercept[0] + design @ fit.coef[0]
    residual = float((sizes * (sums / sizes - pred) ** 2).sum() / df)
    x = design[:, keep]
    centred = x - (sizes @ x) / sizes.sum()
    cov = residual * np.linalg.pinv((centred * sizes[:, None]).T @ centred)
    from scipy.stats import t as t_dist  # scipy.stats (~0.7 s) only where a surrogate is fitted
    half = t_dist.ppf(0.975, df) * np.sqrt(np.clip(np.diag(cov), 0, None))
    for j, h in zip(np.flatnonzero(keep), half):
        out[j] = (float(fit.coef[0, j] - h), float(fit.coef[0, j] + h))
    return out


def _wider(boot: tuple[float | None, float | None], exact: tuple | None) -> tuple[float | None, float | None]:
    """The envelope of the bootstrap and the t-interval; none without the t-interval (too few subsets)."""
    if exact is None:
        return None, None
    if boot[0] is None:
        return exact
    return min(boot[0], exact[0]), max(boot[1], exact[1])


@dataclass
class TaskSurrogate:
    """One target task's fitted surrogate."""

    task: str
    partners: list[str]                      # every other task seen in a subset with ``task``
    pairs: list[tuple[str, str]]             # the chosen model's interaction terms; [] when linear
    intercept: float                         # the chosen model's: its predicted score alone
    coef: np.ndarray                         # the chosen model's: one per partner, then one per pair
    weights: dict[str, float | None]         # the linear model's w_p; None: membership never varied
    ci: dict[str, tuple[float | None, float | None]]
    n_subsets: dict[str, int]                # fitted subsets holding both ``task`` and the partner
    cv_error: dict[str, float | None]        # LINEAR / INTERACTIONS -> leave-one-subset-out mean squared error
    n_fitted: int                            # distinct subsets fitted (alone included)

    @property
    def model(self) -> str:
        return INTERACTIONS if self.pairs else LINEAR

    def predict(self, subset: Iterable[str]) -> float:
        """Predicted score of ``task`` trained with ``subset`` (which must contain it)."""
        subset = frozenset(subset)
        if self.task not in subset:
            raise ConfigError(f"A prediction for task {self.task!r} needs a subset containing it. "
                              f"Got {sorted(subset)}.")
        unknown = sorted(subset - set(self.partners) - {self.task})
        if unknown:
            raise ConfigError(f"The surrogate of {self.task!r} never saw {unknown} trained with it, so it cannot "
                              f"predict their effect. Partners it knows: {self.partners}.")
        return float(self.intercept + _membership([subset], self.partners, self.pairs)[0] @ self.coef)

    def predicted_gain(self, subset: Iterable[str]) -> float:
        """Predicted score in ``subset`` minus predicted score alone."""
        return self.predict(subset) - self.intercept


def _grouped(rows: list[Measurement]) -> tuple[list[frozenset[str]], np.ndarray, np.ndarray, np.ndarray]:
    """Distinct subsets (in first-seen order) with the sum, sum of squares and count of their run scores."""
    by_subset: dict[frozenset[str], list[float]] = {}
    for m in rows:
        by_subset.setdefault(m.subset, []).append(m.score)
    subsets = list(by_subset)
    values = [np.asarray(by_subset[s], dtype=float) for s in subsets]
    return (subsets, np.array([v.sum() for v in values]), np.array([(v ** 2).sum() for v in values]),
            np.array([len(v) for v in values], dtype=float))


def fit_task(task: str, measurements: list[Measurement], tasks: list[str] | None = None,
             resamples: int = RESAMPLES, seed: int = 0) -> TaskSurrogate:
    """The surrogate of ``task`` from the measurements of runs containing it (see the module docstring).
    ``resamples`` = 0 skips the bootstrap (no intervals)."""
    rows = [m for m in measurements if m.task == task and task in m.subset]
    subsets, sums, sumsq, sizes = _grouped(rows)
    if len(subsets) < 2:
        raise ConfigError(f"Task {task!r} needs runs in at least 2 different subsets (e.g. alone and with a partner) "
                          f"for a surrogate. Got {len(subsets)}.")
    seen = set().union(*subsets) - {task}
    order = {t: k for k, t in enumerate(tasks or [])}
    partners = sorted(seen, key=lambda p: (order.get(p, len(order)), p))  # study order, then unknown ones
    linear = _membership(subsets, partners, [])
    pairs = list(combinations(partners, 2))
    if len(subsets) <= 1 + len(partners) + len(pairs):  # too few subsets to identify every interaction term
        pairs = []
    cv = {LINEAR: _loso_error(linear, sums, sumsq, sizes),
          INTERACTIONS: _loso_error(_membership(subsets, partners, pairs), sums, sumsq, sizes) if pairs else None}
    use_pairs = cv[LINEAR] is not None and cv[INTERACTIONS] is not None and \
        cv[INTERACTIONS] < (1 - CV_MARGIN) * cv[LINEAR]
    chosen = pairs if use_pairs else []
    design = _membership(subsets, partners, chosen)
    fit = fit_weighted(design, sums, sizes, np.ones((1, len(subsets))))
    lin = fit if not chosen else fit_weighted(linear, sums, sizes, np.ones((1, len(subsets))))
    weights = {p: None if lin.constant[0, j] else float(lin.coef[0, j]) for j, p in enumerate(partners)}
    ci = {p: (None, None) for p in partners}
    if resamples:
        draws = np.random.default_rng(seed).multinomial(len(subsets), np.full(len(subsets), 1 / len(subsets)),
                                                        size=resamples).astype(float)
        boot = fit_weighted(linear, sums, sizes, draws)
        coef = np.where(boot.constant, np.nan, boot.coef)
        exact = _t_intervals(linear, sums, sizes, lin)
        ci = {p: (None, None) if weights[p] is None else _wider(_percentile_ci(coef[:, j]), exact[j])
              for j, p in enumerate(partners)}
    return TaskSurrogate(task=task, partners=partners, pairs=chosen, intercept=float(fit.intercept[0]),
                         coef=fit.coef[0], weights=weights, ci=ci,
                         n_subsets={p: sum(p in s for s in subsets) for p in partners}, cv_error=cv,
                         n_fitted=len(subsets))


@dataclass
class Surrogate:
    """Every target task's surrogate; ``skipped``: task -> why it has none."""

    models: dict[str, TaskSurrogate]
    skipped: dict[str, str] = field(default_factory=dict)

    def model_of(self, task: str) -> TaskSurrogate:
        if task not in self.models:
            why = self.skipped.get(task, "it was not in any measured run")
            raise ConfigError(f"No surrogate for task {task!r}: {why}")
        return self.models[task]

    def predict(self, task: str, subset: Iterable[str]) -> float:
        """Predicted score of ``task`` when trained with ``subset`` (which contains it)."""
        return self.model_of(task).predict(subset)

    def predicted_gain(self, task: str, subset: Iterable[str]) -> float:
        """Predicted score of ``task`` in ``subset`` minus its predicted score alone."""
        return self.model_of(task).predicted_gain(subset)

    def relevance_rows(self) -> list[dict]:
        """Rows of RELEVANCE_COLUMNS: each task's linear weight per partner with its bootstrap 95% interval."""
        return [dict(zip(RELEVANCE_COLUMNS, [m.task, p, m.weights[p], *m.ci[p], m.n_subsets[p], m.model]))
                for m in self.models.values() for p in m.partners]


def fit_surrogate(measurements: list[Measurement], tasks: list[str] | None = None, resamples: int = RESAMPLES,
                  seed: int = 0) -> Surrogate:
    """A surrogate per task of ``tasks`` (default: every measured task, sorted); a task without runs in two
    different subsets is skipped, with the reason."""
    tasks = list(tasks) if tasks is not None else sorted({m.task for m in measurements})
    models, skipped = {}, {}
    for task in tasks:
        try:
            models[task] = fit_task(task, measurements, tasks, resamples, seed)
        except ConfigError as e:
            skipped[task] = str(e)
    return Surrogate(models, skipped)

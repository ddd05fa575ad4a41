"""What a study's task subsets say (plan "subsets", though any study with runs of several tasks will do): the
surrogate's relevance of each partner to each task, the grouping it predicts, and every estimate of transfer
checked against held-out measured gains, read from one ``StudyResults`` (methods: ``mtl_core.relatedness``).

Scores are each task's lead metric (or the metric ``metrics`` names), one measurement per finished run and task.
The cheap pairwise estimates (gradient cosine, lookahead affinity) come from the runs that measured them, the
all-tasks runs when there are such (``affinity.estimate_runs``); the "short runs" estimate from the first epochs of
the study's pair and single runs (``short_runs``), when it has pairs.
"""
from __future__ import annotations

from dataclasses import dataclass

from mtl_core.relatedness.checks import SURROGATE, Checks, Cost, check_estimates
from mtl_core.relatedness.group_search import grouping_rows, predicted_groupings
from mtl_core.relatedness.surrogate import (
    RESAMPLES,
    Measurement,
    Surrogate,
    fit_surrogate,
    measurements_from_scores,
)
from mtl_core.results.affinity import affinity_matrix, estimate_runs
from mtl_core.results.estimate_quality import gradient_cosines
from mtl_core.results.short_runs import NAME as SHORT_RUNS
from mtl_core.results.short_runs import short_run_cost, short_run_gains
from mtl_core.results.study_results import StudyResults
from mtl_core.training.affinity_probe import NAME as AFFINITY_NAME

PAIR_ESTIMATES = {"grad_cosine": "grad_cosine", "lookahead_affinity": AFFINITY_NAME}  # estimate -> curve name


@dataclass
class SubsetAnalysis:
    surrogate: Surrogate
    relevance: list[dict]       # surrogate.RELEVANCE_COLUMNS
    grouping: list[dict]        # group_search.GROUPING_COLUMNS, for every group limit 1 .. number of tasks
    estimates: list[dict]       # checks.CHECK_COLUMNS, one per estimate
    points: list[dict]          # checks.POINT_COLUMNS: predicted vs measured gain per task and held-out subset


def has_subsets(results: StudyResults) -> bool:
    """Whether the study trained sampled task subsets (plan "subsets")."""
    return any(r["setting"] == "subset" for r in results.runs)


def study_measurements(results: StudyResults, metrics: dict[str, str] | None = None) -> list[Measurement]:
    """One Measurement per finished run and task on that task's metric (default: its lead metric)."""
    return measurements_from_scores(results.runs, results.scores, metrics or results.lead)


def _minutes(runs: list[dict]) -> float | None:
    seconds = [r["train_seconds"] for r in runs if r.get("train_seconds") is not None]
    return sum(seconds) / 60 if seconds else None


def estimate_costs(results: StudyResults) -> dict[str, Cost]:
    """What each estimate cost: the surrogate every finished run it was fitted on; a pairwise estimate the runs
    that measured it."""
    costs = {SURROGATE: Cost(len(results.finished_runs), _minutes(results.finished_runs))}
    if results.curves is not None:
        for estimate, curve in PAIR_ESTIMATES.items():
            runs = [run for run, _ in estimate_runs(results, (curve,))]
            costs[estimate] = Cost(len(runs), _minutes(runs))
        costs[SHORT_RUNS] = short_run_cost(results)
    return costs


def pair_estimates(results: StudyResults) -> dict[str, dict[tuple[str, str], float]]:
    """Estimate -> {(task, partner): value}; empty without curves (``StudyResults.load(curves=True)``)."""
    if results.curves is None:
        return {}
    return {"grad_cosine": gradient_cosines(results),
            "lookahead_affinity": {(r["task"], r["partner"]): r["affinity"] for r in affinity_matrix(results)},
            SHORT_RUNS: short_run_gains(results)}


def predicted_grouping_rows(surrogate: Surrogate, tasks: list[str], max_groups: int | None = None,
                            seed: int = 0) -> list[dict]:
    """The surrogate's best grouping for every group limit up to ``max_groups`` (default: every task), over the
    tasks whose surrogate knows every other one of them."""
    known = [t for t in tasks if t in surrogate.models and set(tasks) - {t} <= set(surrogate.models[t].partners)]
    if len(known) < 2:
        return []
    limits = list(range(1, min(max_groups or len(known), len(known)) + 1))
    return grouping_rows(predicted_groupings(known, surrogate.predicted_gain, limits, seed))


def subset_analysis(results: StudyResults, max_groups: int | None = None, metrics: dict[str, str] | None = None,
                    seed: int = 0, resamples: int = RESAMPLES) -> SubsetAnalysis:
    """The study's surrogate, its relevance table and predicted groupings, and every estimate checked against
    held-out measured gains (``checks.check_estimates``); tables are empty when the study has too few runs."""
    tasks = list(results.tasks) or sorted({t for r in results.runs for t in r["tasks"]})
    measurements = study_measurements(results, metrics)
    surrogate = fit_surrogate(measurements, tasks, resamples, seed)
    checks = check_estimates(measurements, tasks, pair_estimates(results), estimate_costs(results), seed=seed,
                             resamples=resamples) if measurements else Checks([], [])
    return SubsetAnalysis(surrogate, surrogate.relevance_rows(),
                          predicted_grouping_rows(surrogate, tasks, max_groups, seed), checks.rows, checks.points)

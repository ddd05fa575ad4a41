"""Which tasks to train together: exhaustive search over task groupings, from pairwise gains.

Method (the pairwise-additive approximation of Standley et al. 2020, "Which Tasks Should Be Learned Together
in Multi-task Learning?", and Fifty et al. 2021, "Efficiently Identifying Task Groupings"): the gain a task t
gets in a group is predicted as the mean of its pairwise gains gain[(t, p)] over its group-mates p (0 when
alone: the same as training alone). A grouping's score is the sum of its tasks' predicted gains. Every set
partition of the tasks into at most k non-empty groups is scored (Bell(n) partitions: 115,975 for 10 tasks)
and the best kept; on equal scores, fewer groups (fewer models to train) win.

``gain`` is either measured transfer (delta vs alone from pair runs, ``transfer.transfer_matrix``) or a cheap
estimate such as lookahead affinity (``affinity.affinity_matrix``); either way (task, partner) means "what
``task`` gets from ``partner``". Groups containing a pair with no gain are not considered. A grouping with
score <= 0 is predicted to be no better than training every task alone.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mtl_core.errors import ConfigError
from mtl_core.relatedness.partitions import partitions
from mtl_core.results.study_results import StudyResults

MAX_TASKS = 10  # Bell(10) = 115,975 partitions: about a second; Bell(12) would be 4.2 million
SOURCES = ("transfer", "affinity")
COLUMNS = ["source", "k", "group", "tasks", "task", "predicted_gain", "score"]


@dataclass
class Grouping:
    groups: list[list[str]]               # tasks in the caller's order, groups by their first task
    predicted_gain: dict[str, float]      # per task: mean gain from its group-mates (0 when alone)
    score: float                          # sum of predicted_gain


def group_gains(group: list[str], gain: dict[tuple[str, str], float]) -> dict[str, float] | None:
    """Each task's mean gain from its group-mates; None when a pair in the group has no gain."""
    out = {}
    for t in group:
        mates = [gain.get((t, p)) for p in group if p != t]
        if any(v is None for v in mates):
            return None
        out[t] = float(np.mean(mates)) if mates else 0.0
    return out


def _check(tasks: list[str], k: int) -> list[str]:
    tasks = list(dict.fromkeys(tasks))
    if not tasks:
        raise ConfigError("best_grouping needs at least one task. Got none.")
    if len(tasks) > MAX_TASKS:
        raise ConfigError(f"Exhaustive grouping search handles at most {MAX_TASKS} tasks "
                          f"(Bell({len(tasks)}) partitions is too many). Got {len(tasks)} tasks.")
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise ConfigError(f"The 'k' parameter (most groups) must be a whole number >= 1. Got {k!r} instead.")
    return tasks


def best_by_size(tasks: list[str], gain: dict[tuple[str, str], float], k: int) -> dict[int, Grouping]:
    """For each number of groups m <= ``k`` that has a scorable partition, the best partition into exactly m."""
    tasks = _check(tasks, k)
    cache: dict[tuple[str, ...], dict[str, float] | None] = {}
    best: dict[int, tuple[float, list[list[str]], dict[str, float]]] = {}
    for groups in partitions(tasks, k):
        gains = {}
        for g in groups:
            key = tuple(g)
            if key not in cache:
                cache[key] = group_gains(g, gain)
            if cache[key] is None:
                break
            gains.update(cache[key])
        else:
            score = round(sum(gains.values()), 12)
            if len(groups) not in best or score > best[len(groups)][0]:
                best[len(groups)] = (score, groups, gains)
    return {m: Grouping(groups=g, predicted_gain={t: gains[t] for t in tasks}, score=float(sum(gains.values())))
            for m, (_, g, gains) in sorted(best.items())}


def _pick(by_size: dict[int, Grouping], k: int) -> Grouping | None:
    """The best of the partitions into at most ``k`` groups; on equal scores, the one with fewer groups."""
    options = [g for m, g in by_size.items() if m <= k]
    return max(options, key=lambda g: (round(g.score, 12), -len(g.groups))) if options else None


def best_grouping(tasks: list[str], gain: dict[tuple[str, str], float], k: int) -> Grouping:
    """The partition of ``tasks`` into at most ``k`` groups with the highest summed predicted gain."""
    found = _pick(best_by_size(tasks, gain, k), k)
    if found is None:  # every allowed partition holds a pair without a gain (only possible when k < n)
        raise ConfigError(f"No grouping of {list(tasks)} into at most {k} group(s) has a gain for every pair in it.")
    return found


def pair_gains(source: str, transfer: list[dict], affinity: list[dict]) -> dict[tuple[str, str], float]:
    """(task, partner) -> gain: the transfer delta mean (``transfer_matrix`` rows) or the lookahead affinity
    (``affinity_matrix`` rows), as ``source`` says."""
    if source == "transfer":
        return {(r["task"], r["partner"]): r["delta_mean"] for r in transfer if r["delta_mean"] is not None}
    if source == "affinity":
        return {(r["task"], r["partner"]): r["affinity"] for r in affinity}
    raise ConfigError(f"The 'source' parameter must be one of {set(SOURCES)}. Got {source!r} instead.")


def _tasks_with_gains(results: StudyResults, gain: dict[tuple[str, str], float]) -> list[str]:
    """The study's tasks that have a gain, in study order."""
    in_gain = {t for pair in gain for t in pair}
    return [t for t in results.tasks if t in in_gain] or sorted(in_gain)


def recommend(results: StudyResults, k: int, source: str, transfer: list[dict], affinity: list[dict]) -> Grouping:
    """The best grouping of the study's tasks into at most ``k`` groups, from its ``source`` pair gains."""
    gain = pair_gains(source, transfer, affinity)
    if not gain:
        need = "a 'pairs' plan" if source == "transfer" else "runs with affinity_every > 0"
        raise ConfigError(f"Study {results.id!r} has no {source} measurements to group by (needs {need}).")
    return best_grouping(_tasks_with_gains(results, gain), gain, k)


def grouping_rows(results: StudyResults, transfer: list[dict], affinity: list[dict]) -> list[dict]:
    """Rows of COLUMNS: the recommended grouping for every k (1 .. number of tasks), for each source with data."""
    rows = []
    for source in SOURCES:
        gain = pair_gains(source, transfer, affinity)
        tasks = _tasks_with_gains(results, gain)
        if not gain or len(tasks) > MAX_TASKS:
            continue
        by_size = best_by_size(tasks, gain, len(tasks))  # one enumeration serves every k
        for k in range(1, len(tasks) + 1):
            g = _pick(by_size, k)
            if g is not None:
                rows += [dict(zip(COLUMNS, [source, k, j, "+".join(group), t, g.predicted_gain[t], g.score]))
                         for j, group in enumerate(g.groups, 1) for t in group]
    return rows

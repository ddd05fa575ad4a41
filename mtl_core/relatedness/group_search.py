"""Which tasks to train together, as the surrogate predicts: the grouping with the highest summed predicted gain.

A grouping's score is the sum over tasks of the task's predicted gain in its group over training alone
(``gain(task, group)``, e.g. ``Surrogate.predicted_gain``; a task alone gains 0). Unlike ``results.grouping``,
which averages pairwise gains, the gain of a task in a group comes from one model of the whole group.

Search, under a limit of ``max_groups`` groups:
- up to EXHAUSTIVE_MAX tasks, every set partition (Bell(8) = 4,140);
- beyond, a heuristic: greedy merging (from every task alone, merge the two groups whose union gains the most,
  while that gains or while there are more groups than allowed), then local moves (one task to another group or
  to a new one, while any move improves), restarted from RESTARTS - 1 seeded random groupings as well; the best
  found is kept. It can miss the best grouping.
On equal scores the grouping with fewer groups (fewer models to train) wins. Every number here is a prediction,
not a measurement: ``checks`` says how well the surrogate's predictions held on subsets it did not see.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from mtl_core.errors import ConfigError
from mtl_core.relatedness.partitions import partitions

EXHAUSTIVE_MAX = 8
RESTARTS = 8
BASIS = "surrogate prediction"
GROUPING_COLUMNS = ["basis", "k", "group", "tasks", "task", "predicted_gain", "score", "search"]

Gain = Callable[[str, list[str]], float]


@dataclass
class PredictedGrouping:
    groups: list[list[str]]               # tasks in the caller's order, groups by their first task
    predicted_gain: dict[str, float]      # per task: predicted gain in its group over alone (0 when alone)
    score: float                          # sum of predicted_gain
    search: str                           # "exhaustive" or the heuristic's name
    basis: str = BASIS                    # a prediction, never a measurement


class GroupScores:
    """Each group's predicted gains, computed once per group."""

    def __init__(self, tasks: list[str], gain: Gain):
        self.order = {t: k for k, t in enumerate(tasks)}
        self.gain = gain
        self.cache: dict[frozenset[str], dict[str, float]] = {}

    def gains(self, group) -> dict[str, float]:
        key = frozenset(group)
        if key not in self.cache:
            members = sorted(key, key=self.order.__getitem__)
            self.cache[key] = {t: 0.0 if len(members) == 1 else float(self.gain(t, members)) for t in members}
        return self.cache[key]

    def score(self, groups) -> float:
        return sum(sum(self.gains(g).values()) for g in groups)

    def grouping(self, groups, search: str) -> PredictedGrouping:
        ordered = sorted((sorted(g, key=self.order.__getitem__) for g in groups if g), key=lambda g: self.order[g[0]])
        gains = {t: v for g in ordered for t, v in self.gains(g).items()}
        return PredictedGrouping(ordered, {t: gains[t] for t in sorted(gains, key=self.order.__getitem__)},
                                 float(sum(gains.values())), search)


def _key(score: float, n_groups: int) -> tuple:
    return round(score, 12), -n_groups


def _check(tasks: list[str], max_groups: int | None) -> tuple[list[str], int]:
    tasks = list(dict.fromkeys(tasks))
    if not tasks:
        raise ConfigError("A grouping search needs at least one task. Got none.")
    if max_groups is None:
        return tasks, len(tasks)
    if isinstance(max_groups, bool) or not isinstance(max_groups, (int, np.integer)) or max_groups < 1:
        raise ConfigError(f"The 'max_groups' parameter must be a whole number >= 1. Got {max_groups!r} instead.")
    return tasks, int(max_groups)


def _exhaustive_by_size(tasks: list[str], scores: GroupScores, max_groups: int) -> dict[int, list[list[str]]]:
    """For each number of groups m <= ``max_groups``, the best partition into exactly m groups."""
    best: dict[int, tuple[float, list[list[str]]]] = {}
    for groups in partitions(tasks, max_groups):
        score = round(scores.score(groups), 12)
        if len(groups) not in best or score > best[len(groups)][0]:
            best[len(groups)] = (score, groups)
    return {m: groups for m, (_, groups) in best.items()}


def _greedy_merge(tasks: list[str], scores: GroupScores, max_groups: int) -> list[list[str]]:
    groups = [[t] for t in tasks]
    while len(groups) > 1:
        gains = [(scores.score([a + b]) - scores.score([a, b]), i, j)
                 for i, a in enumerate(groups) for j, b in enumerate(groups) if i < j]
        delta, i, j = max(gains, key=lambda g: g[0])
        if delta <= 0 and len(groups) <= max_groups:
            break
        groups = [g for k, g in enumerate(groups) if k not in (i, j)] + [groups[i] + groups[j]]
    return groups


def _local_moves(groups: list[list[str]], scores: GroupScores, max_groups: int,
                 rng: np.random.Generator) -> list[list[str]]:
    """Move one task at a time to the group (or a new group) that most improves (score, fewer groups)."""
    groups = [list(g) for g in groups if g]
    improved = True
    while improved:
        improved = False
        for t in rng.permutation([t for g in groups for t in g]).tolist():
            home = next(k for k, g in enumerate(groups) if t in g)
            current = _key(scores.score(groups), len(groups))
            options = [k for k in range(len(groups)) if k != home] + ([None] if len(groups) < max_groups else [])
            best, best_key = None, current
            for k in options:
                moved = [[x for x in g if x != t] for g in groups]
                if k is None:
                    moved.append([t])
                else:
                    moved[k].append(t)
                moved = [g for g in moved if g]
                key = _key(scores.score(moved), len(moved))
                if key > best_key:
                    best, best_key = moved, key
            if best is not None:
                groups, improved = best, True
    return groups


def _heuristic(tasks: list[str], scores: GroupScores, max_groups: int, seed: int) -> list[list[str]]:
    rng = np.random.default_rng(seed)
    starts = [_greedy_merge(tasks, scores, max_groups)]
    for _ in range(RESTARTS - 1):
        labels = rng.integers(0, rng.integers(1, min(max_groups, len(tasks)) + 1), size=len(tasks))
        starts.append([[t for t, label in zip(tasks, labels) if label == g] for g in set(labels.tolist())])
    found = [_local_moves(start, scores, max_groups, rng) for start in starts]
    return max(found, key=lambda g: _key(scores.score(g), len(g)))


def heuristic_name() -> str:
    return f"heuristic: greedy merging + local moves, {RESTARTS} starts"


def best_predicted_grouping(tasks: list[str], gain: Gain, max_groups: int | None = None,
                            seed: int = 0) -> PredictedGrouping:
    """The grouping of ``tasks`` into at most ``max_groups`` groups (default: no limit) with the highest summed
    predicted gain; exhaustive up to EXHAUSTIVE_MAX tasks, else the seeded heuristic (see the module docstring)."""
    tasks, limit = _check(tasks, max_groups)
    return predicted_groupings(tasks, gain, [limit], seed)[limit]


def predicted_groupings(tasks: list[str], gain: Gain, limits: list[int] | None = None,
                        seed: int = 0) -> dict[int, PredictedGrouping]:
    """The best grouping under each group limit in ``limits`` (default 1 .. number of tasks); one exhaustive
    enumeration serves every limit."""
    tasks, _ = _check(tasks, None)
    limits = [_check(tasks, k)[1] for k in (limits or range(1, len(tasks) + 1))]
    scores = GroupScores(tasks, gain)
    if len(tasks) <= EXHAUSTIVE_MAX:
        by_size = _exhaustive_by_size(tasks, scores, max(limits))
        pick = {k: max((g for m, g in by_size.items() if m <= k), key=lambda g: _key(scores.score(g), len(g)))
                for k in limits}
        return {k: scores.grouping(pick[k], "exhaustive") for k in limits}
    return {k: scores.grouping(_heuristic(tasks, scores, k, seed), heuristic_name()) for k in limits}


def grouping_rows(groupings: dict[int, PredictedGrouping]) -> list[dict]:
    """Rows of GROUPING_COLUMNS: one per task of each limit's grouping (``predicted_groupings``)."""
    return [dict(zip(GROUPING_COLUMNS, [g.basis, k, j, "+".join(group), t, g.predicted_gain[t], g.score, g.search]))
            for k, g in sorted(groupings.items()) for j, group in enumerate(g.groups, 1) for t in group]

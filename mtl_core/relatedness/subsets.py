"""Which task subsets a "subsets" study trains: a balanced random sample, so that every task and every pair of
tasks appears in several subsets (what a surrogate needs to tell partners apart).

Method (a greedy balanced design, seeded):
1. Sizes: subsets have between 2 and k - 1 tasks (one task is its single run, all k the 'all' run; both are
   trained anyway). Sizes come from the narrowest band around k/2 that holds ``budget`` distinct subsets: a
   subset of about half the tasks tells the most about each partner (Li, Nguyen & Zhang 2023 sample at
   random; a half-size subset has the largest variance of "is partner p in it").
2. Choice: ``budget`` times, among candidate subsets not yet chosen (every one in the band when the band holds
   at most ENUMERATE_LIMIT of them, else CANDIDATES random ones), take the one whose tasks and pairs have
   appeared least so far (mean appearances of its tasks + mean appearances of its pairs), ties broken at
   random. The result is as close to a balanced incomplete block design as the budget allows.
"""
from __future__ import annotations

from itertools import combinations
from math import comb

import numpy as np

from mtl_core.errors import ConfigError

ENUMERATE_LIMIT = 5000   # a band of at most this many subsets is searched exhaustively at every step
CANDIDATES = 300         # else this many random candidates per step
DEFAULT_BUDGET_PER_TASK = 3


def possible_subsets(n_tasks: int) -> int:
    """How many distinct subsets of 2 .. k - 1 tasks there are (2^k - k - 2; 0 for fewer than 3 tasks)."""
    return max(0, 2 ** n_tasks - n_tasks - 2)


def default_budget(n_tasks: int) -> int:
    """The budget when none is given: 3 subsets per task, at most every possible subset."""
    return min(DEFAULT_BUDGET_PER_TASK * n_tasks, possible_subsets(n_tasks))


def check_budget(n_tasks: int, budget) -> int:
    """``budget`` as an int, or a ConfigError saying which budgets this number of tasks allows."""
    if n_tasks < 3:
        raise ConfigError(f"The 'subsets' plan needs at least 3 tasks (with 2, the only subset is all of them: "
                          f"use the 'pairs' plan). Got {n_tasks} task(s).")
    most = possible_subsets(n_tasks)
    if budget is None:
        raise ConfigError(f"The 'subsets' plan needs a budget: how many task subsets to train, from {n_tasks} "
                          f"(the number of tasks) to {most}; {default_budget(n_tasks)} is a good start. Got none.")
    if isinstance(budget, bool) or not isinstance(budget, (int, np.integer)):
        raise ConfigError(f"The 'budget' option must be a whole number. Got {budget!r} instead.")
    if budget < n_tasks:
        raise ConfigError(f"The 'budget' option must be at least the number of tasks ({n_tasks}), so that every "
                          f"task appears in several subsets. Got {budget}.")
    if budget > most:
        raise ConfigError(f"The 'budget' option can be at most {most}: {n_tasks} tasks have only {most} subsets of "
                          f"2 to {n_tasks - 1} tasks (all {n_tasks} together is trained anyway). Got {budget}.")
    return int(budget)


def size_band(n_tasks: int, budget: int) -> list[int]:
    """The narrowest range of subset sizes around k/2 (within 2 .. k - 1) holding at least ``budget`` subsets."""
    lo = hi = max(2, min(n_tasks - 1, round(n_tasks / 2)))
    while sum(comb(n_tasks, s) for s in range(lo, hi + 1)) < budget:
        if hi < n_tasks - 1 and (hi - n_tasks / 2 <= n_tasks / 2 - lo or lo <= 2):
            hi += 1
        else:
            lo -= 1
    return list(range(lo, hi + 1))


def _candidates(n: int, sizes: list[int], chosen: set[tuple[int, ...]], rng: np.random.Generator) -> list[tuple]:
    """Subsets (sorted index tuples) not chosen yet: every one in the band if it is small, else random ones."""
    if sum(comb(n, s) for s in sizes) <= ENUMERATE_LIMIT:
        found = [c for s in sizes for c in combinations(range(n), s) if c not in chosen]
        return [found[i] for i in rng.permutation(len(found))]
    order = rng.random((CANDIDATES, n)).argsort(axis=1)       # (C, n): a random permutation per candidate
    drawn = rng.choice(sizes, size=CANDIDATES)
    found = {tuple(sorted(row[:size].tolist())) for row, size in zip(order, drawn)}
    return [c for c in sorted(found) if c not in chosen]


def _least_covered(options: list[tuple], task_count: np.ndarray, pair_count: np.ndarray) -> tuple:
    """The option whose tasks and pairs appeared least so far (mean over its tasks + mean over its pairs)."""
    member = np.zeros((len(options), len(task_count)))        # (C, n) membership
    for row, c in enumerate(options):
        member[row, list(c)] = 1
    size = member.sum(axis=1)
    tasks_seen = member @ task_count / size
    pairs_seen = np.einsum("ci,ij,cj->c", member, pair_count, member) / (size * (size - 1))  # symmetric counts
    return options[int(np.argmin(tasks_seen + pairs_seen))]


def sample_subsets(tasks: list[str], budget: int, seed: int = 0) -> list[list[str]]:
    """``budget`` distinct subsets of 2 .. k - 1 of ``tasks``, each in the order of ``tasks``, balanced so every
    task and every pair appears about equally often (see the module docstring). The same for the same seed."""
    tasks = list(dict.fromkeys(tasks))
    budget = check_budget(len(tasks), budget)
    n, sizes = len(tasks), size_band(len(tasks), budget)
    rng = np.random.default_rng(seed)
    task_count = np.zeros(n)
    pair_count = np.zeros((n, n))   # symmetric, zero diagonal
    chosen: list[tuple[int, ...]] = []
    while len(chosen) < budget:
        options = _candidates(n, sizes, set(chosen), rng)
        if not options:  # random candidates all taken already (a nearly full band): draw again
            continue
        best = _least_covered(options, task_count, pair_count)
        chosen.append(best)
        task_count[list(best)] += 1
        for a, b in combinations(best, 2):
            pair_count[a, b] += 1
            pair_count[b, a] += 1
    return [[tasks[i] for i in c] for c in sorted(chosen, key=lambda c: (len(c), c))]


def coverage(subsets: list[list[str]], tasks: list[str]) -> dict:
    """How often each task and each pair of ``tasks`` appears in ``subsets``: min and mean (for a design's
    caption and its tests), and the number of subsets."""
    tasks = list(dict.fromkeys(tasks))
    members = [set(s) for s in subsets]
    per_task = [sum(t in s for s in members) for t in tasks]
    per_pair = [sum(a in s and b in s for s in members) for a, b in combinations(tasks, 2)]
    return {"n_subsets": len(subsets),
            "task_min": min(per_task, default=0), "task_mean": float(np.mean(per_task)) if per_task else 0.0,
            "pair_min": min(per_pair, default=0), "pair_mean": float(np.mean(per_pair)) if per_pair else 0.0}

"""Which task subsets a "subsets" study trains: a balanced random sample, so that every task and every pair of
tasks appears in several subsets (what a surrogate needs to tell partners apart).

Method (a greedy balanced design, seeded):
1. Sizes: subsets have between 2 and k - 1 tasks (one task is its single run, all k the 'all' run; both are
   trained anyway). The surrogate of a target task t learns what partner p adds from the subsets containing t,
   so it learns most where "is p in it" varies most among them: where p is in half of t's subsets, i.e. in
   subsets of (k + 1) / 2 tasks (t and half of the other k - 1). Li, Nguyen & Zhang (2023) sample subsets at
   random; this design takes the most informative sizes first. Sizes are grouped in rings by their distance
   from (k + 1) / 2 (for 5 tasks: {3}, then {2, 4}; for 10: {5, 6}, then {4, 7}, ...); whole rings are taken,
   nearest first, while the budget holds them, and the rest of the budget is chosen from the next ring.
2. Choice within that ring: ``budget`` - (subsets taken so far) times, among candidate subsets not yet chosen
   (every one in the ring when it holds at most ENUMERATE_LIMIT of them, else CANDIDATES random ones), take the
   one whose tasks and pairs have appeared least so far (mean appearances of its tasks + mean appearances of its
   pairs, the whole rings taken counted), ties broken at random. The result is as close to a balanced
   incomplete block design as the budget allows (for 5 tasks and 10 subsets: all 10 triples, each task in 6,
   each pair in 3, each partner of a task in half of that task's subsets).
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


def size_rings(n_tasks: int) -> list[list[int]]:
    """The sizes 2 .. k - 1 grouped by their distance from (k + 1) / 2, nearest first (see the module docstring)."""
    centre = (n_tasks + 1) / 2
    sizes = range(2, n_tasks)
    return [[s for s in sizes if abs(s - centre) == d] for d in sorted({abs(s - centre) for s in sizes})]


def _candidates(n: int, sizes: list[int], chosen: set[tuple[int, ...]], rng: np.random.Generator) -> list[tuple]:
    """Subsets (sorted index tuples) of ``sizes`` not chosen yet: every one if they are few, else random ones."""
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
    """``budget`` distinct subsets of 2 .. k - 1 of ``tasks``, each in the order of ``tasks``, of the most
    informative sizes first and balanced so every task and every pair appears about equally often (see the module
    docstring). The same for the same seed."""
    tasks = list(dict.fromkeys(tasks))
    budget = check_budget(len(tasks), budget)
    n = len(tasks)
    rng = np.random.default_rng(seed)
    task_count = np.zeros(n)
    pair_count = np.zeros((n, n))   # symmetric, zero diagonal
    chosen: list[tuple[int, ...]] = []

    def take(subset: tuple[int, ...]) -> None:
        chosen.append(subset)
        task_count[list(subset)] += 1
        for a, b in combinations(subset, 2):
            pair_count[a, b] += 1
            pair_count[b, a] += 1

    for ring in size_rings(n):
        if sum(comb(n, s) for s in ring) <= budget - len(chosen):   # the whole ring fits: take it
            for subset in (c for s in ring for c in combinations(range(n), s)):
                take(subset)
            continue
        while len(chosen) < budget:
            options = _candidates(n, ring, set(chosen), rng)
            if options:  # (random candidates all taken already, in a nearly full ring: draw again)
                take(_least_covered(options, task_count, pair_count))
        break
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

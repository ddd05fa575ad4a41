"""Which examples go into which batch, and in what order tasks take turns.

Each training row belongs to one *owner* task (the first task of the run that labels it), so an
epoch visits every labeled row once. Batches are per task (a batch holds one task's rows; any other
task labeled on those rows is trained too, through the masked loss). Within a task, rows are
length-bucketed: shuffled, cut into chunks, sorted by length inside a chunk, so batches carry
little padding; then the batches of all tasks are mixed by the sampling rule.
"""
from __future__ import annotations

import numpy as np
import torch

BUCKET_BATCHES = 20  # batches per length-sorting chunk: enough to cut padding, little enough to stay random


def owner_rows(targets: dict[str, torch.Tensor], rows: list[int], tasks: list[str]) -> dict[str, np.ndarray]:
    """For each task, the rows in ``rows`` it owns (first task in ``tasks`` with a label there)."""
    rows_t = torch.as_tensor(rows, dtype=torch.long)
    taken = torch.zeros(len(rows), dtype=torch.bool)
    owned = {}
    for task in tasks:
        t = targets[task][rows_t]
        present = (t != -100) if t.dim() == 1 else (t != -100).any(dim=1)
        mine = present & ~taken
        taken |= present
        owned[task] = rows_t[mine].numpy()
    return owned


def steps_per_epoch(owned: dict[str, np.ndarray], batch_size: int) -> int:
    """The number of batches ``epoch_plan`` gives, whatever the rule: as many as all tasks' rows fill."""
    return sum(-(-len(rows) // batch_size) for rows in owned.values())


def batch_targets(targets: torch.Tensor, idx: torch.Tensor, width: int) -> torch.Tensor:
    """A task's targets for the batch rows ``idx``, tagging targets cut to the batch's width."""
    targets = targets[idx]
    return targets[:, :width] if targets.dim() == 2 else targets


def task_batches(rows: np.ndarray, lengths: np.ndarray, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    rows = rng.permutation(rows)
    chunk = batch_size * BUCKET_BATCHES
    batches = []
    for start in range(0, len(rows), chunk):
        part = rows[start:start + chunk]
        part = part[np.argsort(lengths[part], kind="stable")]
        batches += [part[i:i + batch_size] for i in range(0, len(part), batch_size)]
    return batches


def epoch_plan(owned: dict[str, np.ndarray], lengths: np.ndarray, batch_size: int, rng: np.random.Generator,
               rule: str = "proportional", alpha: float = 0.5) -> list[tuple[str, np.ndarray]]:
    """The epoch's batches in order; an epoch has as many batches as all tasks' rows fill.

    ``proportional``: every batch of every task once, shuffled (a task's turns follow its size).
    ``temperature``: each turn goes to task t with probability ~ n_t ** alpha (alpha = 1: proportional,
    alpha -> 0: uniform), so small tasks are revisited (their batches recycled, reshuffled) and large ones
    under-sampled. ``round_robin``: tasks take turns in a fixed cycle, small tasks recycled likewise.
    """
    per_task = {task: task_batches(rows, lengths, batch_size, rng) for task, rows in owned.items()}
    per_task = {t: b for t, b in per_task.items() if b}
    total = sum(len(b) for b in per_task.values())
    if rule == "proportional":
        plan = [(task, b) for task, batches in per_task.items() for b in batches]
        return [plan[i] for i in rng.permutation(len(plan))]
    tasks = list(per_task)
    if rule == "temperature":
        sizes = np.array([len(owned[t]) for t in tasks], dtype=float)
        p = sizes ** alpha / (sizes ** alpha).sum()
        turns = [tasks[k] for k in rng.choice(len(tasks), size=total, p=p)]
    elif rule == "round_robin":
        turns = [tasks[k % len(tasks)] for k in range(total)]
    else:
        raise ValueError(f"The 'sampling' rule must be one of proportional, temperature, round_robin. "
                         f"Got {rule!r} instead.")
    cursor = dict.fromkeys(tasks, 0)
    plan = []
    for task in turns:
        if cursor[task] == len(per_task[task]):  # used up: a fresh shuffle of the same rows
            per_task[task] = task_batches(owned[task], lengths, batch_size, rng)
            cursor[task] = 0
        plan.append((task, per_task[task][cursor[task]]))
        cursor[task] += 1
    return plan

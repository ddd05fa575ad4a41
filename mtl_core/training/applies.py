"""Learning whether a task applies to a text: the ``applies`` detectors of tasks whose absent label means
"not about this" (ABSA aspects a sentence does not mention; ``models.build.applies_tasks``).

A detector is trained on every training row of its task's data: present label = 1, absent = 0. The rows no
task of the run labels would never be visited by an epoch (each batch belongs to a task that labels its rows),
so they are handed to the first such task; its masked loss ignores them, its detector learns from them.
The detectors' loss is kept apart from the tasks' losses (each task's masked loss is unchanged, and the
weighting method never sees the detectors): its gradient is added to the method's, like a sharing
architecture's own extra loss, and trains the detectors and the encoder below them.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

APPLIES_THRESHOLD = 0.5  # P(applies) at or above it: the task applies


def visit_every_row(owned: dict[str, np.ndarray], train_rows: list[int], detect: frozenset) -> dict[str, np.ndarray]:
    """``owned`` (task -> training rows it owns) with the rows no task owns given to the first task in
    ``detect`` (unchanged when no task of the run has a detector)."""
    first = next((t for t in owned if t in detect), None)
    if first is None:
        return owned
    taken = np.concatenate([np.asarray(rows, dtype=np.int64) for rows in owned.values()])
    rest = np.setdiff1d(np.asarray(train_rows, dtype=np.int64), taken)
    return {**owned, first: np.concatenate([owned[first], rest]).astype(owned[first].dtype)}


def applies_loss(logits: dict[str, torch.Tensor], present: dict[str, np.ndarray],
                 batch: np.ndarray) -> torch.Tensor | None:
    """The detectors' summed binary cross-entropy over the batch rows (a row with the task's label: 1), or None
    when no detector ran. ``logits``: task -> (B,); ``present``: task -> (N,) bool over all rows."""
    if not logits:
        return None
    losses = [F.binary_cross_entropy_with_logits(
        z.float(), torch.as_tensor(present[t][batch], dtype=torch.float32, device=z.device))
        for t, z in logits.items()]
    return torch.stack(losses).sum()

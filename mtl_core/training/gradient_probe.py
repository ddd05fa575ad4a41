"""Gradient interference during training: do two tasks pull the shared encoder the same way?

Every ``RunConfig.grad_every`` optimizer steps, a :class:`GradientProbe` takes ``probe_rows(k)`` random
training rows per task (PROBE_ROWS with two tasks, fewer per task with more; their union is one batch, so every
task is present), runs ONE forward pass of the shared encoder, and takes each task's gradient of its own loss
with respect to the *shared* parameters only (embedding + backbone, never the heads) with
``torch.autograd.grad(retain_graph=True)``.
Absent labels are masked, so a task's loss (and gradient) comes only from the rows that hold its label.

Why k backward passes (``retain_graph``) and not one batched backward: measured on the CPU (5 tasks, 640 rows,
BiLSTM 128), ``torch.autograd.grad(losses, shared, grad_outputs=eye(k), is_grads_batched=True)`` took 11.2 s
against 2.5 s for the loop, because vmap has no batching rule for the LSTM backward and falls back to a
slow path. The forward pass is still shared by all tasks.

Per task pair "A|B" (A before B in the run's task order) and per measurement:

- ``grad_cosine``: cosine similarity of g_A and g_B, each flattened over all shared parameters;
- ``grad_conflict_rate``: 1.0 when that cosine is negative, else 0.0 (the PCGrad notion of
  "conflicting gradients"); averaged over an epoch it is the *share of measurements* in which the two
  tasks' gradients on the whole shared encoder conflicted;
- ``grad_norm_ratio``: ||g_A|| / ||g_B|| (how much more strongly A pulls than B).

Each is averaged over the epoch's measurements and returned as curve rows {epoch, task, name, value}.

The probe never changes training: it writes nothing into ``.grad``, takes no optimizer step, measures
without dropout (modules in eval mode; cuDNN RNNs stay in train mode, which cuDNN's backward needs, and
any randomness they draw is taken from a forked RNG), uses its own numpy generator to pick rows, and
restores every module's train/eval mode afterwards. A run with ``grad_every > 0`` therefore gives the
same scores as one without, for the same seed.
"""
from __future__ import annotations

from collections import defaultdict
from itertools import combinations

import numpy as np
import torch
from torch import nn

from mtl_core.data.encode import IGNORE
from mtl_core.training.losses import masked_cross_entropy

NAMES = ("grad_cosine", "grad_conflict_rate", "grad_norm_ratio")
# Rows per task in a measurement batch. Larger than a training batch on purpose: with 32 rows per task on
# separate sentences, sampling noise alone keeps the cosine near 0 even for agreeing tasks (measured).
PROBE_ROWS = 128     # random training rows per task for a run of two tasks
MIN_PROBE_ROWS = 16  # ... never fewer per task, however many tasks


def probe_rows(n_tasks: int) -> int:
    """Rows per task of one probe batch: PROBE_ROWS for two tasks, then fewer per task so that the batch stays at
    about 2 x PROBE_ROWS rows (a 10-task run: 25 per task, not 1,280 rows in all; each probe backpropagates once
    per task through that batch, so rows per task x tasks is what a measurement costs)."""
    return max(MIN_PROBE_ROWS, PROBE_ROWS * 2 // max(n_tasks, 2))


SEP = "|"  # pair label "A|B"


def pair_label(a: str, b: str) -> str:
    return f"{a}{SEP}{b}"


def pair_stats(grads: dict[str, torch.Tensor]) -> dict[str, dict[str, float]]:
    """Per pair "A|B" of ``grads`` (task -> flat gradient vector): cosine, conflict (0/1) and norm ratio.

    A task whose gradient is all zeros has no direction: its pairs are left out.
    """
    norms = {t: float(g.norm()) for t, g in grads.items()}
    out = {}
    for a, b in combinations(grads, 2):
        if norms[a] == 0.0 or norms[b] == 0.0:
            continue
        cosine = float(torch.dot(grads[a], grads[b])) / (norms[a] * norms[b])
        out[pair_label(a, b)] = {"grad_cosine": cosine, "grad_conflict_rate": float(cosine < 0),
                                 "grad_norm_ratio": norms[a] / norms[b]}
    return out


def epoch_rows(measurements: list[dict[str, dict[str, float]]], epoch: int) -> list[dict]:
    """Curve rows: each pair's statistics averaged over ``measurements`` (outputs of ``pair_stats``)."""
    values: dict[tuple[str, str], list[float]] = defaultdict(list)
    for m in measurements:
        for pair, stats in m.items():
            for name, v in stats.items():
                values[(pair, name)].append(v)
    return [{"epoch": epoch, "task": pair, "name": name, "value": float(np.mean(v))}
            for (pair, name), v in values.items()]


def task_gradients(model: nn.Module, ids: torch.Tensor, lengths: torch.Tensor,
                   targets: dict[str, torch.Tensor], tasks: list[str]) -> dict[str, torch.Tensor]:
    """Each task's gradient of its masked loss w.r.t. the shared parameters, flattened; one forward pass.

    ``ids`` (B, T), ``lengths`` (B,), ``targets[t]`` (B,) or (B, T) with -100 where absent.
    Nothing is written into any parameter's ``.grad``.
    """
    shared = [p for p in model.shared_parameters() if p.requires_grad]
    out = model(ids, lengths, tasks)
    grads = {}
    for k, t in enumerate(tasks):
        if not bool((targets[t] != IGNORE).any()):
            continue
        loss = masked_cross_entropy(out[t], targets[t])
        g = torch.autograd.grad(loss, shared, retain_graph=k < len(tasks) - 1, allow_unused=True)
        grads[t] = torch.cat([(gi if gi is not None else torch.zeros_like(p)).reshape(-1).float()
                              for gi, p in zip(g, shared)])
    return grads


class GradientProbe:
    """Measures gradient interference between a run's tasks every ``every`` optimizer steps."""

    def __init__(self, model: nn.Module, ids: torch.Tensor, lengths: torch.Tensor,
                 targets: dict[str, torch.Tensor], train_rows: list[int], every: int, batch_size: int,
                 seed: int):
        self.model, self.ids, self.lengths, self.targets = model, ids, lengths, targets
        self.every, self.batch_size = every, batch_size
        self.tasks = list(targets)
        rows = torch.as_tensor(train_rows, dtype=torch.long)
        self.rows = {}  # task -> the training rows that hold its label
        for t in self.tasks:
            tt = targets[t][rows.to(targets[t].device)].cpu()
            present = (tt != IGNORE) if tt.dim() == 1 else (tt != IGNORE).any(dim=1)
            if bool(present.any()):
                self.rows[t] = rows[present].numpy()
        self.rng = np.random.default_rng([seed, 0x6E7A])  # own generator: training's row order is untouched
        self.steps = 0
        self.measurements: list[dict[str, dict[str, float]]] = []

    @classmethod
    def for_run(cls, config, model: nn.Module, ids: torch.Tensor, lengths: torch.Tensor,
                targets: dict[str, torch.Tensor], train_rows: list[int], seed: int) -> "GradientProbe | None":
        """A probe when ``config.grad_every`` > 0 and the run has at least two tasks, else None."""
        if not config.grad_every or len(targets) < 2:
            return None
        return cls(model, ids, lengths, targets, train_rows, config.grad_every, probe_rows(len(targets)), seed)

    def after_step(self) -> None:
        """Call after every optimizer step; measures on every ``every``-th."""
        self.steps += 1
        if self.steps % self.every == 0 and len(self.rows) >= 2:
            self.measurements.append(self.measure())

    def batch(self) -> np.ndarray:
        """Up to ``batch_size`` random training rows per task, merged (sorted, no duplicates)."""
        picks = [self.rng.choice(r, size=min(self.batch_size, len(r)), replace=False) for r in self.rows.values()]
        return np.unique(np.concatenate(picks))

    def measure(self) -> dict[str, dict[str, float]]:
        rows = self.batch()
        idx = torch.from_numpy(rows).to(self.ids.device)
        lengths = self.lengths[idx]
        width = int(lengths.max())
        targets = {t: (self.targets[t][idx][:, :width] if self.targets[t].dim() == 2 else self.targets[t][idx])
                   for t in self.rows}
        modes = {m: m.training for m in self.model.modules()}
        self.model.eval()
        for m in self.model.modules():  # cuDNN can only backpropagate through an RNN in train mode
            if isinstance(m, nn.RNNBase) and self.ids.device.type == "cuda":
                m.train()
        devices = [self.ids.device] if self.ids.device.type == "cuda" else []
        try:
            with torch.random.fork_rng(devices=devices), torch.enable_grad():
                grads = task_gradients(self.model, self.ids[idx, :width], lengths, targets, list(self.rows))
        finally:
            for m, training in modes.items():
                m.train(training)
        return pair_stats(grads)

    def epoch_curves(self, epoch: int) -> list[dict]:
        """This epoch's averaged rows (see ``epoch_rows``); starts the next epoch afresh."""
        rows = epoch_rows(self.measurements, epoch)
        self.measurements = []
        return rows





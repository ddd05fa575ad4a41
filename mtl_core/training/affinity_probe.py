"""Lookahead task affinity (Fifty et al. 2021, "Efficiently Identifying Task Groupings for Multi-Task Learning").

Every ``RunConfig.affinity_every`` optimizer steps of a multi-task run, on one batch holding rows of every
task (drawn like the gradient probe's, see ``interference.GradientProbe.batch``):

1. every task j's loss L_j(before) on the batch;
2. for each task i: one plain SGD step on the *shared* parameters only, theta_s - lr * grad L_i (lr = the run's
   lr, heads unchanged), then every task j's loss L_j(after) on the same batch;
   affinity(i -> j) = 1 - L_j(after) / L_j(before)   (> 0: i's step lowers j's loss; < 0: it raises it);
3. the shared parameters are copied back bit for bit.

Stored as curve rows {epoch, task: "i>j", name: "lookahead_affinity", value}, averaged over the epoch.
The step is a raw-gradient SGD step (no clipping, no Adam scaling), so values are small (about lr x |g|^2 / L);
only their comparison across pairs matters. Like the gradient probe, measuring never changes training:
eval mode (no dropout), no optimizer state, nothing written into ``.grad``, rows drawn from the probe's own
numpy generator, any torch randomness taken from a forked RNG.

``affinity_matrix`` reads a stored study: row = task scored (j), partner = task whose step (i), the same
"task, partner" convention as ``transfer.transfer_matrix``.
"""
from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import torch
from torch import nn

from mtl_core.training.gradient_probe import GradientProbe, probe_rows, task_gradients
from mtl_core.training.losses import masked_cross_entropy

NAME = "lookahead_affinity"
ARROW = ">"  # curve label "i>j": i takes the step, j is scored


def step_label(stepper: str, scored: str) -> str:
    return f"{stepper}{ARROW}{scored}"


@contextmanager
def measuring(model: nn.Module, device: torch.device):
    """Eval mode (cuDNN RNNs stay in train mode: their backward needs it), forked RNG; modes restored after."""
    modes = {m: m.training for m in model.modules()}
    model.eval()
    for m in model.modules():
        if isinstance(m, nn.RNNBase) and device.type == "cuda":
            m.train()
    try:
        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
            yield
    finally:
        for m, training in modes.items():
            m.train(training)


@torch.no_grad()
def batch_losses(model: nn.Module, ids: torch.Tensor, lengths: torch.Tensor,
                 targets: dict[str, torch.Tensor], tasks: list[str]) -> dict[str, float]:
    out = model(ids, lengths, tasks)
    return {t: float(masked_cross_entropy(out[t].float(), targets[t])) for t in tasks}


def lookahead_affinities(model: nn.Module, ids: torch.Tensor, lengths: torch.Tensor,
                         targets: dict[str, torch.Tensor], tasks: list[str], lr: float) -> dict[str, dict[str, float]]:
    """{"i>j": {NAME: affinity(i -> j)}} for every ordered pair of ``tasks`` (each must have labels in the batch).

    ``ids`` (B, T), ``lengths`` (B,), ``targets[t]`` (B,) or (B, T), -100 where absent. The shared parameters
    are restored exactly before returning.
    """
    shared = [p for p in model.shared_parameters() if p.requires_grad]  # the order task_gradients flattens in
    before = batch_losses(model, ids, lengths, targets, tasks)
    grads = task_gradients(model, ids, lengths, targets, tasks)
    saved = [p.detach().clone() for p in shared]
    out = {}
    for i in grads:
        try:
            with torch.no_grad():
                offset = 0
                for p in shared:
                    p.sub_(lr * grads[i][offset:offset + p.numel()].view_as(p).to(p.dtype))
                    offset += p.numel()
            after = batch_losses(model, ids, lengths, targets, tasks)
        finally:
            with torch.no_grad():
                for p, s in zip(shared, saved):
                    p.copy_(s)
        out.update({step_label(i, j): {NAME: 1.0 - after[j] / before[j]}
                    for j in tasks if j != i and before[j] > 0})
    return out


class AffinityProbe(GradientProbe):
    """Measures lookahead affinity between a run's tasks every ``every`` optimizer steps.

    Shares the gradient probe's row bookkeeping, batch drawing, step counting and epoch averaging; only what
    is measured differs (and its generator, so the two probes draw different batches).
    """

    def __init__(self, model: nn.Module, ids: torch.Tensor, lengths: torch.Tensor,
                 targets: dict[str, torch.Tensor], train_rows: list[int], every: int, batch_size: int,
                 seed: int, lr: float):
        super().__init__(model, ids, lengths, targets, train_rows, every, batch_size, seed)
        self.rng = np.random.default_rng([seed, 0xAFF1])
        self.lr = lr

    @classmethod
    def for_run(cls, config, model: nn.Module, ids: torch.Tensor, lengths: torch.Tensor,
                targets: dict[str, torch.Tensor], train_rows: list[int], seed: int) -> "AffinityProbe | None":
        """A probe when ``config.affinity_every`` > 0 and the run has at least two tasks, else None."""
        if not config.affinity_every or len(targets) < 2:
            return None
        return cls(model, ids, lengths, targets, train_rows, config.affinity_every, probe_rows(len(targets)),
                   seed, config.lr)

    def measure(self) -> dict[str, dict[str, float]]:
        idx = torch.from_numpy(self.batch()).to(self.ids.device)
        lengths = self.lengths[idx]
        width = int(lengths.max())
        targets = {t: (self.targets[t][idx][:, :width] if self.targets[t].dim() == 2 else self.targets[t][idx])
                   for t in self.rows}
        with measuring(self.model, self.ids.device), torch.enable_grad():
            return lookahead_affinities(self.model, self.ids[idx, :width], lengths, targets, list(self.rows), self.lr)





"""Gradient combination through torchjd: per-task gradients of the shared encoder -> one update.

For the shared parameters, each present task's gradient is computed (``torch.autograd.grad`` with the
graph kept) and flattened into a row of a (k, P) matrix; a torchjd aggregator turns that matrix into one
(P,) vector, written into the shared parameters' ``.grad``. Every other parameter reached by the losses
(the task heads: each appears in its own loss only) gets the plain gradient of the sum of the losses.
With fewer than ``min_tasks`` tasks in a batch there is nothing to combine: plain backward of the sum.

Stateful aggregators (GradVac, PCD, ExcessMTL) keep per-row statistics, and which task a row is changes
with the batch's task subset; so each subset of tasks gets its own aggregator.
"""
from __future__ import annotations

from abc import abstractmethod
from collections import defaultdict
from typing import TYPE_CHECKING, ClassVar

import torch

from mtl_core.training.weighting.base import GRADIENT_COMBINATION, Weighting

if TYPE_CHECKING:
    from torchjd.aggregation import Aggregator  # imported by the run that makes one (torchjd_methods.jd)


def other_leaves(loss: torch.Tensor, excluded: tuple[torch.Tensor, ...]) -> list[torch.Tensor]:
    """The leaf tensors requiring grad that ``loss`` depends on, except ``excluded`` (walks its graph)."""
    skip = {id(p) for p in excluded}
    leaves: dict[int, torch.Tensor] = {}
    seen, stack = set(), [loss.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        leaf = getattr(node, "variable", None)   # AccumulateGrad nodes hold their leaf
        if leaf is not None and id(leaf) not in skip:
            leaves[id(leaf)] = leaf
        stack.extend(next_node for next_node, _ in node.next_functions)
    return list(leaves.values())


class GradientCombination(Weighting):
    """Adapter from a torchjd aggregator to the trainer's ``backward(losses)``.

    Subclasses give ``make_aggregator`` (built from ``self.option_values``) and, for tunable aggregators,
    ``options`` declaring their hyperparameters.
    """
    kind = GRADIENT_COMBINATION
    min_tasks: ClassVar[int] = 2

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.aggregators: dict[tuple[str, ...], Aggregator] = {}   # one per task subset, not submodules
        self.weight_sums: dict[str, float] = defaultdict(float)    # this epoch's aggregation weights
        self.weight_counts: dict[str, int] = defaultdict(int)
        self.make_aggregator()   # fail at build time, not at the first batch, on a bad option

    @abstractmethod
    def make_aggregator(self) -> Aggregator:
        """A fresh aggregator built from ``self.option_values``."""

    def order(self, present: list[str]) -> list[str]:
        """The row order of the matrix (run order; PCD puts primary tasks first)."""
        return present

    def combines(self, present: list[str]) -> bool:
        """Whether this batch's tasks go through the aggregator (else: plain sum)."""
        return len(present) >= self.min_tasks and bool(self.shared)

    def backward(self, losses: dict[str, torch.Tensor], extra: torch.Tensor | None = None) -> None:
        """The aggregated task gradients on the shared parameters, plus ``extra``'s gradient as it is; every other
        parameter (heads, detectors) gets the plain sum's gradient in one pass."""
        present = self.order(self.present(losses))
        total = sum(losses[t] for t in present)
        if extra is not None:
            total = total + extra
        if not self.combines(present):
            total.backward()
            return
        matrix = torch.stack([self.task_gradient(losses[t]) for t in present])   # (k, P)
        combined = self.aggregator(present)(matrix)                                # (P,)
        if extra is not None:
            combined = combined + self.task_gradient(extra)
        heads = other_leaves(total, self.shared) if total.grad_fn is not None else []
        if heads:
            torch.autograd.backward(total, inputs=heads)
        self.write_shared_grad(combined)

    def task_gradient(self, loss: torch.Tensor) -> torch.Tensor:
        """(P,) gradient of one task's loss on the shared parameters (zeros where it does not reach)."""
        grads = (torch.autograd.grad(loss, self.shared, retain_graph=True, allow_unused=True)
                 if loss.requires_grad else [None] * len(self.shared))
        return torch.cat([(g if g is not None else torch.zeros_like(p)).reshape(-1)
                          for g, p in zip(grads, self.shared)])

    def write_shared_grad(self, combined: torch.Tensor) -> None:
        offset = 0
        for p in self.shared:
            piece = combined[offset:offset + p.numel()].view_as(p).to(p.dtype)
            p.grad = piece.clone() if p.grad is None else p.grad + piece
            offset += p.numel()

    def aggregator(self, present: list[str]) -> Aggregator:
        key = tuple(present)
        if key not in self.aggregators:
            from torchjd.aggregation import WeightedAggregator

            agg = self.make_aggregator()
            if isinstance(agg, WeightedAggregator):   # log the weights it gives each row
                agg.weighting.register_forward_hook(lambda _m, _in, w, key=key: self.record(key, w))
            self.aggregators[key] = agg
        return self.aggregators[key]

    def record(self, present: tuple[str, ...], weights: torch.Tensor) -> None:
        for t, w in zip(present, weights.detach().cpu().tolist()):
            self.weight_sums[t] += w
            self.weight_counts[t] += 1

    def start_epoch(self, epoch: int) -> None:
        super().start_epoch(epoch)
        self.weight_sums.clear()
        self.weight_counts.clear()

    def current_weights(self) -> dict[str, float]:
        """Mean aggregation weight of each task this epoch; empty for aggregators without weights."""
        return {t: self.weight_sums[t] / self.weight_counts[t] for t in self.tasks if self.weight_counts[t]}

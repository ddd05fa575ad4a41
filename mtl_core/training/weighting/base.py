"""What every weighting method is: one training batch's per-task losses in, parameter gradients out.

The trainer builds one method per run, calls ``start_epoch`` / ``backward`` (once per optimizer step, with
the losses of the tasks present in that batch) / ``end_epoch``, and logs ``current_weights``. A method's
own learnable values (e.g. uncertainty's log-variances) are ``nn.Parameter``s, so the trainer's optimizer
learns them; anything a method updates itself is kept out of ``parameters()``.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from typing import ClassVar

import torch
from torch import nn

from mtl_core.errors import ConfigError
from mtl_core.training.weighting.options import Option, option_values

LOSS_WEIGHTING = "loss weighting"
GRADIENT_COMBINATION = "gradient combination"
CONTEXT = ("tasks", "shared", "primary", "total_epochs", "manual_weights")  # what the trainer gives every method


class Weighting(nn.Module, ABC):
    """Turns ``{task: scalar loss}`` (any non-empty subset of ``tasks``) into ``.grad`` of the parameters.

    tasks: every task of the run; primary: the tasks the run is for (the others are auxiliary);
    shared: the shared-encoder parameters; total_epochs: the run's length (for schedules);
    manual_weights: only read by ``manual``. Other methods accept and ignore it, so the trainer can
    build every method with the same call. Any other keyword is one of the method's declared ``options``;
    ``self.option_values`` holds them all (defaults where not given).
    """
    description: ClassVar[str] = ""
    kind: ClassVar[str] = LOSS_WEIGHTING
    options: ClassVar[tuple[Option, ...]] = ()

    def __init__(self, *, tasks: Iterable[str], shared: Iterable[nn.Parameter], primary: Iterable[str] = (),
                 total_epochs: int = 1, manual_weights: Mapping[str, float] | None = None, **options):
        super().__init__()
        self.option_values = option_values(type(self).__name__, self.options, options)
        self.tasks = list(tasks)
        if not self.tasks:
            raise ConfigError(f"{type(self).__name__} needs at least one task. Got none.")
        self.primary = list(primary)
        unknown = [t for t in self.primary if t not in self.tasks]
        if unknown:
            raise ConfigError(f"The 'primary' tasks must be among {self.tasks}. Got {unknown} instead.")
        if total_epochs < 1:
            raise ConfigError(f"The 'total_epochs' option must be 1 or more. Got {total_epochs} instead.")
        self.total_epochs = total_epochs
        self.epoch = 1
        # A tuple, not a ParameterList: the model owns these, and the trainer must not get them twice.
        self.shared = tuple(p for p in shared if p.requires_grad)

    @abstractmethod
    def backward(self, losses: dict[str, torch.Tensor], extra: torch.Tensor | None = None) -> None:
        """Fill ``.grad`` of the model's parameters (and of this module's own) from one batch's losses.

        ``extra``: a loss the method does not weigh (the applies detectors', the model's own); its gradient is
        added as it is, in the same backward pass where the method allows (one pass through the encoder, not two).
        """

    def current_weights(self) -> dict[str, float]:
        """Each task's current weight, for the training curves (empty when a method has no such number)."""
        return dict.fromkeys(self.tasks, 1.0)

    def start_epoch(self, epoch: int) -> None:
        """Called before the first batch of ``epoch`` (1-based)."""
        self.epoch = epoch

    def end_epoch(self, epoch: int, mean_losses: Mapping[str, float]) -> None:
        """Called after the last batch of ``epoch`` with each task's mean training loss."""

    def present(self, losses: Mapping[str, torch.Tensor]) -> list[str]:
        """The batch's tasks in run order; rejects an empty batch and tasks the run does not have."""
        unknown = [t for t in losses if t not in self.tasks]
        if unknown or not losses:
            raise ValueError(f"{type(self).__name__}.backward needs losses of tasks among {self.tasks}. "
                             f"Got {list(losses)} instead.")
        return [t for t in self.tasks if t in losses]


class LossWeighting(Weighting):
    """A method that only rescales losses: one backward of ``sum_t weight_t * L_t``."""

    def weight(self, task: str) -> torch.Tensor | float:
        """The current weight of ``task`` (a tensor when it carries gradient to a learned value)."""
        return 1.0

    def combine(self, losses: dict[str, torch.Tensor]) -> torch.Tensor:
        """The scalar whose gradient is the update."""
        return sum(self.weight(t) * losses[t] for t in self.present(losses))

    def backward(self, losses: dict[str, torch.Tensor], extra: torch.Tensor | None = None) -> None:
        self.backward_total(self.combine(losses), extra)

    @staticmethod
    def backward_total(combined: torch.Tensor, extra: torch.Tensor | None) -> None:
        """One backward pass of the weighted sum plus the unweighted ``extra``."""
        (combined if extra is None else combined + extra).backward()

    def current_weights(self) -> dict[str, float]:
        return {t: float(self.weight(t)) for t in self.tasks}

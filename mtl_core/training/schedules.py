"""Learning-rate schedules over a run's optimizer steps: constant, or the usual recipe for fine-tuning a
pretrained encoder, a linear warmup over the first ``warmup`` share of the steps, then a linear decay to zero
at the last step the run could take (early stopping may end it sooner, at a learning rate above zero)."""
from __future__ import annotations

from typing import Callable

import torch

SCHEDULES = {
    "constant": "the same learning rate at every step",
    "linear": "linear warmup over the first `warmup` share of the steps, then linear decay to zero",
}


def lr_factor(name: str, total_steps: int, warmup: float) -> Callable[[int], float]:
    """Step (from 0) -> multiplier of each parameter group's learning rate."""
    if name == "constant":
        return lambda step: 1.0
    warm = max(1, round(warmup * total_steps)) if warmup > 0 else 0

    def linear(step: int) -> float:
        if step < warm:
            return (step + 1) / warm
        return max(0.0, (total_steps - step) / max(1, total_steps - warm))

    return linear


def make_scheduler(optimizer: torch.optim.Optimizer, name: str, total_steps: int,
                   warmup: float) -> torch.optim.lr_scheduler.LambdaLR | None:
    """A per-step scheduler for ``optimizer`` (None for a constant rate: nothing to do)."""
    if name == "constant":
        return None
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lr_factor(name, total_steps, warmup))

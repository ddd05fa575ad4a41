"""Equal weighting: the plain sum of the present tasks' losses (the usual multitask baseline)."""
from __future__ import annotations

from mtl_core.training.weighting.base import LossWeighting


class Equal(LossWeighting):
    """Every task weighs 1: the update is the gradient of ``sum_t L_t``."""
    description = "Sum of the task losses, every task weighted 1 (the baseline)."

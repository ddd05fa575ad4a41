"""Uncertainty weighting (Kendall, Gal & Cipolla 2018): learned homoscedastic task uncertainty.

Each task has a log-variance s_t; the loss is sum_t exp(-s_t) * L_t + s_t. The s_t are parameters of this
module, learned by the trainer's optimizer with the model: at the optimum exp(s_t) = L_t, so a task with a
larger loss gets a larger variance and a smaller weight exp(-s_t).
"""
from __future__ import annotations

import torch
from torch import nn

from mtl_core.training.weighting.base import LossWeighting


class Uncertainty(LossWeighting):
    """``sum_t exp(-s_t) * L_t + s_t`` with learned log-variances ``s`` (one per task, start at 0)."""
    description = "Learned task uncertainty (Kendall et al. 2018): noisier tasks get smaller weights."

    def __init__(self, **context):
        super().__init__(**context)
        self.log_vars = nn.Parameter(torch.zeros(len(self.tasks)))   # (K,) s_t, in run task order
        self.index = {t: i for i, t in enumerate(self.tasks)}

    def combine(self, losses: dict[str, torch.Tensor]) -> torch.Tensor:
        present = self.present(losses)
        s = self.log_vars.to(losses[present[0]].device)              # differentiable move, (K,)
        terms = [torch.exp(-s[self.index[t]]) * losses[t] + s[self.index[t]] for t in present]
        return torch.stack(terms).sum()

    def weight(self, task: str) -> torch.Tensor:
        return torch.exp(-self.log_vars[self.index[task]]).detach()

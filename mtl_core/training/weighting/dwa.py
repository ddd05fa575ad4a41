"""Dynamic weight averaging (Liu, Johns & Davison 2019, "End-to-End Multi-Task Learning with Attention").

A task whose loss fell less over the last epoch gets more weight: with r_t = L_t(e-1) / L_t(e-2) (mean
training losses of the two previous epochs), w_t = K * softmax(r / T)_t over the run's K tasks, so the
weights sum to K. Epochs 1 and 2 have no such history and use equal weights.
"""
from __future__ import annotations

import math
from collections.abc import Mapping

from mtl_core.training.weighting.base import LossWeighting
from mtl_core.training.weighting.options import Option


class DWA(LossWeighting):
    """Loss weights from the ratio of the last two epochs' mean losses, temperature ``temperature``."""
    description = "Dynamic weight averaging: more weight to tasks whose loss fell less last epoch (T=2)."
    options = (Option("temperature", 2.0, "T in softmax(r / T): a larger T keeps the weights nearer equal",
                      above=0),)

    def __init__(self, **context):
        super().__init__(**context)
        self.temperature = self.option_values["temperature"]
        self.history: list[dict[str, float]] = []       # mean training losses, one dict per finished epoch
        self.weights = dict.fromkeys(self.tasks, 1.0)

    def start_epoch(self, epoch: int) -> None:
        super().start_epoch(epoch)
        if epoch <= 2 or len(self.history) < 2:
            self.weights = dict.fromkeys(self.tasks, 1.0)
            return
        before, last = self.history[-2], self.history[-1]
        # A task missing from either epoch (no labels there) counts as unchanged: ratio 1.
        ratios = {t: last[t] / before[t] if t in last and t in before and before[t] > 0 else 1.0
                  for t in self.tasks}
        exps = {t: math.exp(r / self.temperature) for t, r in ratios.items()}
        total = sum(exps.values())
        self.weights = {t: len(self.tasks) * e / total for t, e in exps.items()}

    def end_epoch(self, epoch: int, mean_losses: Mapping[str, float]) -> None:
        self.history.append({t: float(v) for t, v in mean_losses.items()})

    def weight(self, task: str) -> float:
        return self.weights[task]

"""Primary/auxiliary schedule: auxiliary tasks lead early in training, primary tasks take over.

The schedule from the literature sets lr_primary(epoch) = epoch * lr / total_epochs and lr_aux = lr -
lr_primary. Expressed as loss weights (same optimizer, same lr): primary tasks weigh epoch / total_epochs,
auxiliary tasks 1 - epoch / total_epochs (so auxiliary tasks stop counting in the last epoch).
"""
from __future__ import annotations

from mtl_core.errors import ConfigError
from mtl_core.training.weighting.base import LossWeighting


class PrimaryAux(LossWeighting):
    """Primary weight ``epoch / total_epochs``, auxiliary weight ``1 - epoch / total_epochs``."""
    description = "Auxiliary tasks weigh most early, primary tasks grow to full weight by the last epoch."

    def __init__(self, **context):
        super().__init__(**context)
        if not self.primary or len(self.primary) == len(self.tasks):
            raise ConfigError("The 'primary_aux' weighting needs at least one primary and one auxiliary task. "
                              f"Got primary {self.primary} of tasks {self.tasks} instead.")

    def weight(self, task: str) -> float:
        share = min(self.epoch, self.total_epochs) / self.total_epochs
        return share if task in self.primary else 1.0 - share

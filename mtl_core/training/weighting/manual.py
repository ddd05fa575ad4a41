"""Manual weighting: fixed per-task loss weights chosen by the user."""
from __future__ import annotations

import math
from collections.abc import Mapping

from mtl_core.errors import ConfigError
from mtl_core.training.weighting.base import LossWeighting


class Manual(LossWeighting):
    """``sum_t w_t * L_t`` with ``w_t`` from ``manual_weights`` (1.0 for tasks it leaves out)."""
    description = "Fixed loss weight per task, set by you (1 for tasks left out)."

    def __init__(self, *, manual_weights: Mapping[str, float] | None = None, **context):
        super().__init__(**context)
        given = dict(manual_weights or {})
        unknown = sorted(set(given) - set(self.tasks))
        if unknown:
            raise ConfigError(f"The 'manual_weights' option must name tasks among {self.tasks}. "
                              f"Got unknown task(s) {unknown} instead.")
        bad = {t: w for t, w in given.items() if not (isinstance(w, (int, float)) and math.isfinite(w) and w >= 0)}
        if bad:
            raise ConfigError(f"The 'manual_weights' option must give finite weights >= 0. Got {bad} instead.")
        self.weights = {t: float(given.get(t, 1.0)) for t in self.tasks}

    def weight(self, task: str) -> float:
        return self.weights[task]

"""Gradient interference read back from a study: the probe's curve rows (``training.gradient_probe``) per
finished multitask run, and their summary per task pair."""
from __future__ import annotations

from collections import defaultdict

import numpy as np

from mtl_core.results.study_results import StudyResults
from mtl_core.training.gradient_probe import NAMES, SEP


def conflict_summary(curves: list[dict]) -> list[dict]:
    """Per pair, over all epochs of the given curve rows: mean cosine, mean conflict rate, mean norm ratio."""
    values: dict[tuple[str, str], list[float]] = defaultdict(list)
    for c in curves:
        if c["name"] in NAMES and SEP in c["task"] and c["value"] is not None:
            values[(c["task"], c["name"])].append(c["value"])
    pairs = list(dict.fromkeys(p for p, _ in values))
    return [{"pair": p, **{n: float(np.mean(values[(p, n)])) if values.get((p, n)) else None for n in NAMES}}
            for p in pairs]


def study_gradient_curves(results: StudyResults) -> list[dict]:
    """The gradient rows of every finished multitask run of the study, each with its run's seed and setting."""
    return [{**c, "seed": run["seed"], "setting": run["setting"], "run_id": run["id"]}
            for run in results.finished_runs if len(run["tasks"]) > 1
            for c in results.run_curves(run["id"]) if c["name"] in NAMES]

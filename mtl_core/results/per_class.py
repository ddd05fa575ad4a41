"""Per-class scores and the confusion matrix of one run's task on the test split.

Every run finished by this version stores its (gold, predicted) label counts on the test split (score rows of split
"confusion", ``store.results.confusion_counts``; tagging tasks per token). Runs finished earlier have none: the
page says so instead of guessing.
"""
from __future__ import annotations

import json
from collections import defaultdict

from mtl_core.store import Store

CLASS_COLUMNS = ["class", "support", "predicted", "precision", "recall", "f1"]
Counts = dict[tuple[str, str], int]


def read_confusions(store: Store, study_id: str) -> dict[tuple[int, str], Counts]:
    """(run id, task) -> {(gold, predicted): count} for the study's finished runs (one store read)."""
    found: dict[tuple[int, str], Counts] = defaultdict(dict)
    for r in store.scores(study_id, split="confusion"):
        gold, pred = json.loads(r["metric"])
        found[(r["run_id"], r["task"])][(gold, pred)] = int(r["value"])
    return dict(found)


def class_order(counts: Counts, labels: list[str]) -> list[str]:
    """The task's labels in their stored order, then any other label seen (e.g. a tag only predicted)."""
    seen = {label for pair in counts for label in pair}
    return [label for label in labels if label in seen] + sorted(seen - set(labels))


def per_class_rows(counts: Counts, labels: list[str]) -> list[dict]:
    """Rows of CLASS_COLUMNS: per class, its test examples (support), how often it was predicted, precision,
    recall and F1 (None where undefined: a class never predicted has no precision)."""
    rows = []
    for c in class_order(counts, labels):
        tp = counts.get((c, c), 0)
        support = sum(n for (g, _), n in counts.items() if g == c)
        predicted = sum(n for (_, p), n in counts.items() if p == c)
        precision = tp / predicted if predicted else None
        recall = tp / support if support else None
        f1 = 2 * tp / (support + predicted) if support + predicted else None
        rows.append(dict(zip(CLASS_COLUMNS, [c, support, predicted, precision, recall, f1])))
    return rows


def macro_f1(rows: list[dict]) -> float:
    """Mean F1 over the classes that occur in gold or predictions (as ``training.metrics.macro_f1``)."""
    f1s = [0.0 if r["f1"] is None else r["f1"] for r in rows if r["support"] or r["predicted"]]
    return sum(f1s) / len(f1s) if f1s else float("nan")


def confusion_matrix(counts: Counts, labels: list[str]) -> tuple[list[str], list[list[int]]]:
    """(classes, matrix): matrix[i][j] = test examples of class i predicted as class j."""
    classes = class_order(counts, labels)
    return classes, [[counts.get((g, p), 0) for p in classes] for g in classes]

"""Per-task metrics: accuracy and macro-F1 for classification; token accuracy and entity span-F1 for tagging.

Absent labels never reach these functions: callers pass only the present (gold, predicted) pairs. The F1s are
computed here (as scikit-learn's ``f1_score`` with ``zero_division=0`` does; a test checks they agree), so that
scoring a run does not import scikit-learn (about a second of every study's start).
"""
from __future__ import annotations

import math
from collections import Counter


def accuracy(gold: list, pred: list) -> float:
    return sum(g == p for g, p in zip(gold, pred)) / len(gold) if gold else float("nan")


def _f1(true_positives: int, n_gold: int, n_pred: int) -> float:
    """F1 of one label from its counts; 0 when it has no true positive (zero_division=0)."""
    return 2 * true_positives / (n_gold + n_pred) if true_positives else 0.0


def macro_f1(gold: list, pred: list) -> float:
    """Macro-F1: the unweighted mean of each label's F1, over the labels that occur in gold or predictions."""
    if not gold:
        return float("nan")
    hits = Counter(g for g, p in zip(gold, pred) if g == p)
    n_gold, n_pred = Counter(gold), Counter(pred)
    labels = set(n_gold) | set(n_pred)
    return math.fsum(_f1(hits[label], n_gold[label], n_pred[label]) for label in labels) / len(labels)  # any order


def spans(tags: list[str]) -> set[tuple[int, int, str]]:
    """Entity spans (start, end_exclusive, type) of an IOB2/IOB1 tag sequence; stray I- starts a span."""
    found, start, kind = set(), None, None
    for i, tag in enumerate(list(tags) + ["O"]):
        prefix, _, label = tag.partition("-") if "-" in tag else (tag, "", "")
        begins = prefix == "B" or (prefix == "I" and (kind != label or start is None))
        if start is not None and (prefix == "O" or begins or prefix not in ("B", "I")):
            found.add((start, i, kind))
            start, kind = None, None
        if prefix in ("B", "I") and begins:
            start, kind = i, label
    return found


def span_f1(gold_seqs: list[list[str]], pred_seqs: list[list[str]]) -> float:
    """Micro F1 over exact entity spans (the CoNLL shared-task measure)."""
    tp = n_gold = n_pred = 0
    for g, p in zip(gold_seqs, pred_seqs):
        gs, ps = spans(g), spans(p)
        tp += len(gs & ps)
        n_gold += len(gs)
        n_pred += len(ps)
    if n_gold == 0 and n_pred == 0:
        return float("nan")
    precision = tp / n_pred if n_pred else 0.0
    recall = tp / n_gold if n_gold else 0.0
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def is_entity_scheme(labels: list[str]) -> bool:
    """True when tags look like IOB entity tags (B-X / I-X / O)."""
    return any(l.startswith(("B-", "I-")) for l in labels)


def classification_scores(gold: list[str], pred: list[str]) -> dict[str, float]:
    return {"accuracy": accuracy(gold, pred), "macro_f1": macro_f1(gold, pred)}


def tagging_scores(gold_seqs: list[list[str]], pred_seqs: list[list[str]], labels: list[str]) -> dict[str, float]:
    flat_g = [t for s in gold_seqs for t in s]
    flat_p = [t for s in pred_seqs for t in s]
    scores = {"token_accuracy": accuracy(flat_g, flat_p)}
    if is_entity_scheme(labels):
        scores["span_f1"] = span_f1(gold_seqs, pred_seqs)
    return scores


def applies_scores(gold: list[bool], pred: list[bool]) -> dict[str, float]:
    """Whether a task applies to a text (its label present), over every scored row: accuracy, and F1 of the
    "applies" side (stored as metrics ``applies_accuracy`` and ``applies_f1``)."""
    hits = sum(g and p for g, p in zip(gold, pred))
    f1 = _f1(hits, sum(map(bool, gold)), sum(map(bool, pred))) if gold else float("nan")
    return {"applies_accuracy": accuracy(gold, pred), "applies_f1": f1}

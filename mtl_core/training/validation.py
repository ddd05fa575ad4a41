"""Scoring a model on held-out rows: predictions per task, scores over present labels, and the one number
model selection compares between epochs."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from mtl_core.data.encode import IGNORE, EncodedData
from mtl_core.models.heads import applies_logits
from mtl_core.tasks import TAGGING, TaskSpec
from mtl_core.training.applies import APPLIES_THRESHOLD
from mtl_core.training.losses import masked_cross_entropy
from mtl_core.training.metrics import applies_scores, classification_scores, tagging_scores
from mtl_core.training.sampling import batch_targets
from mtl_core.training.setup import RunSetup


@dataclass
class Validation:
    """One epoch's validation: scores and mean loss per scored task, and the model-selection score."""
    scores: dict[str, dict[str, float]]
    losses: dict[str, float]
    score: float        # higher is better (``selection_score`` over the primary tasks)


class Predictions(dict):
    """{task: predicted class ids}, and ``applies``: {task: (N,) P(the text concerns the task)} for the tasks
    with an applies detector (``training.applies``)."""

    def __init__(self, preds: dict[str, torch.Tensor], applies: dict[str, torch.Tensor] | None = None):
        super().__init__(preds)
        self.applies = applies or {}


@torch.no_grad()
def predict_rows(model, data: EncodedData, rows: list[int], tasks: list[str], device: torch.device,
                 batch_size: int = 256) -> tuple[Predictions, dict[str, float]]:
    """Predicted class ids per task for ``rows`` (tagging: (N, L), -100 beyond each length) and mean losses."""
    model.eval()
    preds = {t: [] for t in tasks}
    applies: dict[str, list[torch.Tensor]] = {}
    loss_sum = {t: 0.0 for t in tasks}
    loss_n = {t: 0 for t in tasks}
    width_all = data.ids.shape[1]
    for start in range(0, len(rows), batch_size):
        idx = torch.as_tensor(rows[start:start + batch_size], dtype=torch.long)
        lengths = data.lengths[idx]
        width = int(lengths.max())
        out = model(data.ids[idx, :width].to(device), lengths.to(device), tasks)
        for t, z in applies_logits(model, tasks).items():
            applies.setdefault(t, []).append(torch.sigmoid(z.float()).cpu())
        for t in tasks:
            logits = out[t].float()
            gold = batch_targets(data.targets[t], idx, width).to(device)
            n = int((gold != IGNORE).sum())
            if n:
                loss_sum[t] += float(masked_cross_entropy(logits, gold)) * n
                loss_n[t] += n
            p = logits.argmax(-1).cpu()
            if p.dim() == 2:  # tagging: pad back to the full width, -100 past each length
                full = torch.full((len(idx), width_all), IGNORE, dtype=torch.long)
                full[:, :width] = p.masked_fill(torch.arange(width)[None, :] >= lengths[:, None], IGNORE)
                p = full
            preds[t].append(p)
    losses = {t: loss_sum[t] / loss_n[t] if loss_n[t] else float("nan") for t in tasks}
    return Predictions({t: torch.cat(v) if v else torch.empty(0, dtype=torch.long) for t, v in preds.items()},
                       {t: torch.cat(v) for t, v in applies.items()}), losses


def score_predictions(data: EncodedData, specs: dict[str, TaskSpec], rows: list[int],
                      preds: dict[str, torch.Tensor]) -> tuple[dict[str, dict[str, float]], dict[str, list]]:
    """Scores per task over present labels only, and (row, gold, predicted) label triples."""
    scores, triples = {}, {}
    for t, p in preds.items():
        spec = specs[t]
        gold = data.targets[t][torch.as_tensor(rows, dtype=torch.long)]
        items = []
        for k, row in enumerate(rows):
            if spec.kind == TAGGING:
                n = int(data.lengths[row])
                g = gold[k, :n]
                if bool((g == IGNORE).all()):
                    continue
                items.append((row, [spec.labels[i] for i in g.tolist()],
                              [spec.labels[i] for i in p[k, :n].tolist()]))
            elif int(gold[k]) != IGNORE:
                items.append((row, spec.labels[int(gold[k])], spec.labels[int(p[k])]))
        triples[t] = items
        if spec.kind == TAGGING:
            scores[t] = tagging_scores([g for _, g, _ in items], [q for _, _, q in items], spec.labels)
        else:
            scores[t] = classification_scores([g for _, g, _ in items], [q for _, _, q in items])
        if t in getattr(preds, "applies", {}):  # over every row: does the task apply (its label present)?
            gold_applies = (gold != IGNORE).tolist()
            scores[t] |= applies_scores(gold_applies, (preds.applies[t] >= APPLIES_THRESHOLD).tolist())
    return scores, triples


def selection_score(scores: dict[str, dict[str, float]], specs: dict[str, TaskSpec], rule: str = "metric",
                    losses: dict[str, float] | None = None, counts: dict[str, int] | None = None) -> float:
    """Higher is better. ``rule`` "metric": the mean over tasks of each task's lead metric; "pooled": the same
    weighted by each task's number of validation labels (small tasks weigh less, so less noise); "loss": minus
    the mean validation loss."""
    if rule == "loss":
        values = [v for v in (losses or {}).values() if v == v]
        return -float(np.mean(values)) if values else float("-inf")
    pairs = [(scores[t][specs[t].selection_metric], (counts or {}).get(t, 1) if rule == "pooled" else 1)
             for t in scores]
    pairs = [(v, w) for v, w in pairs if v == v and w > 0]  # drop NaN (a task with no validation labels)
    return float(np.average([v for v, _ in pairs], weights=[w for _, w in pairs])) if pairs else 0.0


def validate(run: RunSetup, data: EncodedData, specs: dict[str, TaskSpec], rows: list[int],
             rule: str) -> Validation:
    """Score the run's model on ``rows`` (the validation rows); select on the primary tasks only."""
    preds, losses = predict_rows(run.model, data, rows, run.scored, run.device)
    scores, items = score_predictions(data, specs, rows, preds)
    primary = run.primary
    score = selection_score({t: scores[t] for t in primary}, specs, rule, {t: losses[t] for t in primary},
                            {t: len(items[t]) for t in primary})
    return Validation(scores=scores, losses=losses, score=score)

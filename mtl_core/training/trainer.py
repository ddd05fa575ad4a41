"""One run = (tasks, config, seed) on a fixed split -> metrics, curves, predictions, checkpoint.

Model selection uses the validation rows only (early stopping, best weights restored); the test rows
are scored once, at the end, with the selected weights. The parts: ``setup`` builds the run, ``epoch``
trains one epoch, ``validation`` scores; ``train_run`` below puts them in order.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Callable

import torch
from torch import nn

from mtl_core.data.encode import EncodedData
from mtl_core.data.splits import Split
from mtl_core.tasks import TaskSpec
from mtl_core.training.config import RunConfig
from mtl_core.training.device import describe_device
from mtl_core.training.epoch import train_epoch
from mtl_core.training.progress import Progress, RunClock
from mtl_core.training.setup import RunSetup, set_up_run
from mtl_core.training.validation import (
    Validation,
    predict_rows,
    score_predictions,
    validate,
)


@dataclass
class RunResult:
    tasks: list[str]
    seed: int
    config: dict
    test_scores: dict[str, dict[str, float]]
    val_scores: dict[str, dict[str, float]]
    curves: list[dict]                      # rows of {epoch, task, name, value}
    best_epoch: int
    epochs_run: int
    train_seconds: float
    examples_per_second: float
    device: str
    predictions: dict[str, list[tuple[int, object, object]]] = field(default_factory=dict)  # task -> (row, gold, pred)
    state_dict: dict | None = None
    aux_scores: dict[str, dict[str, float]] = field(default_factory=dict)  # auxiliary tasks, test rows: not primary


@dataclass
class BestEpoch:
    """The epoch model selection keeps so far: its validation score, its number, weights and scores."""
    score: float = float("-inf")
    epoch: int = 0
    state: dict[str, torch.Tensor] | None = None
    val_scores: dict[str, dict[str, float]] = field(default_factory=dict)

    def keep_if_better(self, epoch: int, val: Validation, model: nn.Module) -> None:
        if val.score > self.score:
            self.score, self.epoch, self.val_scores = val.score, epoch, val.scores
            self.state = copy.deepcopy(model.state_dict())


def epoch_curves(run: RunSetup, config: RunConfig, epoch: int, train_losses: dict[str, float],
                 val: Validation) -> list[dict]:
    """The epoch's curve rows: probe measurements, task weights, then per task its losses and scores."""
    rows = [row for probe in run.probes for row in probe.epoch_curves(epoch)]
    if config.weighting != "equal":
        rows += [{"epoch": epoch, "task": t, "name": "task_weight", "value": float(w)}
                 for t, w in run.weighting.current_weights().items()]
    for t in run.tasks:
        if t in train_losses:
            rows.append({"epoch": epoch, "task": t, "name": "train_loss", "value": train_losses[t]})
        if t in val.scores:
            rows.append({"epoch": epoch, "task": t, "name": "val_loss", "value": val.losses[t]})
            rows += [{"epoch": epoch, "task": t, "name": f"val_{m}", "value": v} for m, v in val.scores[t].items()]
    return rows


def saved_state(model: nn.Module, aux_tasks: list[str]) -> dict[str, torch.Tensor]:
    """The weights Predict needs: not the auxiliary heads (training aids), not a frozen pretrained encoder's
    weights (loaded again from its package), so a saved run stays small."""
    from mtl_core.models.sharing import owned_by
    frozen = {name for name, p in model.named_parameters() if not p.requires_grad}
    return {k: v.detach().cpu() for k, v in model.state_dict().items()
            if k not in frozen and not owned_by(k, aux_tasks)}


def train_run(data: EncodedData, specs: dict[str, TaskSpec], split: Split, config: RunConfig, seed: int,
              vocab_size: int, vectors: torch.Tensor | None = None, progress: Progress | None = None,
              keep_model: bool = False, should_stop: Callable[[], bool] | None = None,
              itos: list[str] | None = None, known_words: int | None = None) -> RunResult:
    """Train one model on ``specs``' tasks (the configured sharing, weighting, sampling) and score it.

    Auxiliary tasks (``TaskSpec.auxiliary``) are trained on every training row but own none (an epoch visits
    the primary tasks' rows), play no part in model selection, and are scored apart (``aux_scores``)."""
    # set up: seeds, model, weighting method, optimizer and schedule, probes, the data on the device
    run = set_up_run(data, specs, split, config, seed, vocab_size, vectors, itos, known_words)
    clock = RunClock(config.epochs, run.steps_per_epoch, progress, should_stop)
    primary = run.primary
    curves: list[dict] = []
    best = BestEpoch()
    epoch = 0
    for epoch in range(1, config.epochs + 1):
        # train: one optimizer step per batch of the epoch's plan
        train_losses = train_epoch(run, config, epoch, clock)
        # validate: score the validation rows, record the epoch's curves, keep the best weights
        val = validate(run, data, specs, split.val, config.selection)
        new_curves = epoch_curves(run, config, epoch, train_losses, val)
        curves += new_curves
        best.keep_if_better(epoch, val, run.model)
        # report, then stop when asked to or when validation has not improved for `patience` epochs
        clock.report_epoch(epoch, val_score=val.score, best_epoch=best.epoch,
                           val_scores={t: val.scores[t] for t in primary},
                           curves=new_curves)  # this epoch's rows, for live charts
        clock.stop_if_asked()
        if epoch - best.epoch >= config.patience:
            break

    # finish: restore the selected epoch's weights and score the test rows, once
    run.model.load_state_dict(best.state)
    preds, _ = predict_rows(run.model, data, split.test, run.scored, run.device)
    test_scores, triples = score_predictions(data, specs, split.test, preds)
    state = saved_state(run.model, [t for t in run.tasks if t not in primary]) if keep_model else None
    return RunResult(tasks=primary, seed=seed, config=config.to_dict(),
                     test_scores={t: test_scores[t] for t in primary},
                     val_scores={t: best.val_scores[t] for t in primary}, curves=curves, best_epoch=best.epoch,
                     epochs_run=epoch, train_seconds=clock.train_seconds,
                     examples_per_second=clock.examples_per_second, device=describe_device(run.device),
                     predictions={t: triples[t] for t in primary}, state_dict=state,
                     aux_scores={t: test_scores[t] for t in run.scored if t not in primary})

"""One epoch of training: the epoch's batch plan, and per batch one forward pass and one optimizer step."""
from __future__ import annotations

import time

import numpy as np
import torch

from mtl_core.data.vocab import OOV_ID, PAD_ID
from mtl_core.models.heads import applies_logits
from mtl_core.training.applies import applies_loss
from mtl_core.training.config import RunConfig
from mtl_core.training.losses import masked_cross_entropy
from mtl_core.training.progress import RunClock
from mtl_core.training.sampling import batch_targets, epoch_plan
from mtl_core.training.setup import RunSetup


def drop_words(ids: torch.Tensor, p: float) -> torch.Tensor:
    """``ids`` with a share ``p`` of real tokens replaced by <oov> (padding untouched)."""
    hit = (torch.rand(ids.shape, device=ids.device) < p) & (ids != PAD_ID)
    return ids.masked_fill(hit, OOV_ID)


def batch_losses(run: RunSetup, config: RunConfig,
                 batch: np.ndarray) -> tuple[dict[str, torch.Tensor], torch.Tensor | None]:
    """Forward pass over the batch rows; the loss of every task labelled in the batch (and the masked words), and
    the applies detectors' loss (None when the run has none: see ``training.applies``)."""
    rows = run.data
    active = [t for t in run.scored if rows.present[t][batch].any()]
    ran = [t for t in run.scored if t in active or t in rows.applies]  # a detector learns from every row
    idx = torch.from_numpy(batch).to(run.device)
    width = int(rows.lengths_np[batch].max())
    x = rows.ids[idx, :width]
    gold = {t: batch_targets(rows.targets[t], idx, width) for t in active}
    if run.masker is not None:
        x, gold[run.masked_task] = run.masker.corrupt(x, run.generator)  # drawn on the CPU generator, on x's device
        active.append(run.masked_task)
        ran.append(run.masked_task)
    if config.word_dropout:
        x = drop_words(x, config.word_dropout)
    with run.autocast():
        out = run.model(x, rows.lengths[idx], ran)
    detected = applies_loss(applies_logits(run.model, ran), rows.present, batch)
    return {t: masked_cross_entropy(out[t], gold[t], rows.class_weights[t]) for t in active}, detected


def optimizer_step(run: RunSetup, config: RunConfig, losses: dict[str, torch.Tensor],
                   detected: torch.Tensor | None = None) -> None:
    """Gradients from the weighting method, plus those of the losses it does not weigh (the model's own extra
    loss, the applies detectors' loss) added unweighted in the same backward pass, then one step of every
    optimizer."""
    extra = [loss for loss in (run.model.extra_loss(), detected) if loss is not None]
    extra_loss = sum(extra) if extra else None
    run.optimizer.zero_grad(set_to_none=True)
    if losses:
        run.weighting.backward(losses, extra_loss)  # one pass where the method allows (loss weighting)
    elif extra_loss is not None:  # a batch of rows that no task labels trains the detectors only
        extra_loss.backward()
    if config.clip:
        torch.nn.utils.clip_grad_norm_(run.model.parameters(), config.clip)
    run.optimizer.step()
    if run.scheduler is not None:
        run.scheduler.step()
    for probe in run.probes:
        probe.after_step()


def train_epoch(run: RunSetup, config: RunConfig, epoch: int, clock: RunClock) -> dict[str, float]:
    """Every batch of the epoch's plan, one optimizer step each; returns each task's mean training loss."""
    run.model.train()
    run.weighting.start_epoch(epoch)
    plan = epoch_plan(run.data.owned, run.data.lengths_np, config.batch_size, run.rng, config.sampling,
                      config.sampling_alpha)
    loss_sums = {t: torch.zeros((), device=run.device) for t in run.tasks}
    loss_counts = dict.fromkeys(run.tasks, 0)
    start = time.perf_counter()
    for step, (_, batch) in enumerate(plan, 1):
        losses, detected = batch_losses(run, config, batch)
        optimizer_step(run, config, losses, detected)
        for t, value in losses.items():
            loss_sums[t] += value.detach()
            loss_counts[t] += 1
        clock.step_done(epoch, step, len(batch), start)
    clock.epoch_done(start)
    mean_losses = {t: float(loss_sums[t]) / loss_counts[t] for t in run.tasks if loss_counts[t]}
    run.weighting.end_epoch(epoch, mean_losses)
    return mean_losses

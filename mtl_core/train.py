"""One run = (tasks, config, seed) on a fixed split -> metrics, curves, predictions, checkpoint.

Model selection uses the validation rows only (early stopping, best weights restored); the test rows
are scored once, at the end, with the selected weights.
"""
from __future__ import annotations

import copy
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch

from .config import RunConfig
from .data.encode import IGNORE, EncodedData
from .data.splits import Split
from .data.vocab import OOV_ID, PAD_ID
from .affinity import AffinityProbe
from .interference import GradientProbe
from .device import describe_device, pick_device
from .losses import balanced_class_weights, masked_cross_entropy
from .metrics import classification_scores, tagging_scores
from .models import build_model
from .sampling import epoch_plan, owner_rows
from .tasks import TAGGING, TaskSpec

Progress = Callable[[dict], None]
REPORT_SECONDS = 1.0  # progress and should_stop at most this often within an epoch (host clock: no device sync)


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


def batch_targets(t: torch.Tensor, idx: torch.Tensor, width: int) -> torch.Tensor:
    """A task's targets for the batch rows ``idx``, tagging targets cut to the batch's width."""
    t = t[idx]
    return t[:, :width] if t.dim() == 2 else t


@torch.no_grad()
def predict_rows(model, data: EncodedData, rows: list[int], tasks: list[str], device: torch.device,
                 batch_size: int = 256) -> tuple[dict[str, torch.Tensor], dict[str, float]]:
    """Predicted class ids per task for ``rows`` (tagging: (N, L), -100 beyond each length) and mean losses."""
    model.eval()
    preds = {t: [] for t in tasks}
    loss_sum = {t: 0.0 for t in tasks}
    loss_n = {t: 0 for t in tasks}
    width_all = data.ids.shape[1]
    for start in range(0, len(rows), batch_size):
        idx = torch.as_tensor(rows[start:start + batch_size], dtype=torch.long)
        lengths = data.lengths[idx]
        width = int(lengths.max())
        out = model(data.ids[idx, :width].to(device), lengths.to(device), tasks)
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
    return {t: torch.cat(v) if v else torch.empty(0, dtype=torch.long) for t, v in preds.items()}, losses


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
    return scores, triples


def drop_words(ids: torch.Tensor, p: float) -> torch.Tensor:
    """``ids`` with a share ``p`` of real tokens replaced by <oov> (padding untouched)."""
    hit = (torch.rand(ids.shape, device=ids.device) < p) & (ids != PAD_ID)
    return ids.masked_fill(hit, OOV_ID)


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


def timing(epoch: int, epochs: int, step: int, steps: int, seen: int, train_seconds: float, wall_seconds: float,
           steps_done: int) -> dict:
    """Progress so far; the ETA assumes every epoch runs (early stopping can only make it shorter)."""
    left = (epochs - epoch) * steps + (steps - step)
    return {"epoch": epoch, "epochs": epochs, "step": step, "steps": steps,
            "examples_per_second": seen / max(train_seconds, 1e-9),
            "eta_seconds": wall_seconds / max(steps_done, 1) * left}


def train_run(data: EncodedData, specs: dict[str, TaskSpec], split: Split, config: RunConfig, seed: int,
              vocab_size: int, vectors: torch.Tensor | None = None, progress: Progress | None = None,
              keep_model: bool = False, should_stop: Callable[[], bool] | None = None) -> RunResult:
    """Train one model on ``specs``' tasks (hard sharing) and score it."""
    tasks = list(specs)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    device = pick_device(config.device)
    model = build_model(specs, vocab_size, config, vectors).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    use_amp = config.amp and device.type == "cuda"
    autocast = (lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if use_amp else nullcontext

    ids, lengths = data.ids.to(device), data.lengths.to(device)
    targets = {t: data.targets[t].to(device) for t in tasks}
    weights = {t: balanced_class_weights(data.targets[t][split.train], max(2, specs[t].num_classes)).to(device)
               if config.class_weights else None for t in tasks}
    present = {t: (data.targets[t] != IGNORE).reshape(len(data), -1).any(1).numpy() for t in tasks}
    owned = owner_rows(data.targets, split.train, tasks)
    lengths_np = data.lengths.numpy()
    probe = GradientProbe.for_run(config, model, ids, lengths, targets, split.train, seed)  # None when off
    lookahead = AffinityProbe.for_run(config, model, ids, lengths, targets, split.train, seed)  # None when off

    curves: list[dict] = []
    best = (float("-inf"), 0, None, {})  # score, epoch, state, val scores
    seen, train_seconds, epoch = 0, 0.0, 0
    run_start = last_report = time.perf_counter()
    steps_done = 0
    for epoch in range(1, config.epochs + 1):
        model.train()
        plan = epoch_plan(owned, lengths_np, config.batch_size, rng, config.sampling)
        loss_sums = {t: torch.zeros((), device=device) for t in tasks}
        loss_counts = dict.fromkeys(tasks, 0)
        start = time.perf_counter()
        for step, (_, batch) in enumerate(plan, 1):
            active = [t for t in tasks if present[t][batch].any()]
            idx = torch.from_numpy(batch).to(device)
            width = int(lengths_np[batch].max())
            x = ids[idx, :width]
            if config.word_dropout:
                x = drop_words(x, config.word_dropout)
            with autocast():
                out = model(x, lengths[idx], active)
            losses = {t: masked_cross_entropy(out[t], batch_targets(targets[t], idx, width), weights[t])
                      for t in active}
            loss = sum(losses.values())
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if config.clip:
                torch.nn.utils.clip_grad_norm_(model.parameters(), config.clip)
            optimizer.step()
            if probe is not None:
                probe.after_step()
            if lookahead is not None:
                lookahead.after_step()
            for t, value in losses.items():
                loss_sums[t] += value.detach()
                loss_counts[t] += 1
            seen += len(batch)
            steps_done += 1
            if time.perf_counter() - last_report >= REPORT_SECONDS:
                last_report = time.perf_counter()
                if should_stop is not None and should_stop():
                    raise InterruptedError("run cancelled")
                if progress is not None:
                    progress(timing(epoch, config.epochs, step, len(plan), seen, train_seconds + last_report - start,
                                    last_report - run_start, steps_done))
        train_seconds += time.perf_counter() - start

        preds, val_losses = predict_rows(model, data, split.val, tasks, device)
        val_scores, val_items = score_predictions(data, specs, split.val, preds)
        score = selection_score(val_scores, specs, config.selection, val_losses,
                                {t: len(items) for t, items in val_items.items()})
        epoch_start = len(curves)
        curves += probe.epoch_curves(epoch) if probe is not None else []
        curves += lookahead.epoch_curves(epoch) if lookahead is not None else []
        for t in tasks:
            if loss_counts[t]:
                curves.append({"epoch": epoch, "task": t, "name": "train_loss",
                               "value": float(loss_sums[t]) / loss_counts[t]})
            curves.append({"epoch": epoch, "task": t, "name": "val_loss", "value": val_losses[t]})
            curves += [{"epoch": epoch, "task": t, "name": f"val_{m}", "value": v} for m, v in val_scores[t].items()]
        if score > best[0]:
            best = (score, epoch, copy.deepcopy(model.state_dict()), val_scores)
        if progress is not None:
            progress({**timing(epoch, config.epochs, len(plan), len(plan), seen, train_seconds,
                               time.perf_counter() - run_start, steps_done),
                      "val_score": score, "best_epoch": best[1], "val_scores": val_scores,
                      "curves": curves[epoch_start:]})  # this epoch's rows, for live charts
        if should_stop is not None and should_stop():
            raise InterruptedError("run cancelled")
        if epoch - best[1] >= config.patience:
            break

    model.load_state_dict(best[2])
    preds, _ = predict_rows(model, data, split.test, tasks, device)
    test_scores, triples = score_predictions(data, specs, split.test, preds)
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()} if keep_model else None
    return RunResult(tasks=tasks, seed=seed, config=config.to_dict(), test_scores=test_scores,
                     val_scores=best[3], curves=curves, best_epoch=best[1], epochs_run=epoch,
                     train_seconds=train_seconds, examples_per_second=seen / max(train_seconds, 1e-9),
                     device=describe_device(device), predictions=triples, state_dict=state)


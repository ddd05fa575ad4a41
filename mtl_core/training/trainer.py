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

from mtl_core.data.encode import IGNORE, EncodedData
from mtl_core.data.splits import Split
from mtl_core.data.vocab import OOV_ID, PAD_ID
from mtl_core.models.build import build_model, parameter_groups
from mtl_core.tasks import TAGGING, TaskSpec
from mtl_core.training.affinity_probe import AffinityProbe
from mtl_core.training.config import RunConfig
from mtl_core.training.device import describe_device, pick_device
from mtl_core.training.gradient_probe import GradientProbe
from mtl_core.training.losses import balanced_class_weights, masked_cross_entropy
from mtl_core.training.metrics import classification_scores, tagging_scores
from mtl_core.training.sampling import epoch_plan, owner_rows
from mtl_core.training.schedules import make_scheduler
from mtl_core.training.weighting import build_weighting

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
    aux_scores: dict[str, dict[str, float]] = field(default_factory=dict)  # auxiliary tasks, test rows: not primary


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


def adversarial_tasks(tasks: list[str]) -> frozenset:
    """The run's tasks trained behind gradient reversal (the automatic domain discriminator)."""
    from mtl_core.auxiliary import ADVERSARIAL
    return frozenset(t for t in tasks if t in ADVERSARIAL)


def missing_word_masker(specs: dict[str, TaskSpec], itos: list[str] | None, rate: float):
    """(task name, masker) for the dynamic missing-word auxiliary task, or (None, None) when it is not in the run."""
    from mtl_core.auxiliary import DYNAMIC, MissingWord
    name = next((t for t in specs if t in DYNAMIC), None)
    if name is None:
        return None, None
    if itos is None:
        raise ValueError("The missing-word auxiliary task needs the vocabulary's words (itos).")
    return name, MissingWord.from_spec(specs[name], itos, rate=rate)


def add_grads(params: list[torch.nn.Parameter], grads: tuple) -> None:
    for p, g in zip(params, grads):
        if g is not None:
            p.grad = g if p.grad is None else p.grad + g


def saved_state(model: torch.nn.Module, aux_tasks: list[str]) -> dict[str, torch.Tensor]:
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
    tasks = list(specs)
    primary = [t for t in tasks if not specs[t].auxiliary]
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    device = pick_device(config.device)
    model = build_model(specs, vocab_size, config, vectors, itos, adversarial_tasks(tasks), known_words).to(device)
    trainable = [p for p in model.parameters() if p.requires_grad]
    shared = [p for p in model.shared_parameters() if p.requires_grad]
    weighting = build_weighting(config.weighting, tasks=tasks, primary=primary, shared=shared,
                                total_epochs=config.epochs, manual_weights=config.task_weights or None).to(device)
    groups = parameter_groups(model, config)
    if list(weighting.parameters()):
        groups.append({"params": list(weighting.parameters()), "lr": config.lr, "weight_decay": 0.0})
    optimizer = torch.optim.AdamW(groups, lr=config.lr, weight_decay=config.weight_decay)
    use_amp = config.amp and device.type == "cuda"
    autocast = (lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if use_amp else nullcontext
    masked_task, masker = missing_word_masker(specs, itos, config.missing_word_rate)
    scored = [t for t in tasks if t != masked_task]  # the dynamic task has no fixed targets to score

    ids, lengths = data.ids.to(device), data.lengths.to(device)
    targets = {t: data.targets[t].to(device) for t in tasks}
    weights = {t: balanced_class_weights(data.targets[t][split.train], max(2, specs[t].num_classes)).to(device)
               if config.class_weights else None for t in tasks}
    present = {t: (data.targets[t] != IGNORE).reshape(len(data), -1).any(1).numpy() for t in scored}
    owned = owner_rows(data.targets, split.train, primary)
    lengths_np = data.lengths.numpy()
    probed = {t: targets[t] for t in primary}
    probe = GradientProbe.for_run(config, model, ids, lengths, probed, split.train, seed)  # None when off
    lookahead = AffinityProbe.for_run(config, model, ids, lengths, probed, split.train, seed)  # None when off

    curves: list[dict] = []
    best = (float("-inf"), 0, None, {})  # score, epoch, state, val scores
    seen, train_seconds, epoch = 0, 0.0, 0
    run_start = last_report = time.perf_counter()
    steps_done = 0
    for epoch in range(1, config.epochs + 1):
        model.train()
        weighting.start_epoch(epoch)
        plan = epoch_plan(owned, lengths_np, config.batch_size, rng, config.sampling, config.sampling_alpha)
        if epoch == 1:  # every epoch visits the same rows, so the run's steps are known now
            scheduler = make_scheduler(optimizer, config.lr_schedule, config.epochs * len(plan), config.warmup)
        loss_sums = {t: torch.zeros((), device=device) for t in tasks}
        loss_counts = dict.fromkeys(tasks, 0)
        start = time.perf_counter()
        for step, (_, batch) in enumerate(plan, 1):
            active = [t for t in scored if present[t][batch].any()]
            idx = torch.from_numpy(batch).to(device)
            width = int(lengths_np[batch].max())
            x = ids[idx, :width]
            gold = {t: batch_targets(targets[t], idx, width) for t in active}
            if masker is not None:
                x, gold[masked_task] = masker.corrupt(x, generator)  # drawn on the CPU generator, on x's device
                active.append(masked_task)
            if config.word_dropout:
                x = drop_words(x, config.word_dropout)
            with autocast():
                out = model(x, lengths[idx], active)
            losses = {t: masked_cross_entropy(out[t], gold[t], weights[t]) for t in active}
            extra = model.extra_loss()
            optimizer.zero_grad(set_to_none=True)
            extra_grads = torch.autograd.grad(extra, trainable, retain_graph=True, allow_unused=True) \
                if extra is not None else ()
            weighting.backward(losses)
            add_grads(trainable, extra_grads)
            if config.clip:
                torch.nn.utils.clip_grad_norm_(model.parameters(), config.clip)
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
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
        mean_losses = {t: float(loss_sums[t]) / loss_counts[t] for t in tasks if loss_counts[t]}
        weighting.end_epoch(epoch, mean_losses)

        preds, val_losses = predict_rows(model, data, split.val, scored, device)
        val_scores, val_items = score_predictions(data, specs, split.val, preds)
        score = selection_score({t: val_scores[t] for t in primary}, specs, config.selection,
                                {t: val_losses[t] for t in primary},
                                {t: len(val_items[t]) for t in primary})
        epoch_start = len(curves)
        curves += probe.epoch_curves(epoch) if probe is not None else []
        curves += lookahead.epoch_curves(epoch) if lookahead is not None else []
        curves += [{"epoch": epoch, "task": t, "name": "task_weight", "value": float(w)}
                   for t, w in weighting.current_weights().items()] if config.weighting != "equal" else []
        for t in tasks:
            if t in mean_losses:
                curves.append({"epoch": epoch, "task": t, "name": "train_loss", "value": mean_losses[t]})
            if t in val_scores:
                curves.append({"epoch": epoch, "task": t, "name": "val_loss", "value": val_losses[t]})
                curves += [{"epoch": epoch, "task": t, "name": f"val_{m}", "value": v}
                           for m, v in val_scores[t].items()]
        if score > best[0]:
            best = (score, epoch, copy.deepcopy(model.state_dict()), val_scores)
        if progress is not None:
            progress({**timing(epoch, config.epochs, len(plan), len(plan), seen, train_seconds,
                               time.perf_counter() - run_start, steps_done),
                      "val_score": score, "best_epoch": best[1],
                      "val_scores": {t: val_scores[t] for t in primary},
                      "curves": curves[epoch_start:]})  # this epoch's rows, for live charts
        if should_stop is not None and should_stop():
            raise InterruptedError("run cancelled")
        if epoch - best[1] >= config.patience:
            break

    model.load_state_dict(best[2])
    preds, _ = predict_rows(model, data, split.test, scored, device)
    test_scores, triples = score_predictions(data, specs, split.test, preds)
    state = saved_state(model, [t for t in tasks if t not in primary]) if keep_model else None
    return RunResult(tasks=primary, seed=seed, config=config.to_dict(),
                     test_scores={t: test_scores[t] for t in primary},
                     val_scores={t: best[3][t] for t in primary}, curves=curves, best_epoch=best[1],
                     epochs_run=epoch, train_seconds=train_seconds,
                     examples_per_second=seen / max(train_seconds, 1e-9), device=describe_device(device),
                     predictions={t: triples[t] for t in primary}, state_dict=state,
                     aux_scores={t: test_scores[t] for t in scored if t not in primary})

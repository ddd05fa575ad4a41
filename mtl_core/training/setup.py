"""What one run sets up before its first step: seeds, model (and its frozen encoder states), weighting method,
optimizer, schedule, probes, the missing-word masker, and the training data on the run's device."""
from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import numpy as np
import torch
from torch import nn

from mtl_core.data.encode import IGNORE, EncodedData
from mtl_core.data.splits import Split
from mtl_core.models.build import applies_tasks, build_model, parameter_groups
from mtl_core.models.embedders import precompute_states
from mtl_core.tasks import TaskSpec
from mtl_core.training.affinity_probe import AffinityProbe
from mtl_core.training.applies import visit_every_row
from mtl_core.training.config import RunConfig
from mtl_core.training.device import pick_device
from mtl_core.training.gradient_probe import GradientProbe
from mtl_core.training.losses import balanced_class_weights
from mtl_core.training.sampling import owner_rows, steps_per_epoch
from mtl_core.training.schedules import make_scheduler
from mtl_core.training.weighting import Weighting, build_weighting

if TYPE_CHECKING:
    from mtl_core.auxiliary import MissingWord


@dataclass
class TrainingData:
    """The encoded rows on the run's device, and what each optimizer step reads about them."""
    ids: torch.Tensor                               # (N, L) token ids, on the device
    lengths: torch.Tensor                           # (N,), on the device
    lengths_np: np.ndarray                          # (N,), for planning batches on the host
    targets: dict[str, torch.Tensor]                # task -> (N,) or (N, L), on the device
    class_weights: dict[str, torch.Tensor | None]   # task -> balanced class weights (None: unweighted)
    present: dict[str, np.ndarray]                  # scored task -> (N,) bool: the row holds its label
    owned: dict[str, np.ndarray]                    # primary task -> the training rows it owns
    applies: frozenset = frozenset()                # tasks with an applies detector (training.applies)


@dataclass
class RunSetup:
    """Everything a run builds once: ``train_run`` hands it to each epoch, each validation and the finish."""
    tasks: list[str]             # every task of the run, auxiliary ones included
    primary: list[str]           # the tasks the run is for: model selection and the result
    scored: list[str]            # the tasks with fixed targets (all but the dynamic missing-word task)
    device: torch.device
    model: nn.Module
    trainable: list[nn.Parameter]
    weighting: Weighting
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LambdaLR | None
    steps_per_epoch: int
    autocast: Callable[[], AbstractContextManager]  # bfloat16 autocast on CUDA with config.amp, else a no-op
    rng: np.random.Generator     # the batch plans
    generator: torch.Generator   # the missing-word masker's draws
    masked_task: str | None      # the missing-word task's name, when it is in the run
    masker: MissingWord | None   # hides words in each batch; their ids are the task's targets
    probes: list[GradientProbe]  # the gradient and affinity probes switched on (measure only, never train)
    data: TrainingData


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


FUSED_DEVICES = ("cpu", "cuda")  # where torch has a fused AdamW kernel


def fused_adamw(params) -> bool | None:
    """AdamW's ``fused`` argument for ``params``: True where every one is a float tensor on a device with the fused
    kernel, else None (torch's own choice)."""
    return all(p.device.type in FUSED_DEVICES and p.is_floating_point() for p in params) or None


def make_optimizer(model: nn.Module, weighting: Weighting, config: RunConfig) -> torch.optim.Optimizer:
    """AdamW over the model's parameter groups, plus the weighting method's own learned values (no decay).

    Fused (one kernel updates every parameter) where every parameter lives on a device that has it: the same
    update as the per-tensor loop up to float rounding, and on this CPU a third of its time (an ABSA model's 58
    tensors: 0.9 ms per step instead of 2.9, clipping included; bench/throughput.py)."""
    groups = parameter_groups(model, config)
    if list(weighting.parameters()):
        groups.append({"params": list(weighting.parameters()), "lr": config.lr, "weight_decay": 0.0})
    fused = fused_adamw(p for g in groups for p in g["params"])
    return torch.optim.AdamW(groups, lr=config.lr, weight_decay=config.weight_decay, fused=fused)


def training_data(data: EncodedData, specs: dict[str, TaskSpec], split: Split, config: RunConfig,
                  primary: list[str], scored: list[str], device: torch.device) -> TrainingData:
    tasks = list(specs)
    return TrainingData(
        ids=data.ids.to(device), lengths=data.lengths.to(device), lengths_np=data.lengths.numpy(),
        targets={t: data.targets[t].to(device) for t in tasks},
        class_weights={t: balanced_class_weights(data.targets[t][split.train], max(2, specs[t].num_classes))
                       .to(device) if config.class_weights else None for t in tasks},
        present={t: (data.targets[t] != IGNORE).reshape(len(data), -1).any(1).numpy() for t in scored},
        owned=visit_every_row(owner_rows(data.targets, split.train, primary), split.train, applies_tasks(specs)),
        applies=applies_tasks(specs))


def set_up_run(data: EncodedData, specs: dict[str, TaskSpec], split: Split, config: RunConfig, seed: int,
               vocab_size: int, vectors: torch.Tensor | None = None, itos: list[str] | None = None,
               known_words: int | None = None) -> RunSetup:
    """Seed every generator, then build the run's parts in a fixed order (the same seed, the same run)."""
    tasks = list(specs)
    primary = [t for t in tasks if not specs[t].auxiliary]
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    device = pick_device(config.device)
    model = build_model(specs, vocab_size, config, vectors, itos, adversarial_tasks(tasks), known_words).to(device)
    # a frozen pretrained encoder's states for every sentence, computed once per dataset (on disk, shared by every
    # run, process and later study): training then only reads them; nothing to do when they are all there already
    precompute_states(model, data.ids, data.lengths)
    shared = [p for p in model.shared_parameters() if p.requires_grad]
    weighting = build_weighting(config.weighting, tasks=tasks, primary=primary, shared=shared,
                                total_epochs=config.epochs, manual_weights=config.task_weights or None,
                                **config.weighting_options).to(device)
    optimizer = make_optimizer(model, weighting, config)
    masked_task, masker = missing_word_masker(specs, itos, config.missing_word_rate)
    scored = [t for t in tasks if t != masked_task]  # the dynamic task has no fixed targets to score
    rows = training_data(data, specs, split, config, primary, scored, device)
    steps = steps_per_epoch(rows.owned, config.batch_size)  # every epoch visits the same rows
    probed = {t: rows.targets[t] for t in primary}
    probes = [GradientProbe.for_run(config, model, rows.ids, rows.lengths, probed, split.train, seed),
              AffinityProbe.for_run(config, model, rows.ids, rows.lengths, probed, split.train, seed)]
    use_amp = config.amp and device.type == "cuda"
    return RunSetup(
        tasks=tasks, primary=primary, scored=scored, device=device, model=model,
        trainable=[p for p in model.parameters() if p.requires_grad], weighting=weighting, optimizer=optimizer,
        scheduler=make_scheduler(optimizer, config.lr_schedule, config.epochs * steps, config.warmup),
        steps_per_epoch=steps,
        autocast=(lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if use_amp else nullcontext,
        rng=rng, generator=generator, masked_task=masked_task, masker=masker,
        probes=[p for p in probes if p is not None], data=rows)

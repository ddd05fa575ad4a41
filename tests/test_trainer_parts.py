"""The trainer's parts on their own: setting a run up, one epoch of steps, validation, model selection."""
from __future__ import annotations

import numpy as np
import pytest

from mtl_core.studies.prepare import prepare
from mtl_core.studies.spec import StudySpec
from mtl_core.training.config import RunConfig
from mtl_core.training.epoch import train_epoch
from mtl_core.training.progress import RunClock
from mtl_core.training.sampling import epoch_plan, steps_per_epoch
from mtl_core.training.setup import set_up_run
from mtl_core.training.trainer import BestEpoch
from mtl_core.training.validation import validate

SOURCE = {"synthetic": {"base_cues": 8, "filler_words": 60, "seed": 0, "shared_examples": False,
                        "tasks": [{"name": "a", "n_examples": 200}, {"name": "b", "n_examples": 70}]}}


@pytest.mark.parametrize("rule", ["proportional", "temperature", "round_robin"])
def test_the_step_count_known_before_training_is_the_plans_length(rule):
    rng = np.random.default_rng(0)
    owned = {"a": np.arange(0, 141), "b": np.arange(141, 190), "c": np.arange(0)}
    lengths = rng.integers(1, 30, 190)
    for batch_size in (1, 7, 32, 500):
        assert steps_per_epoch(owned, batch_size) == len(epoch_plan(owned, lengths, batch_size, rng, rule))


def test_set_up_epochs_and_validation_compose_into_a_run_whose_schedule_ends_at_zero():
    config = RunConfig(emb_dim=8, hidden=8, epochs=2, max_len=20, use_vectors=False, lr_schedule="linear",
                       weighting="dwa")
    p = prepare(StudySpec(name="t", source=SOURCE, config=config.to_dict()), config)
    run = set_up_run(p.data, p.specs, p.split, config, seed=0, vocab_size=len(p.vocab))
    assert run.primary == run.scored == ["a", "b"] and run.probes == [] and run.masker is None
    reports = []
    clock = RunClock(config.epochs, run.steps_per_epoch, progress=reports.append)
    best = BestEpoch()
    for epoch in (1, 2):
        losses = train_epoch(run, config, epoch, clock)
        val = validate(run, p.data, p.specs, p.split.val, config.selection)
        best.keep_if_better(epoch, val, run.model)
        assert set(losses) == {"a", "b"} and 0 <= val.score <= 1
    assert clock.steps_done == 2 * run.steps_per_epoch
    assert clock.seen == 2 * len(p.split.train)  # an epoch visits every training row once
    assert run.optimizer.param_groups[0]["lr"] == 0.0  # linear decay reaches zero at the run's last step
    assert best.epoch in (1, 2) and best.state is not None and set(best.val_scores) == {"a", "b"}


def test_model_selection_keeps_the_first_of_equal_scores():
    from mtl_core.training.validation import Validation

    class Model:
        def __init__(self, weight: float):
            self.weight = weight

        def state_dict(self) -> dict:
            return {"w": self.weight}

    best = BestEpoch()
    for epoch, score in enumerate((0.5, 0.7, 0.7, 0.6), 1):
        best.keep_if_better(epoch, Validation(scores={"a": {"accuracy": score}}, losses={}, score=score),
                            Model(epoch))
    assert (best.epoch, best.score, best.state, best.val_scores) == (2, 0.7, {"w": 2}, {"a": {"accuracy": 0.7}})


def test_the_optimizer_is_fused_on_the_cpu_and_steps_as_the_per_tensor_adamw_does():
    import torch

    config = RunConfig(emb_dim=8, hidden=8, epochs=1, max_len=20, use_vectors=False, weighting="uncertainty")
    p = prepare(StudySpec(name="t", source=SOURCE, config=config.to_dict()), config)
    run = set_up_run(p.data, p.specs, p.split, config, seed=0, vocab_size=len(p.vocab))
    assert run.optimizer.defaults["fused"] is True  # every parameter, the weighting's too, is on the CPU

    def stepped(**kind) -> list[torch.Tensor]:
        params = [t.detach().clone().requires_grad_() for g in run.optimizer.param_groups for t in g["params"]]
        optimizer = torch.optim.AdamW(params, lr=0.01, weight_decay=0.1, **kind)
        for step in range(3):
            for k, t in enumerate(params):
                t.grad = torch.linspace(-1, 1, t.numel()).reshape(t.shape) * (step + 1) / (k + 1)
            optimizer.step()
        return params

    fused, loop = stepped(fused=True), stepped(foreach=False)
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(fused, loop))
    moved = [t.detach() for g in run.optimizer.param_groups for t in g["params"]]
    assert any(not torch.allclose(a, b) for a, b in zip(fused, moved))  # the steps did change the weights

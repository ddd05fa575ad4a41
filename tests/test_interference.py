"""Gradient interference: the cosine / conflict math, masking, no effect on training, and what it measures.

What a cosine says in hard sharing with one head per task (measured, hidden 16, 3 seeds; see the report):
the heads absorb the *sign* of a relation. Two tasks with identical labels and two with exactly opposite
labels both end with shared-encoder gradients at cosine ~0.9 (the opposite task's head simply flips).
A negative mean cosine needs the tasks to want *different functions* of the same words: with half the
cues contradicting, the cosine hovers around 0 and about half of the measurements conflict.
"""
from __future__ import annotations

import math

import pytest
import torch

from mtl_core.errors import ConfigError
from mtl_core.models.build import build_model
from mtl_core.results.interference import conflict_summary
from mtl_core.studies.prepare import prepare
from mtl_core.studies.spec import StudySpec
from mtl_core.training.config import RunConfig
from mtl_core.training.gradient_probe import (
    GradientProbe,
    epoch_rows,
    pair_stats,
    task_gradients,
)
from mtl_core.training.trainer import train_run

CONFIG = {"emb_dim": 16, "hidden": 16, "epochs": 6, "patience": 10, "max_len": 40, "lr": 0.005, "dropout": 0.2,
          "use_vectors": False}


def prepared(partner: dict, shared_examples: bool = True, n: int = 400):
    """Two synthetic tasks 'a' (base) and 'b' (``partner``'s cues), noise-free, on the same sentences."""
    source = {"synthetic": {"base_cues": 12, "filler_words": 100, "seed": 0, "shared_examples": shared_examples,
                            "tasks": [{"name": "a", "n_examples": n, "label_noise": 0.0},
                                      {"name": "b", "n_examples": n, "label_noise": 0.0, **partner}]}}
    config = RunConfig.from_dict(CONFIG)
    return prepare(StudySpec(name="t", source=source, config=config.to_dict()), config)


def train(p, seed: int = 0, **changes):
    config = RunConfig.from_dict({**CONFIG, **changes})
    return train_run(p.data, p.specs, p.split, config, seed, len(p.vocab), p.vectors)


def cosines(result) -> list[float]:
    return [c["value"] for c in sorted(result.curves, key=lambda c: c["epoch"])
            if c["task"] == "a|b" and c["name"] == "grad_cosine"]


# --- the math, on hand-made gradients ---------------------------------------------------------------

def test_pair_stats_on_hand_made_gradients():
    g = {"a": torch.tensor([1.0, 0.0]), "b": torch.tensor([-2.0, 0.0]), "c": torch.tensor([3.0, 3.0]),
         "d": torch.zeros(2)}
    stats = pair_stats(g)
    assert set(stats) == {"a|b", "a|c", "b|c"}  # a zero gradient has no direction: its pairs are left out
    assert stats["a|b"] == {"grad_cosine": -1.0, "grad_conflict_rate": 1.0, "grad_norm_ratio": 0.5}
    assert stats["a|c"]["grad_cosine"] == pytest.approx(1 / math.sqrt(2))
    assert stats["a|c"]["grad_conflict_rate"] == 0.0
    assert stats["b|c"]["grad_norm_ratio"] == pytest.approx(2 / math.sqrt(18))


def test_epoch_rows_average_measurements_and_conflict_rate_is_the_share_of_negative_cosines():
    measurements = [pair_stats({"a": torch.tensor([1.0, 0.0]), "b": torch.tensor(v)})
                    for v in ([1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [-1.0, 1.0])]  # cosines 1, 0, -1, -0.707
    rows = {r["name"]: r for r in epoch_rows(measurements, epoch=3)}
    assert all(r["epoch"] == 3 and r["task"] == "a|b" for r in rows.values())
    assert rows["grad_cosine"]["value"] == pytest.approx((1 + 0 - 1 - 1 / math.sqrt(2)) / 4)
    assert rows["grad_conflict_rate"]["value"] == 0.5          # 2 of 4 measurements negative (0 is not)
    assert rows["grad_norm_ratio"]["value"] == pytest.approx((1 + 1 + 1 + 1 / math.sqrt(2)) / 4)
    summary = conflict_summary(epoch_rows(measurements, 1) + epoch_rows(measurements[:1], 2))
    assert summary[0]["pair"] == "a|b" and summary[0]["grad_conflict_rate"] == 0.25  # mean of 0.5 and 0.0


def test_grad_every_is_validated():
    assert RunConfig().grad_every == 0
    for bad in (-1, 1.5, True):
        with pytest.raises(ConfigError, match="'grad_every'"):
            RunConfig(grad_every=bad)


# --- measuring on a real model --------------------------------------------------------------------

def test_task_gradients_use_only_shared_parameters_and_rows_holding_the_label():
    p = prepared({"shared_cues": 12, "private_cues": 0}, n=60)
    torch.manual_seed(0)
    model = build_model(p.specs, len(p.vocab), RunConfig.from_dict(CONFIG)).eval()
    rows = torch.arange(16)
    ids, lengths = p.data.ids[rows], p.data.lengths[rows]
    ids = ids[:, :int(lengths.max())]
    targets = {t: p.data.targets[t][rows].clone() for t in ("a", "b")}
    targets["b"][8:] = -100                                    # b labels only the first 8 rows
    grads = task_gradients(model, ids, lengths, targets, ["a", "b"])
    n_shared = sum(q.numel() for q in model.shared_parameters())
    assert grads["a"].shape == grads["b"].shape == (n_shared,)
    assert all(q.grad is None for q in model.parameters())   # nothing written into .grad
    alone = task_gradients(model, ids[:8], lengths[:8], {"b": targets["b"][:8]}, ["b"])
    assert torch.allclose(grads["b"], alone["b"], atol=1e-6)  # masked rows add nothing
    targets["b"][:] = -100
    assert set(task_gradients(model, ids, lengths, targets, ["a", "b"])) == {"a"}


def trained_with_and_without(**probe):
    """The same seeded run without and with a measuring ``probe`` option; asserts training was not changed."""
    p = prepared({"shared_cues": 6, "contradicting_cues": 6, "private_cues": 0}, n=200)
    off = train(p, seed=1, epochs=3, word_dropout=0.1)
    on = train(p, seed=1, epochs=3, word_dropout=0.1, **probe)
    assert on.test_scores == off.test_scores and on.best_epoch == off.best_epoch
    train_loss = lambda r: [c["value"] for c in r.curves if c["name"] == "train_loss"]  # noqa: E731
    assert train_loss(on) == train_loss(off)
    return off, on


def test_measuring_does_not_change_training():
    off, on = trained_with_and_without(grad_every=1)
    assert not any(c["name"].startswith("grad_") for c in off.curves)
    names = {(c["task"], c["name"]) for c in on.curves if c["name"].startswith("grad_")}
    assert names == {("a|b", "grad_cosine"), ("a|b", "grad_conflict_rate"), ("a|b", "grad_norm_ratio")}
    assert len(cosines(on)) == 3  # one averaged row per epoch


def test_probe_restores_train_mode_and_leaves_grads_alone():
    p = prepared({"shared_cues": 12, "private_cues": 0}, n=60)
    model = build_model(p.specs, len(p.vocab), RunConfig.from_dict(CONFIG)).train()
    probe = GradientProbe(model, p.data.ids, p.data.lengths, p.data.targets, p.split.train, every=2,
                          batch_size=8, seed=0)
    probe.after_step()
    assert probe.measurements == []                      # step 1 of every 2: nothing measured
    probe.after_step()
    assert len(probe.measurements) == 1 and set(probe.measurements[0]) == {"a|b"}
    assert all(m.training for m in model.modules()) and all(q.grad is None for q in model.parameters())


def test_agreeing_tasks_have_clearly_more_aligned_gradients_than_half_contradicting_ones():
    agreeing = train(prepared({"shared_cues": 12, "private_cues": 0}), grad_every=2)
    conflicting = train(prepared({"shared_cues": 6, "contradicting_cues": 6, "private_cues": 0}), grad_every=2)
    agree, conflict = conflict_summary(agreeing.curves)[0], conflict_summary(conflicting.curves)[0]
    # measured (seeds 0-2): agreeing mean cosine 0.50-0.57, half contradicting -0.01-0.01
    assert agree["grad_cosine"] > conflict["grad_cosine"] + 0.3, (agree, conflict)
    assert abs(conflict["grad_cosine"]) < 0.15
    assert conflict["grad_conflict_rate"] > 0.2 > agree["grad_conflict_rate"]  # measured 0.36-0.52 vs 0-0.04
    assert cosines(agreeing)[-1] > 0.8


def test_exactly_opposite_labels_align_the_shared_gradients_once_the_heads_flip():
    opposite = train(prepared({"contradicting_cues": 12, "private_cues": 0}), grad_every=2)
    a, b = (opposite.predictions[t] for t in ("a", "b"))
    assert all(x[1] != y[1] for x, y in zip(a, b))  # every test label opposite
    assert cosines(opposite)[-1] > 0.8               # measured 0.91-0.95: not interference at all

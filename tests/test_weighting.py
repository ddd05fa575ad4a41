"""Loss weighting and gradient combination methods, on a tiny shared encoder with three regression heads."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
import torchjd.aggregation as jd
from torch import nn

from mtl_core.training.weighting import (
    GRADIENT_COMBINATION,
    LOSS_WEIGHTING,
    REGISTRY,
    build_weighting,
    describe,
)
from mtl_core.training.weighting.scipy_projector import ScipyProjector

TASKS = ["a", "b", "c"]


class Tiny(nn.Module):
    """Shared encoder (two linear layers) and one linear head per task; MSE per task."""

    def __init__(self, seed: int = 0):
        super().__init__()
        torch.manual_seed(seed)
        self.encoder = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 8))
        self.heads = nn.ModuleDict({t: nn.Linear(8, 1) for t in TASKS})
        self.x = torch.randn(16, 4)                                         # (B, 4)
        self.y = {t: torch.randn(16) * scale for t, scale in zip(TASKS, (1.0, 3.0, 0.5))}

    def losses(self, tasks, scale: dict[str, float] | None = None) -> dict[str, torch.Tensor]:
        h = self.encoder(self.x)                                            # (B, 8)
        return {t: (scale or {}).get(t, 1.0) * F.mse_loss(self.heads[t](h).squeeze(-1), self.y[t]) for t in tasks}


def build(name: str, model: Tiny, **kwargs):
    context = dict(tasks=TASKS, primary=["a"], shared=list(model.encoder.parameters()), total_epochs=3,
                   manual_weights=None)
    return build_weighting(name, **{**context, **kwargs})


def grads(params) -> list[torch.Tensor | None]:
    return [None if p.grad is None else p.grad.clone() for p in params]


@pytest.mark.parametrize("name", list(REGISTRY))
def test_every_method_trains_with_two_one_and_three_tasks(name):
    model = Tiny()
    weighting = build(name, model)
    optimizer = torch.optim.AdamW(list(model.parameters()) + list(weighting.parameters()), lr=0.01)
    weighting.start_epoch(1)
    for present in (["a", "b"], ["b"], ["a", "b", "c"], ["b", "c"], ["a", "c"]):
        optimizer.zero_grad(set_to_none=True)
        weighting.backward(model.losses(present))
        for p in model.encoder.parameters():
            assert p.grad is not None and torch.isfinite(p.grad).all(), (name, present)
        for t in TASKS:
            head_grads = [p.grad for p in model.heads[t].parameters()]
            if t in present:
                assert all(g is not None and torch.isfinite(g).all() for g in head_grads), (name, present, t)
            else:
                assert all(g is None for g in head_grads), (name, present, t)
        optimizer.step()
    weighting.end_epoch(1, {t: 1.0 for t in TASKS})
    assert all(t in TASKS and math.isfinite(w) for t, w in weighting.current_weights().items())


@pytest.mark.parametrize("name", [n for n, c in REGISTRY.items() if c.kind == GRADIENT_COMBINATION])
def test_a_single_task_gets_its_plain_gradient(name):
    model = Tiny()
    weighting = build(name, model)
    loss = model.losses(["b"])["b"]
    expected = torch.autograd.grad(loss, list(model.parameters()), retain_graph=True, allow_unused=True)
    weighting.backward({"b": loss})
    for p, g in zip(model.parameters(), expected):
        assert (p.grad is None) if g is None else torch.allclose(p.grad, g)


def test_torchjd_sum_matches_equal_weighting_exactly():
    """Same update through the adapter (per-task grads, aggregator, heads by graph walk) as one backward."""
    updates = []
    for name in ("equal", "sum"):
        model = Tiny()
        build(name, model).backward(model.losses(TASKS))
        updates.append(grads(model.parameters()))
    for g_equal, g_sum in zip(*updates):
        assert torch.allclose(g_equal, g_sum, atol=1e-6)


def test_pcgrad_removes_the_conflicting_component():
    shared = nn.Parameter(torch.zeros(2))
    heads = {t: nn.Parameter(torch.ones(1)) for t in ("a", "b")}
    g1, g2 = torch.tensor([1.0, 0.0]), torch.tensor([-1.0, 1.0])          # g1 . g2 = -1 < 0
    losses = {"a": shared @ g1 + heads["a"].pow(2).sum(), "b": shared @ g2 + heads["b"].pow(2).sum()}
    build_weighting("pcgrad", tasks=["a", "b"], shared=[shared]).backward(losses)

    by_hand = (g1 - (g1 @ g2) / (g2 @ g2) * g2) + (g2 - (g2 @ g1) / (g1 @ g1) * g1)
    assert torch.allclose(shared.grad, by_hand)
    assert shared.grad @ g1 >= 0 and shared.grad @ g2 >= 0
    assert not torch.allclose(shared.grad, g1 + g2)                          # the plain sum conflicts
    assert heads["a"].grad.item() == pytest.approx(2.0)                     # heads: plain gradient


def test_upgrad_with_the_scipy_projector_matches_torchjd_documented_result():
    jacobian = torch.tensor([[-4.0, 1.0, 1.0], [6.0, 1.0, 1.0]])
    combined = jd.UPGrad(projector=ScipyProjector())(jacobian)
    assert torch.allclose(combined, torch.tensor([0.2929, 1.9004, 1.9004]), atol=1e-4)
    assert (jacobian @ combined >= 0).all()


def test_uncertainty_learns_a_larger_log_variance_for_the_larger_loss():
    model = Tiny()
    weighting = build("uncertainty", model)
    optimizer = torch.optim.Adam(list(model.parameters()) + list(weighting.parameters()), lr=0.05)
    for _ in range(40):
        optimizer.zero_grad(set_to_none=True)
        weighting.backward(model.losses(["a", "b"], scale={"a": 10.0, "b": 0.1}))
        optimizer.step()
    s = dict(zip(TASKS, weighting.log_vars.detach().tolist()))
    assert s["a"] != 0.0 and s["b"] != 0.0
    assert s["a"] > s["b"]
    assert s["c"] == 0.0                                     # never present: never updated
    assert weighting.current_weights()["a"] < weighting.current_weights()["b"]


def test_dwa_is_equal_for_two_epochs_then_favours_the_task_that_improved_less():
    weighting = build("dwa", Tiny(), tasks=["a", "b"])
    weighting.start_epoch(1)
    assert weighting.current_weights() == {"a": 1.0, "b": 1.0}
    weighting.end_epoch(1, {"a": 1.0, "b": 1.0})
    weighting.start_epoch(2)
    assert weighting.current_weights() == {"a": 1.0, "b": 1.0}
    weighting.end_epoch(2, {"a": 0.9, "b": 0.5})           # a fell by 10 %, b by 50 %
    weighting.start_epoch(3)
    w = weighting.current_weights()
    assert w["a"] > w["b"]
    assert w["a"] + w["b"] == pytest.approx(2.0)
    assert w["a"] == pytest.approx(2 * math.exp(0.45) / (math.exp(0.45) + math.exp(0.25)))


def test_gradnorm_lowers_the_weight_of_the_task_with_the_larger_gradient():
    model = Tiny()
    weighting = build("gradnorm", model)
    assert list(weighting.parameters()) == []                # its weights have their own optimizer
    for _ in range(10):
        model.zero_grad(set_to_none=True)
        weighting.backward(model.losses(["a", "b"], scale={"a": 10.0}))
    w = weighting.current_weights()
    assert w["a"] < 1.0 < w["b"]
    assert sum(w.values()) == pytest.approx(len(TASKS))


def test_primary_aux_schedule_at_epoch_one_of_ten():
    model = Tiny()
    weighting = build("primary_aux", model, total_epochs=10)
    weighting.start_epoch(1)
    w = weighting.current_weights()
    assert w["a"] == pytest.approx(0.1) and w["b"] == pytest.approx(0.9) and w["c"] == pytest.approx(0.9)
    plain = torch.autograd.grad(model.losses(["a"])["a"], model.heads["a"].weight)[0]
    weighting.backward(model.losses(["a"]))
    assert torch.allclose(model.heads["a"].weight.grad, 0.1 * plain)
    weighting.start_epoch(10)
    assert weighting.current_weights()["b"] == pytest.approx(0.0)


def test_primary_aux_needs_both_kinds_of_task():
    with pytest.raises(ValueError, match="at least one primary and one auxiliary"):
        build("primary_aux", Tiny(), primary=TASKS)


def test_manual_weights_reject_unknown_tasks_and_zero_stops_a_head():
    with pytest.raises(ValueError, match=r"'manual_weights'.*\['typo'\]"):
        build("manual", Tiny(), manual_weights={"a": 2.0, "typo": 1.0})
    model = Tiny()
    weighting = build("manual", model, manual_weights={"b": 0.0})
    weighting.backward(model.losses(["a", "b"]))
    assert torch.count_nonzero(model.heads["b"].weight.grad) == 0
    assert torch.count_nonzero(model.heads["a"].weight.grad) > 0
    assert weighting.current_weights() == {"a": 1.0, "b": 0.0, "c": 1.0}


def test_unknown_method_and_option_are_rejected():
    with pytest.raises(ValueError, match=r"^The 'weighting' option must be one of \{'equal', .*\}\. Got 'nope' instead\.$"):
        build_weighting("nope", tasks=TASKS, shared=[])
    with pytest.raises(ValueError, match="beta"):
        build("gradvac", Tiny(), betta=0.1)
    with pytest.raises(ValueError, match="unknown_task"):
        build("equal", Tiny()).backward({"unknown_task": torch.zeros((), requires_grad=True)})


def test_gradient_combination_logs_the_weights_it_used():
    model = Tiny()
    weighting = build("mgda", model)
    weighting.start_epoch(1)
    weighting.backward(model.losses(["a", "b"]))
    w = weighting.current_weights()
    assert set(w) == {"a", "b"} and sum(w.values()) == pytest.approx(1.0, abs=1e-3)   # MGDA: convex weights


def test_describe_lists_every_method_once_with_its_kind():
    rows = describe()
    assert [name for name, _, _ in rows] == list(REGISTRY)
    assert all(description and kind in (LOSS_WEIGHTING, GRADIENT_COMBINATION) for _, description, kind in rows)
    assert len(rows) >= 12


@pytest.mark.parametrize("name", list(REGISTRY))
def test_an_unweighted_extra_loss_adds_its_own_gradient_in_the_same_call(name):
    """``backward(losses, extra)``: the method's update plus ``extra``'s plain gradient (a detector head only
    ``extra`` reaches gets it too), as the two separate passes the trainer used to make gave."""
    def run(one_call: bool) -> list[torch.Tensor | None]:
        model = Tiny()
        detector = nn.Linear(8, 1)
        torch.manual_seed(1)
        nn.init.normal_(detector.weight)
        weighting = build(name, model)
        weighting.start_epoch(1)
        losses = model.losses(["a", "b", "c"])
        extra = detector(model.encoder(model.x)).pow(2).mean()
        params = list(model.parameters()) + list(detector.parameters())
        if one_call:
            weighting.backward(losses, extra)
        else:
            extra_grads = torch.autograd.grad(extra, params, retain_graph=True, allow_unused=True)
            weighting.backward(losses)
            for p, g in zip(params, extra_grads):
                if g is not None:
                    p.grad = g if p.grad is None else p.grad + g
        return grads(params)

    for got, want in zip(run(one_call=True), run(one_call=False)):
        assert (got is None) == (want is None)
        if want is not None:
            assert torch.allclose(got, want, atol=1e-6), name

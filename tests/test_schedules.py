"""Learning-rate schedules: constant, and linear warmup then decay to zero, stepped by the real optimizer."""
from __future__ import annotations

import pytest
import torch

from mtl_core.errors import ConfigError
from mtl_core.training.config import RunConfig
from mtl_core.training.schedules import lr_factor, make_scheduler


def test_linear_schedule_warms_up_then_decays_to_zero():
    f = lr_factor("linear", total_steps=10, warmup=0.2)
    assert [round(f(s), 3) for s in range(11)] == [0.5, 1.0, 1.0, 0.875, 0.75, 0.625, 0.5, 0.375, 0.25, 0.125, 0.0]
    assert lr_factor("linear", 10, 0.0)(0) == 1.0                       # no warmup: start at the full rate
    assert lr_factor("constant", 10, 0.2)(7) == 1.0


def test_scheduler_moves_every_parameter_groups_rate():
    w = torch.nn.Parameter(torch.zeros(2))
    optimizer = torch.optim.AdamW([{"params": [w], "lr": 1e-3}, {"params": [], "lr": 5e-5}])
    scheduler = make_scheduler(optimizer, "linear", total_steps=4, warmup=0.5)
    seen = []
    for _ in range(4):
        seen.append([g["lr"] for g in optimizer.param_groups])
        optimizer.step()
        scheduler.step()
    assert seen[0] == pytest.approx([5e-4, 2.5e-5]) and seen[1] == pytest.approx([1e-3, 5e-5])
    assert seen[3] == pytest.approx([5e-4, 2.5e-5])
    assert make_scheduler(optimizer, "constant", 4, 0.5) is None


@pytest.mark.parametrize("bad", [{"lr_schedule": "cosine"}, {"warmup": 1.0}, {"warmup": -0.1}])
def test_bad_schedule_options_are_refused(bad):
    with pytest.raises(ConfigError):
        RunConfig(**bad)

"""The "subsets" plan: a balanced, seeded sample of task subsets, the runs it plans, and the time it is estimated
to take."""
from __future__ import annotations

from itertools import combinations

import pytest

from mtl_core.cli.options import build_parser, subsets_budget
from mtl_core.errors import ConfigError
from mtl_core.relatedness.subsets import coverage, default_budget, possible_subsets, sample_subsets
from mtl_core.results.study_results import setting_label
from mtl_core.studies import time_estimates as te
from mtl_core.studies.execute import MEASURE_EVERY, run_config
from mtl_core.studies.spec import StudySpec, plan_runs
from mtl_core.store import Store
from mtl_core.training.config import RunConfig

TASKS = [f"t{i}" for i in range(8)]


def test_subsets_are_distinct_balanced_and_the_same_for_the_same_seed():
    subsets = sample_subsets(TASKS, 24, seed=3)
    assert len({frozenset(s) for s in subsets}) == 24
    assert all(2 <= len(s) <= 7 and s == [t for t in TASKS if t in s] for s in subsets)  # in task order
    c = coverage(subsets, TASKS)
    assert c["n_subsets"] == 24
    assert {len(x) for x in subsets} <= {4, 5}  # the sizes nearest (8 + 1) / 2: each task in about half
    assert c["task_min"] >= 10 and 12 <= c["task_mean"] <= 15
    assert c["pair_min"] >= 3                                            # every pair several times
    assert sample_subsets(TASKS, 24, seed=3) == subsets
    assert sample_subsets(TASKS, 24, seed=4) != subsets


def test_the_most_informative_sizes_come_first():
    """A partner is in half of a task's subsets at (k + 1) / 2 tasks: for 5 tasks the 10 triples come first (each
    partner of a task in 3 of its 6), then pairs or quads; for 9 tasks subsets of 5 (not 4 = round(9 / 2))."""
    tasks = list("abcde")
    design = sample_subsets(tasks, 10, seed=1)
    assert sorted(map(tuple, design)) == list(combinations(tasks, 3))
    for t in tasks:
        mine = [s for s in design if t in s]
        assert all(sum(p in s for s in mine) == len(mine) / 2 for p in tasks if p != t)
    for seed in range(3):
        more = sample_subsets(tasks, 15, seed=seed)
        assert sum(len(s) == 3 for s in more) == 10 and all(len(s) in (2, 3, 4) for s in more)
    nine = [f"t{i}" for i in range(9)]
    assert {len(s) for s in sample_subsets(nine, 27)} == {5}


def test_a_balanced_design_beats_drawing_subsets_at_random():
    import random

    rng = random.Random(0)
    drawn = [rng.sample(TASKS, 4) for _ in range(16)]
    assert coverage(sample_subsets(TASKS, 16), TASKS)["pair_min"] > coverage(drawn, TASKS)["pair_min"]


def test_every_subset_can_be_asked_for_and_bad_budgets_say_what_is_allowed():
    assert possible_subsets(4) == 10  # 6 pairs + 4 triples (all four is the 'all' run)
    every = sample_subsets(list("abcd"), 10)
    assert sorted(map(tuple, every)) == sorted(c for k in (2, 3) for c in combinations("abcd", k))
    assert coverage(every, list("abcd"))["pair_min"] == 3
    with pytest.raises(ConfigError, match="at most 10"):
        sample_subsets(list("abcd"), 11)
    with pytest.raises(ConfigError, match="at least the number of tasks"):
        sample_subsets(list("abcd"), 3)
    with pytest.raises(ConfigError, match="at least 3 tasks"):
        sample_subsets(list("ab"), 2)
    assert default_budget(4) == 10 and default_budget(8) == 24  # 3 per task, at most every subset


def test_a_subsets_plan_trains_each_alone_the_same_subsets_every_seed_and_all_together():
    runs = plan_runs(list("abcde"), "subsets", seeds=2, budget=7)
    per_seed = [[(s, g) for s, g, seed in runs if seed == k] for k in (0, 1)]
    assert per_seed[0] == per_seed[1]
    settings = [s for s, _ in per_seed[0]]
    assert settings == ["single"] * 5 + ["subset"] * 7 + ["all"]
    assert [g for s, g in per_seed[0] if s == "subset"] == sample_subsets(list("abcde"), 7)
    spec = StudySpec(name="s", source={"preset": "synthetic-demo"}, plan="subsets", seeds=1)
    with pytest.raises(ConfigError, match="needs a budget"):
        spec.planned_runs(list("abcde"))
    spec.budget = 5
    assert len(spec.planned_runs(list("abcde"))) == 11


def test_subset_runs_are_labelled_and_the_all_run_measures_the_cheap_estimates():
    assert setting_label("subset", ["a", "b", "c"], "b") == "subset:a+b+c"
    config = RunConfig.from_dict({})
    probed = run_config(config, "all", "subsets", 4, 4)
    assert (probed.grad_every, probed.affinity_every) == (MEASURE_EVERY["grad_every"] * 2,
                                                          MEASURE_EVERY["affinity_every"] * 2)  # 4 tasks: 4/2
    assert run_config(config, "subset", "subsets", 2, 4) == config  # only the all-tasks run pays for probes


def test_the_cli_takes_a_budget_and_defaults_to_three_per_task():
    args = build_parser().parse_args(["study", "--preset", "synthetic-demo", "--plan", "subsets", "--budget", "6",
                                      "--out", "x"])
    assert args.budget == 6
    assert "default 3k" in build_parser()._subparsers._group_actions[0].choices["study"].format_help()
    assert subsets_budget(None, "subsets", list("abcde")) == 15
    assert subsets_budget(None, "pairs", list("abcde")) is None
    with pytest.raises(ConfigError, match="--budget needs --plan subsets"):
        subsets_budget(6, "pairs", list("abcde"))


def test_time_estimates_count_every_planned_subset_run(monkeypatch):
    monkeypatch.setenv("MTL_LAB_PARALLEL_RUNS", "1")
    spec = StudySpec.from_preset("synthetic-demo", seeds=2, plan="subsets")
    spec.budget = 6
    spec.config.update({"epochs": 10, "patience": 2})
    runs = spec.planned_runs(spec.tasks or ["base", "related", "unrelated", "conflicting"])
    assert len(runs) == 2 * (4 + 6 + 1)
    store = Store()
    with_subsets = te.estimate_parts(spec, store)[1]
    spec.plan = "singles+all"
    assert with_subsets > te.estimate_parts(spec, store)[1] + 2 * 6 * te.RUN_SECONDS  # six more runs per seed

"""The surrogate of task subsets (Li, Nguyen & Zhang 2023) on hand-made scores whose answer is planted: it
recovers who helps whom, adds interaction terms only when they are there, predicts the best grouping, and every
estimate is checked against held-out subsets and the measurement's own noise. Then one small real study."""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from mtl_core.errors import ConfigError
from mtl_core.relatedness.checks import (
    check_estimates,
    measured_gains,
    mean_over_tasks,
    noise_ceiling,
    pairwise_predictions,
)
from mtl_core.relatedness.group_search import (
    GROUPING_COLUMNS,
    best_predicted_grouping,
    grouping_rows,
    predicted_groupings,
)
from mtl_core.relatedness.subsets import sample_subsets
from mtl_core.relatedness.surrogate import INTERACTIONS, LINEAR, Measurement, fit_surrogate

TASKS = list("abcdef")


def planted_weights(seed: int = 1) -> dict[tuple[str, str], float]:
    """(task, partner) -> what the partner adds to the task's score: spread out, both signs."""
    rng = np.random.default_rng(seed)
    return {(t, p): float(rng.choice([-1, 1]) * rng.uniform(0.01, 0.06)) for t in TASKS for p in TASKS if p != t}


def study(score, seeds: int = 3, budget: int = 18, noise: float = 0.005, tasks=TASKS) -> list[Measurement]:
    """Every task alone, ``budget`` sampled subsets and all together, x seeds; ``score(task, subset)`` + noise."""
    rng = np.random.default_rng(7)
    subsets = [[t] for t in tasks] + sample_subsets(tasks, budget) + [list(tasks)]
    return [Measurement(t, frozenset(s), seed, score(t, frozenset(s)) + rng.normal(0, noise))
            for seed in range(seeds) for s in subsets for t in s]


def additive(weights):
    return lambda t, s: 0.6 + 0.05 * TASKS.index(t) + sum(weights[(t, p)] for p in s if p != t)


def coverage(budget: int, repeats: int = 40) -> tuple[float, int]:
    """Share of planted weights of task "a" inside their 95% interval over ``repeats`` studies of 6 tasks with a
    sampled budget, 3 seeds, run noise 0.02 and subset-level noise 0.01 (what the linear model cannot explain);
    and how many weights had an interval."""
    rng = np.random.default_rng(budget)
    hits = total = 0
    for repeat in range(repeats):
        weights = {p: rng.normal(0, 0.03) for p in TASKS}
        subsets = [frozenset([t]) for t in TASKS] + [frozenset(s) for s in sample_subsets(TASKS, budget, seed=repeat)]
        rows = []
        for subset in subsets + [frozenset(TASKS)]:
            base = 0.7 + sum(weights[p] for p in subset if p != "a") + rng.normal(0, 0.01)
            rows += [Measurement("a", subset, seed, base + rng.normal(0, 0.02)) for seed in range(3) if "a" in subset]
        model = fit_surrogate(rows, TASKS, resamples=200, seed=repeat).models["a"]
        for p, (low, high) in model.ci.items():
            if low is not None:
                total += 1
                hits += low <= weights[p] <= high
    return (hits / total if total else float("nan")), total


def test_intervals_hold_their_coverage_with_few_subsets_or_are_not_given():
    """The subset bootstrap alone covered about half the planted weights with few subsets; the envelope with the
    t-interval keeps 95% intervals near 95%, and a saturated fit (as many weights as subsets) gives none."""
    share, total = coverage(budget=14)
    assert total > 150 and share >= 0.9
    assert coverage(budget=6)[1] == 0


# --- the surrogate -----------------------------------------------------------------------------------------
def test_the_surrogate_recovers_a_planted_relevance_matrix_with_intervals_that_cover_it():
    weights = planted_weights()
    surrogate = fit_surrogate(study(additive(weights)), TASKS)
    rows = surrogate.relevance_rows()
    assert len(rows) == 30 and {r["model"] for r in rows} == {LINEAR}
    covered = [r["ci_low"] <= weights[(r["task"], r["partner"])] <= r["ci_high"] for r in rows]
    assert sum(covered) >= 27                                             # 95% intervals: ~28.5 of 30
    assert all(np.sign(r["weight"]) == np.sign(weights[(r["task"], r["partner"])]) for r in rows)
    for t in TASKS:  # each task's partners ranked as planted
        mine = [r for r in rows if r["task"] == t]
        assert [r["partner"] for r in sorted(mine, key=lambda r: r["weight"])] == \
            sorted((p for p in TASKS if p != t), key=lambda p: weights[(t, p)])
        assert all(r["n_subsets"] >= 4 for r in mine)
    gain = weights[("a", "b")] + weights[("a", "c")]
    assert surrogate.predicted_gain("a", ["a", "b", "c"]) == pytest.approx(gain, abs=0.01)
    assert surrogate.predict("a", ["a"]) == pytest.approx(0.6, abs=0.01)
    with pytest.raises(ConfigError, match="containing it"):
        surrogate.predict("a", ["b", "c"])


def test_interaction_terms_are_chosen_only_when_the_data_has_an_interaction():
    weights = planted_weights()
    linear = fit_surrogate(study(additive(weights)), TASKS)
    assert all(m.model == LINEAR for m in linear.models.values())

    def with_interaction(t, s):  # a is hurt badly by b and c together, whatever each does alone
        return additive(weights)(t, s) - (0.15 if t == "a" and {"b", "c"} <= s else 0.0)
    found = fit_surrogate(study(with_interaction, budget=40), TASKS)
    model = found.models["a"]
    assert model.model == INTERACTIONS
    assert model.cv_error[INTERACTIONS] < 0.9 * model.cv_error[LINEAR]
    assert found.predicted_gain("a", "abc") == pytest.approx(weights[("a", "b")] + weights[("a", "c")] - 0.15,
                                                             abs=0.03)
    assert found.models["d"].model == LINEAR   # d has no interaction planted


def test_a_task_measured_only_alone_has_no_surrogate_and_says_why():
    found = fit_surrogate([Measurement("a", frozenset("a"), 0, 0.5), Measurement("b", frozenset("b"), 0, 0.5),
                           Measurement("b", frozenset("ab"), 0, 0.6)], ["a", "b"])
    assert "a" in found.skipped and "b" not in found.skipped
    with pytest.raises(ConfigError, match="at least 2 different subsets"):
        found.predict("a", "ab")


# --- grouping from the surrogate ---------------------------------------------------------------------------
def blocs(t: str, group: list[str]) -> float:
    """{a, b, c} and {d, e, f} help within, hurt across."""
    side = {x: x in "abc" for x in TASKS}
    return sum(0.05 if side[p] == side[t] else -0.08 for p in group if p != t)


def test_group_search_finds_the_planted_blocs_and_keeps_to_the_group_limit():
    best = best_predicted_grouping(TASKS, blocs)
    assert best.groups == [["a", "b", "c"], ["d", "e", "f"]]
    assert best.score == pytest.approx(6 * 0.10) and best.search == "exhaustive" and "prediction" in best.basis
    one = best_predicted_grouping(TASKS, blocs, max_groups=1)
    assert one.groups == [TASKS] and one.score < 0
    rows = grouping_rows(predicted_groupings(TASKS, blocs))
    assert list(rows[0]) == GROUPING_COLUMNS
    for k in range(1, 7):
        assert len({r["group"] for r in rows if r["k"] == k}) <= k
        assert sorted(r["task"] for r in rows if r["k"] == k) == TASKS


def test_ties_prefer_fewer_groups_and_the_heuristic_finds_blocs_beyond_eight_tasks():
    assert best_predicted_grouping(list("abc"), lambda t, g: 0.0).groups == [["a", "b", "c"]]
    many = [f"t{i:02d}" for i in range(12)]
    side = {t: i % 3 for i, t in enumerate(many)}
    found = best_predicted_grouping(many, lambda t, g: sum(0.05 if side[p] == side[t] else -0.08
                                                           for p in g if p != t), max_groups=4)
    assert found.search.startswith("heuristic")
    assert sorted(map(tuple, found.groups)) == sorted(tuple(t for t in many if side[t] == k) for k in range(3))
    with pytest.raises(ConfigError, match="max_groups"):
        best_predicted_grouping(many, blocs, max_groups=0)


def test_surrogate_predictions_drive_the_grouping_search():
    surrogate = fit_surrogate(study(lambda t, s: 0.6 + blocs(t, sorted(s)), budget=24), TASKS)
    assert best_predicted_grouping(TASKS, surrogate.predicted_gain).groups == [["a", "b", "c"], ["d", "e", "f"]]


# --- every estimate checked against held-out subsets --------------------------------------------------------
def test_held_out_spearman_is_one_for_a_perfect_estimate_and_minus_one_for_a_reversed_one():
    weights = planted_weights()
    measurements = study(lambda t, s: 0.6 + np.mean([weights[(t, p)] for p in s if p != t] or [0.0]), noise=0.0)
    truth = measured_gains(measurements)
    keys = list(truth)
    assert pairwise_predictions(weights, keys) == pytest.approx(truth)
    reversed_ = {k: -v for k, v in weights.items()}
    checks = check_estimates(measurements, TASKS, {"planted": weights, "reversed": reversed_})
    rows = {r["estimate"]: r for r in checks.rows}
    assert rows["planted"]["spearman"] == pytest.approx(1.0) and rows["reversed"]["spearman"] == pytest.approx(-1.0)
    assert rows["planted"]["n_tasks"] == 6 and rows["planted"]["n_heldout_subsets"] == 19  # 18 + all together
    assert {p["estimate"] for p in checks.points} == {"surrogate", "planted", "reversed"}


def test_the_surrogate_predicts_held_out_subsets_of_an_additive_study_close_to_the_ceiling():
    checks = check_estimates(study(additive(planted_weights()), noise=0.01), TASKS)
    row = checks.rows[0]
    assert row["estimate"] == "surrogate" and row["spearman"] > 0.8
    assert row["ci_low"] <= row["spearman"] <= row["ci_high"]
    assert row["ceiling"] > 0.8 and row["note"] == ""


def test_the_noise_ceiling_is_one_for_repeatable_seeds_minus_one_for_opposite_ones_and_none_for_one_seed():
    gain = {s: k / 10 for k, s in enumerate([frozenset("ab"), frozenset("ac"), frozenset("abc"), frozenset("bc")])}

    def measured(flip: bool, seeds=(0, 1)) -> list[Measurement]:
        rows = []
        for seed in seeds:
            for s, g in gain.items():
                rows += [Measurement(t, s, seed, 0.5 + (-g if flip and seed == 1 else g)) for t in s]
            rows += [Measurement(t, frozenset(t), seed, 0.5) for t in "abc"]
        return rows
    keys = list(measured_gains(measured(False)))
    assert noise_ceiling(measured(False), keys)[0] == pytest.approx((1.0, 1.0, 1.0))
    assert noise_ceiling(measured(True), keys)[0] == pytest.approx((-1.0, -1.0, -1.0))
    assert noise_ceiling(measured(False, seeds=(0,)), keys) == ((None, None, None),
                                                                 "no noise ceiling: it needs at least 2 seeds")
    mean, lo, hi = mean_over_tasks([0.2, 0.4, 0.6, 0.8])
    assert mean == pytest.approx(0.5) and 0.2 <= lo < 0.5 < hi <= 0.8


# --- one small real study ---------------------------------------------------------------------------------
def read_csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def tiny_subsets_study(store) -> str:
    """A real 'subsets' study of three generated tasks (a base task, a partner sharing its cue words and one
    contradicting half of them), shrunk to train in seconds: 150 examples a task, one epoch, two seeds."""
    from mtl_core.studies.execute import run_study
    from mtl_core.studies.spec import StudySpec

    tasks = [{"name": "base", "n_examples": 150}, {"name": "related", "shared_cues": 12, "n_examples": 150},
             {"name": "conflicting", "shared_cues": 6, "contradicting_cues": 6, "n_examples": 150}]
    spec = StudySpec(name="tiny subsets", source={"synthetic": {"base_cues": 12, "filler_words": 100, "seed": 0,
                                                                "tasks": tasks}},
                     seeds=2, plan="subsets", budget=3,
                     config={"epochs": 1, "hidden": 8, "emb_dim": 8, "max_len": 30, "use_vectors": False,
                             "grad_every": 2, "affinity_every": 2})
    return run_study(spec, store, echo=lambda line: None, save_models=False)[0]


def test_a_real_subsets_study_writes_relevance_estimates_and_the_predicted_grouping(tmp_path):
    from mtl_core.cli.outputs import write_relatedness
    from mtl_core.results.study_results import StudyResults
    from mtl_core.store import Store

    store = Store(tmp_path / "store.sqlite")
    stored = StudyResults.load(store, tiny_subsets_study(store))
    assert sorted({r["setting"] for r in stored.runs}) == ["all", "single", "subset"]
    out = tmp_path / "out"
    written = {p.name for p in write_relatedness(stored, [], out)}
    assert {"relevance.csv", "estimates.csv", "surrogate_grouping.csv", "estimate_points.csv"} <= written
    tasks = ("base", "related", "conflicting")
    relevance = read_csv(out / "relevance.csv")
    assert {(r["task"], r["partner"]) for r in relevance} == {(a, b) for a in tasks for b in tasks if a != b}
    assert all(r["n_subsets"] == "2" for r in relevance)  # the pair and all three together
    rows = read_csv(out / "estimates.csv")
    assert list(rows[0]) == ["estimate", "spearman", "ci_low", "ci_high", "ceiling", "ceiling_low", "ceiling_high",
                             "n_tasks", "n_heldout_subsets", "runs", "minutes", "note"]
    estimates = {r["estimate"]: r for r in rows}
    assert set(estimates) == {"surrogate", "grad_cosine", "lookahead_affinity", "short_runs"}
    assert estimates["surrogate"]["runs"] == "14"      # (3 alone + 3 subsets + all) x 2 seeds
    assert estimates["short_runs"]["runs"] == "12"     # (3 alone + 3 pairs) x 2 seeds, their first epochs
    assert estimates["grad_cosine"]["runs"] == "2"     # the all-tasks run of each seed
    assert float(estimates["surrogate"]["minutes"]) > 0
    for r in rows:
        assert r["n_heldout_subsets"] == "4"           # the three pairs and all together, each held out once
        assert r["spearman"] == "" or -1 <= float(r["spearman"]) <= 1
    grouping = read_csv(out / "surrogate_grouping.csv")
    assert {r["basis"] for r in grouping} == {"surrogate prediction"}
    for k in ("1", "2", "3"):
        assert sorted(r["task"] for r in grouping if r["k"] == k) == sorted(tasks)

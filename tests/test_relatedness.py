"""Task relatedness: lookahead affinity, grouping search, and how well cheap estimates predict transfer.

Measured (hidden 16, lr 0.005, affinity every 2 steps, seeds 0-1): lookahead affinity is small in absolute
terms (a raw SGD step of size lr) — agreeing tasks 2e-5..3e-5 averaged over 6 epochs and rising to ~1e-4,
half-contradicting tasks about -2e-6 and negative by the last epochs.
"""
from __future__ import annotations

import csv
from pathlib import Path

import pytest
import torch
from test_interference import CONFIG, prepared, train, trained_with_and_without

from mtl_core.cli import main
from mtl_core.errors import ConfigError
from mtl_core.models.build import build_model
from mtl_core.results.estimate_quality import agreement, spearman
from mtl_core.results.grouping import MAX_TASKS, best_grouping, partitions
from mtl_core.training.affinity_probe import NAME, lookahead_affinities
from mtl_core.training.config import RunConfig


def affinities(result) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for c in sorted(result.curves, key=lambda c: c["epoch"]):
        if c["name"] == NAME:
            out.setdefault(c["task"], []).append(c["value"])
    return out


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


# --- grouping search on hand-made gains ---------------------------------------------------------------
def two_blocs() -> dict[tuple[str, str], float]:
    """{a, b} help each other, {c, d} help each other, every cross pair hurts."""
    gain = {("a", "b"): 0.10, ("b", "a"): 0.05, ("c", "d"): 0.20, ("d", "c"): 0.10}
    for x in "ab":
        for y in "cd":
            gain[(x, y)], gain[(y, x)] = -0.10, -0.20
    return gain


def test_best_grouping_finds_the_two_blocs_and_prices_one_big_group():
    g = best_grouping(list("abcd"), two_blocs(), k=2)
    assert g.groups == [["a", "b"], ["c", "d"]]
    assert g.predicted_gain == pytest.approx({"a": 0.10, "b": 0.05, "c": 0.20, "d": 0.10})
    assert g.score == pytest.approx(0.45)
    assert best_grouping(list("abcd"), two_blocs(), k=4).groups == g.groups  # more room changes nothing
    one = best_grouping(list("abcd"), two_blocs(), k=1)
    assert one.groups == [["a", "b", "c", "d"]]
    assert one.predicted_gain["a"] == pytest.approx((0.10 - 0.10 - 0.10) / 3)
    assert one.score < 0                   # all together is predicted worse than every task alone
    helpful = {pair: abs(v) for pair, v in two_blocs().items()}
    assert best_grouping(list("abcd"), helpful, k=1).score > 0


def test_tasks_that_only_hurt_are_kept_alone_and_ties_prefer_fewer_groups():
    hurt = {(x, y): -0.1 for x in "abc" for y in "abc" if x != y}
    g = best_grouping(list("abc"), hurt, k=3)
    assert g.groups == [["a"], ["b"], ["c"]] and g.score == 0
    neutral = {pair: 0.0 for pair in hurt}
    assert best_grouping(list("abc"), neutral, k=3).groups == [["a", "b", "c"]]


def test_partitions_are_counted_by_bell_numbers_and_big_searches_are_refused():
    assert [sum(1 for _ in partitions(list(range(n)), n)) for n in range(1, 7)] == [1, 2, 5, 15, 52, 203]
    assert sum(1 for _ in partitions(list("abcd"), 2)) == 8  # S(4,1) + S(4,2)
    with pytest.raises(ConfigError, match=f"at most {MAX_TASKS} tasks.*Got 11 tasks"):
        best_grouping([f"t{i}" for i in range(11)], {}, k=2)
    with pytest.raises(ConfigError, match="'k' parameter"):
        best_grouping(list("ab"), {("a", "b"): 0.1, ("b", "a"): 0.1}, k=0)


# --- rank agreement on hand-made points ---------------------------------------------------------------
def test_spearman_and_its_bootstrap_ci_on_hand_made_points():
    x = [0.1, 0.5, 0.2, 0.9, 0.4, 0.7]
    assert spearman(x, [v ** 3 for v in x]) == pytest.approx(1.0)    # any increasing map: perfect rank
    assert spearman(x, [-v for v in x]) == pytest.approx(-1.0)
    assert spearman([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(0.8)
    perfect = agreement(x, [2 * v for v in x])
    assert perfect["spearman"] == pytest.approx(1.0) and perfect["ci_low"] == pytest.approx(1.0)
    noisy = agreement(x, [0.3, 0.6, 0.1, 0.8, 0.7, 0.5])
    assert noisy["ci_low"] < noisy["spearman"] < noisy["ci_high"] and noisy["n_pairs"] == 6
    assert agreement([1, 2], [1, 2])["spearman"] is None             # too few pairs to rank


# --- lookahead affinity on a real model ---------------------------------------------------------------
def test_lookahead_restores_the_shared_parameters_exactly():
    p = prepared({"shared_cues": 12, "private_cues": 0}, n=60)
    torch.manual_seed(0)
    model = build_model(p.specs, len(p.vocab), RunConfig.from_dict(CONFIG)).eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    rows = torch.arange(32)
    lengths = p.data.lengths[rows]
    targets = {t: p.data.targets[t][rows] for t in ("a", "b")}
    out = lookahead_affinities(model, p.data.ids[rows, :int(lengths.max())], lengths, targets, ["a", "b"], lr=0.5)
    assert set(out) == {"a>b", "b>a"}
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert all(q.grad is None for q in model.parameters())
    assert out["a>b"][NAME] > 0  # identical labels: a's step lowers b's loss (large lr: a clear change)


def test_affinity_measurement_does_not_change_training():
    off, on = trained_with_and_without(affinity_every=1)
    assert set(affinities(on)) == {"a>b", "b>a"} and all(len(v) == 3 for v in affinities(on).values())
    assert not affinities(off)
    with pytest.raises(ConfigError, match="'affinity_every'"):
        RunConfig(affinity_every=-1)


def test_agreeing_tasks_have_clearly_higher_affinity_than_half_contradicting_ones():
    agree = affinities(train(prepared({"shared_cues": 12, "private_cues": 0}), affinity_every=2))
    half = affinities(train(prepared({"shared_cues": 6, "contradicting_cues": 6, "private_cues": 0}), affinity_every=2))
    mean = lambda v: sum(v) / len(v)  # noqa: E731
    for pair in ("a>b", "b>a"):
        assert mean(agree[pair]) > 1e-5, agree            # measured 3.0e-5 (seed 0)
        assert mean(half[pair]) < 0.25 * mean(agree[pair]), (agree, half)  # measured about -2e-6
        assert agree[pair][-1] > 0 > half[pair][-1]      # by the last epoch: help vs hurt


# --- a real pairs study through the CLI -----------------------------------------------------------------
def test_pairs_study_with_estimates_writes_affinity_grouping_and_estimates(tmp_path):
    out = tmp_path / "out"
    assert main(["study", "--preset", "synthetic-demo", "--tasks", "base,related,conflicting", "--plan", "pairs",
                 "--seeds", "2", "--epochs", "2", "--set", "hidden=16", "--set", "emb_dim=16",
                 "--set", "grad_every=4", "--set", "affinity_every=4", "--out", str(out)]) == 0
    tasks = {"base", "related", "conflicting"}
    affinity = read_csv(out / "affinity.csv")
    assert list(affinity[0]) == ["task", "partner", "affinity", "n_runs"]
    assert {(r["task"], r["partner"]) for r in affinity} == {(a, b) for a in tasks for b in tasks if a != b}
    assert all(r["n_runs"] == "2" for r in affinity)  # from the all-tasks run of each seed
    grouping = read_csv(out / "grouping.csv")
    assert list(grouping[0]) == ["source", "k", "group", "tasks", "task", "predicted_gain", "score"]
    for source in ("transfer", "affinity"):
        for k in ("1", "2", "3"):
            rows = [r for r in grouping if r["source"] == source and r["k"] == k]
            assert sorted(r["task"] for r in rows) == sorted(tasks)  # a partition: each task exactly once
            assert len({r["group"] for r in rows}) <= int(k)
            assert sum(float(r["predicted_gain"]) for r in rows) == pytest.approx(float(rows[0]["score"]))
    estimates = {r["estimate"]: r for r in read_csv(out / "estimates.csv")}
    assert set(estimates) == {"grad_cosine", "lookahead_affinity"}
    for r in estimates.values():
        assert r["n_pairs"] == "6"
        assert -1 <= float(r["ci_low"]) <= float(r["spearman"]) <= float(r["ci_high"]) <= 1

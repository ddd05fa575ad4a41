"""Plans with pairs and custom groups, the summary's per-partner rows, and the transfer matrix."""
from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from mtl_core.cli import main
from mtl_core.errors import ConfigError
from mtl_core.results.study_results import StudyResults
from mtl_core.results.summary import summary_rows
from mtl_core.results.transfer import TRANSFER_COLUMNS, transfer_matrix
from mtl_core.store import Store
from mtl_core.studies.spec import plan_runs
from mtl_core.training.trainer import RunResult

REPO = Path(__file__).resolve().parents[1]
TINY = ["--tasks", "base,related,conflicting", "--epochs", "3", "--set", "hidden=16", "--set", "emb_dim=16"]


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mtl_core", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=300)


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


# plans --------------------------------------------------------------------------------------------
def test_pairs_plan_trains_each_alone_every_pair_and_all_together():
    runs = plan_runs(["a", "b", "c"], "pairs", seeds=2)
    assert len(runs) == 2 * (3 + 3 + 1)
    seed0 = [(setting, tasks) for setting, tasks, seed in runs if seed == 0]
    assert seed0 == [("single", ["a"]), ("single", ["b"]), ("single", ["c"]),
                     ("pair", ["a", "b"]), ("pair", ["a", "c"]), ("pair", ["b", "c"]), ("all", ["a", "b", "c"])]
    assert [(s, t) for s, t, seed in runs if seed == 1] == seed0  # every seed runs the same plan
    # with two tasks the pair is all of them: trained once, as the pair
    assert [(s, t) for s, t, _ in plan_runs(["a", "b"], "pairs", 1)] == [
        ("single", ["a"]), ("single", ["b"]), ("pair", ["a", "b"])]


def test_groups_plan_trains_each_alone_and_each_custom_group():
    runs = plan_runs(["a", "b", "c", "d"], "groups", seeds=3, groups=[["c", "a"], ["b", "c", "d"], ["d"]])
    assert len(runs) == 3 * (4 + 2)  # a one-task group is that task's single run
    assert [(s, t) for s, t, seed in runs if seed == 2] == [
        ("single", ["a"]), ("single", ["b"]), ("single", ["c"]), ("single", ["d"]),
        ("group", ["a", "c"]), ("group", ["b", "c", "d"])]  # tasks in study order


@pytest.mark.parametrize("groups, message", [
    (None, "needs at least one group"),
    ([], "needs at least one group"),
    ([["a", "b"], []], "Group 2 of the 'groups' plan is empty"),
    ([["a", "x"]], r"Group 1 .* unknown task\(s\) \['x'\]\. The study's tasks are \['a', 'b', 'c'\]"),
    ([["a", "a"]], "lists a task twice"),
    ([["a", "b"], ["b", "a"]], "Group 2 .* repeats an earlier group"),
])
def test_groups_plan_rejects_bad_groups_with_a_clear_message(groups, message):
    with pytest.raises(ConfigError, match=message):
        plan_runs(["a", "b", "c"], "groups", 1, groups)


def test_unknown_plan_names_the_allowed_plans():
    with pytest.raises(ConfigError, match="'plan' option must be one of .*pairs.*Got 'triples'"):
        plan_runs(["a", "b"], "triples", 1)


# the transfer matrix on known numbers --------------------------------------------------------------
ALONE = {"a": [0.60, 0.62, 0.61], "b": [0.70, 0.60, 0.80], "c": [0.50, 0.52, 0.54]}
PAIRS = {("a", "b"): {"a": [0.70, 0.71, 0.72], "b": [0.75, 0.55, 0.82]},   # a gains ~+0.10 every seed
         ("a", "c"): {"a": [0.50, 0.53, 0.51], "c": [0.51, 0.53, 0.55]}}   # a loses ~0.10 every seed


def add_runs(store: Store, study_id: str, runs: list[tuple[str, dict[str, float], int]]) -> None:
    """Finished (setting, test accuracy per task, seed) runs, the way a worker leaves them: planned, claimed, done."""
    assert store.add_runs_once(study_id, [(setting, list(scores), seed) for setting, scores, seed in runs], {})
    for run, (_, scores, seed) in zip(store.runs(study_id), runs):
        assert store.claim_run(run["id"], "1:1") and store.finish_run(run["id"], RunResult(
            tasks=list(scores), seed=seed, config={}, test_scores={t: {"accuracy": v} for t, v in scores.items()},
            val_scores={}, curves=[], best_epoch=1, epochs_run=1, train_seconds=0.0, examples_per_second=0.0,
            device="cpu"))


@pytest.fixture
def known_study() -> tuple[Store, str]:
    store = Store()
    study_id = store.create_study("known numbers", {"plan": "pairs"})
    store.update_study(study_id, status="done", tasks_json={t: {"name": t, "labels": ["x", "y"]} for t in ALONE})
    runs = []
    for seed in range(3):
        runs += [("single", {task: values[seed]}, seed) for task, values in ALONE.items()]
        runs += [("pair", {t: values[t][seed] for t in pair}, seed) for pair, values in PAIRS.items()]
        runs.append(("group", {t: 0.9 for t in ALONE}, seed))
    add_runs(store, study_id, runs)
    return store, study_id


def test_transfer_matrix_on_known_numbers(known_study):
    store, study_id = known_study
    results = StudyResults.load(store, study_id)
    rows = transfer_matrix(results)
    assert all(list(r) == TRANSFER_COLUMNS for r in rows)
    cell = {(r["task"], r["partner"]): r for r in rows}
    assert list(cell) == [("a", "b"), ("a", "c"), ("b", "a"), ("c", "a")]  # only pairs that were trained
    helps, hurts, unclear = cell[("a", "b")], cell[("a", "c")], cell[("b", "a")]
    assert helps["delta_mean"] == pytest.approx(0.10) and helps["significant"] and helps["ci_low"] > 0
    assert hurts["delta_mean"] == pytest.approx((-0.10 - 0.09 - 0.10) / 3)
    assert hurts["significant"] and hurts["ci_high"] < 0
    assert unclear["delta_mean"] == pytest.approx((0.05 - 0.05 + 0.02) / 3)
    assert not unclear["significant"] and unclear["ci_low"] < 0 < unclear["ci_high"]
    # the summary shows pair runs per task as with:<partner>, groups as group:<a+b+c>
    summary = {(r["task"], r["setting"]): r for r in summary_rows(results)}
    assert summary[("a", "with:b")]["mean"] == pytest.approx(0.71)
    assert summary[("b", "with:a")]["n_seeds"] == 3
    assert summary[("c", "group:a+b+c")]["mean"] == pytest.approx(0.9)
    assert ("b", "with:c") not in summary


def test_no_pairs_no_transfer_rows(known_study):
    store, _ = known_study
    study_id = store.create_study("singles only", {})
    store.update_study(study_id, status="done", tasks_json={"a": {"name": "a"}, "b": {"name": "b"}})
    add_runs(store, study_id, [(setting, scores, seed) for seed in range(2)
                               for setting, scores in (("single", {"a": 0.5}), ("all", {"a": 0.6, "b": 0.6}))])
    assert transfer_matrix(StudyResults.load(store, study_id)) == []


# a tiny real pairs study through the CLI -----------------------------------------------------------
def test_cli_pairs_study_writes_summary_and_transfer_csv(tmp_path):
    done = cli("study", "--preset", "synthetic-demo", "--plan", "pairs", "--seeds", "2", *TINY, "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "transfer.csv" in done.stdout
    summary = read_csv(tmp_path / "summary.csv")
    settings = {(r["task"], r["setting"]) for r in summary if r["metric"] == "accuracy"}
    tasks = ["base", "related", "conflicting"]
    assert {(t, f"with:{p}") for t in tasks for p in tasks if p != t} <= settings
    assert {(t, s) for t in tasks for s in ("single", "all")} <= settings
    transfer = read_csv(tmp_path / "transfer.csv")
    assert list(transfer[0]) == TRANSFER_COLUMNS
    assert {(r["task"], r["partner"]) for r in transfer} == {(t, p) for t in tasks for p in tasks if p != t}
    mean = {(r["task"], r["setting"]): float(r["mean"]) for r in summary if r["metric"] == "accuracy"}
    for r in transfer:  # delta = mean with the partner minus mean alone (both over the same 2 seeds)
        assert float(r["delta_mean"]) == pytest.approx(mean[(r["task"], f"with:{r['partner']}")]
                                                       - mean[(r["task"], "single")], abs=1e-9)
        assert float(r["ci_low"]) <= float(r["delta_mean"]) <= float(r["ci_high"])
        assert r["significant"] in ("True", "False")
    # the stored study gives the same matrix; `export` writes it again
    store = Store()
    (study,) = store.studies()
    assert len(transfer_matrix(StudyResults.load(store, study["id"]))) == 6
    assert main(["export", study["id"], "--out", str(tmp_path / "again")]) == 0
    assert read_csv(tmp_path / "again" / "transfer.csv") == transfer


def test_cli_groups_study_and_its_errors(tmp_path, capsys):
    # in process (same code path as `python -m mtl_core`, without a second interpreter start)
    assert main(["study", "--preset", "synthetic-demo", "--plan", "groups", "--groups", "base+related, conflicting",
                 "--seeds", "1", *TINY, "--out", str(tmp_path)]) == 0
    settings = {(r["task"], r["setting"]) for r in read_csv(tmp_path / "summary.csv")}
    assert {("base", "group:base+related"), ("related", "group:base+related"), ("conflicting", "single")} <= settings
    assert not any(s.startswith(("with:", "group:")) for t, s in settings if t == "conflicting")
    assert not (tmp_path / "transfer.csv").exists()  # no pairs, no transfer matrix
    capsys.readouterr()
    assert main(["study", "--preset", "synthetic-demo", "--groups", "base+related", *TINY, "--out", str(tmp_path)]) == 2
    assert "error: --groups needs --plan groups" in capsys.readouterr().err
    assert main(["study", "--preset", "synthetic-demo", "--plan", "groups", "--groups", "base+nope", *TINY,
                 "--seeds", "1", "--out", str(tmp_path)]) == 2
    assert "unknown task(s) ['nope']" in capsys.readouterr().err

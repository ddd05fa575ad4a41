"""Verifying a predicted grouping (issue 17, item 3): the verification study's spec, its refusals, the predicted vs
measured table with paired deltas, and the CLI end to end on a tiny real subsets study."""
from __future__ import annotations

import csv

import pytest

from mtl_core.errors import ConfigError
from mtl_core.report.reproduce import cli_command
from mtl_core.results.stats import mean_ci
from mtl_core.results.study_results import StudyResults, setting_label
from mtl_core.results.subset_estimates import subset_analysis
from mtl_core.results.verification import ALL, ALONE, GROUPING, verification_rows, verification_summary
from mtl_core.studies.spec import plan_runs
from mtl_core.studies.verify import verification_spec

TASKS = ["a", "b", "c"]
SPLIT = {"test_size": 0.3, "val_size": 0.1, "seed": 4}
SOURCE = {"synthetic": {"seed": 0, "tasks": [{"name": t} for t in TASKS]}}


def stored(plan: str, runs: list[tuple[str, list[str], int]], score, status: str = "done", **spec) -> StudyResults:
    """A StudyResults as the store would give it, from planned runs and ``score(task, run_tasks, seed)``: every
    task a classification task scored on accuracy."""
    rows, scores = [], []
    for run_id, (setting, tasks, seed) in enumerate(runs, 1):
        rows.append({"id": run_id, "setting": setting, "tasks": tasks, "seed": seed, "status": "done"})
        scores += [{"run_id": run_id, "seed": seed, "task": t, "metric": "accuracy", "value": score(t, tasks, seed),
                    "setting": setting_label(setting, tasks, t)} for t in tasks]
    study = {"id": f"{plan}-1", "name": f"hand-made {plan}", "status": status,
             "tasks": {t: {"name": t, "labels": ["0", "1"]} for t in TASKS},
             "spec": {"name": f"hand-made {plan}", "source": SOURCE, "tasks": TASKS, "seeds": 3, "plan": plan,
                      "config": {"epochs": 2, "hidden": 8}, "split": SPLIT, "budget": 3, **spec}}
    return StudyResults(study=study, runs=rows, scores=scores, aux_scores=[], baselines=[])


NOISE = {0: 0.004, 1: -0.003, 2: 0.001}


def synergy(task: str, run_tasks: list[str], seed: int) -> float:
    """a and b help each other (+0.05), c hurts whoever it trains with and is hurt by any partner."""
    partners = set(run_tasks) - {task}
    base = {"a": 0.80, "b": 0.70, "c": 0.60}[task] + NOISE[seed]
    if task == "c":
        return base - 0.03 * len(partners)
    return base + 0.05 * (({"a", "b"} - {task}) <= partners) - 0.04 * ("c" in partners)


def subsets_parent(score=synergy, **kwargs) -> StudyResults:
    return stored("subsets", plan_runs(TASKS, "subsets", 3, budget=3), score, **kwargs)


def test_the_verification_spec_trains_the_predicted_grouping_beside_alone_and_all_together():
    parent = subsets_parent()
    spec = verification_spec(parent, max_groups=2)
    assert spec.plan == "groups" and spec.with_all and spec.budget is None
    assert spec.groups == [["a", "b"], ["c"]]
    assert spec.name == "hand-made subsets · verify k=2"
    assert (spec.source, spec.tasks, spec.split, spec.seeds, spec.config) == \
        (SOURCE, TASKS, SPLIT, 3, {"epochs": 2, "hidden": 8})
    v = spec.verifies
    assert (v["study"], v["max_groups"], v["groups"]) == ("subsets-1", 2, [["a", "b"], ["c"]])
    mean_noise = sum(NOISE.values()) / 3
    assert v["predicted"] == pytest.approx({"a": 0.85 + mean_noise, "b": 0.75 + mean_noise, "c": 0.60 + mean_noise},
                                           abs=1e-3)
    assert v["predicted_gain"] == pytest.approx({"a": 0.05, "b": 0.05, "c": 0.0}, abs=1e-3)
    # the same grouping the Relatedness page recommends (subset_analysis, k = 2)
    page = {r["task"]: r["tasks"] for r in subset_analysis(parent, 2).grouping if r["k"] == 2}
    assert page == {"a": "a+b", "b": "a+b", "c": "c"}
    # c alone is its single run; a+b a group; every task together once
    runs = spec.planned_runs(TASKS)
    assert [(s, g) for s, g, seed in runs if seed == 3] == [("single", ["a"]), ("single", ["b"]), ("single", ["c"]),
                                                           ("group", ["a", "b"]), ("all", TASKS)]
    # on seeds after the parent's 0-2: training is deterministic per seed, so the parent's seeds would repeat the
    # very runs the surrogate was fitted on
    assert len(runs) == 15 and {seed for _, _, seed in runs} == {3, 4, 5}
    assert {r["seed"] for r in parent.runs} == {0, 1, 2}
    assert verification_spec(parent, max_groups=2, seeds=5).seeds == 5
    one = verification_spec(parent, max_groups=1)  # one group of every task: that is the all-tasks run
    assert one.groups == [TASKS] and one.name.endswith("verify k=1")
    assert [s for s, _, seed in one.planned_runs(TASKS) if seed == 3] == ["single"] * 3 + ["all"]


def test_a_groups_plan_trains_all_together_only_when_asked():
    assert [s for s, _, _ in plan_runs(TASKS, "groups", 1, [["a", "b"]])] == ["single"] * 3 + ["group"]
    assert [s for s, _, _ in plan_runs(TASKS, "groups", 1, [["a", "b"]], with_all=True)][-1] == "all"


def test_refusals_say_what_to_do():
    pairs = stored("pairs", plan_runs(TASKS, "pairs", 3), synergy)
    with pytest.raises(ConfigError, match="only a 'subsets' study predicts a grouping"):
        verification_spec(pairs)
    with pytest.raises(ConfigError, match="is running, not done"):
        verification_spec(subsets_parent(status="running"))

    def every_partner_hurts(task, run_tasks, seed):
        return 0.7 + NOISE[seed] - 0.05 * (len(run_tasks) - 1)

    with pytest.raises(ConfigError, match="every task alone\\), so there is nothing to verify"):
        verification_spec(subsets_parent(every_partner_hurts))
    with pytest.raises(ConfigError, match="whole number >= 1"):
        verification_spec(subsets_parent(), seeds=0)


# --- a verification study with known numbers ---------------------------------------------------------------
MEASURED = {  # (task, setting) -> per-seed scores
    ("a", "single"): [0.80, 0.82, 0.81], ("a", "group"): [0.85, 0.86, 0.87], ("a", "all"): [0.83, 0.82, 0.84],
    ("b", "single"): [0.70, 0.70, 0.71], ("b", "group"): [0.72, 0.73, 0.72], ("b", "all"): [0.70, 0.74, 0.69],
    ("c", "single"): [0.60, 0.62, 0.61], ("c", "all"): [0.55, 0.56, 0.56]}
PREDICTED = {"a": 0.86, "b": 0.80, "c": 0.61}  # a inside its measured interval, b above it
GAIN = {"a": 0.05, "b": 0.09, "c": 0.0}


def verification_study(seeds: int = 3) -> StudyResults:
    def score(task, run_tasks, seed):
        setting = "single" if len(run_tasks) == 1 else "all" if len(run_tasks) == 3 else "group"
        return MEASURED[(task, setting)][seed]

    verifies = {"study": "subsets-1", "max_groups": 2, "groups": [["a", "b"], ["c"]], "predicted": PREDICTED,
                "predicted_gain": GAIN, "metrics": dict.fromkeys(TASKS, "accuracy")}
    runs = plan_runs(TASKS, "groups", seeds, [["a", "b"], ["c"]], with_all=True)
    return stored("groups", runs, score, groups=[["a", "b"], ["c"]], with_all=True, verifies=verifies)


def paired(x: list[float], y: list[float]):
    return mean_ci([p - q for p, q in zip(x, y)])


def test_verification_rows_compare_prediction_and_measurement_paired_by_seed():
    rows = {r["task"]: r for r in verification_rows(verification_study())}
    assert list(rows) == TASKS
    a, b, c = rows["a"], rows["b"], rows["c"]
    assert (a["group"], a["setting"], c["group"], c["setting"]) == ("a+b", "group:a+b", "c", "single")
    assert a["measured"] == pytest.approx(0.86) and a["predicted"] == 0.86 and a["n_seeds"] == 3
    assert a["prediction_in_ci"] is True and b["prediction_in_ci"] is False
    assert (a["alone"], a["all"]) == (pytest.approx(0.81), pytest.approx(0.83))
    est = paired(MEASURED[("a", "group")], MEASURED[("a", "single")])
    assert (a["vs_alone"], a["vs_alone_low"], a["vs_alone_high"]) == pytest.approx((est.mean, est.ci_low, est.ci_high))
    assert a["vs_alone_verdict"] == "helps"
    est = paired(MEASURED[("b", "group")], MEASURED[("b", "all")])
    assert (b["vs_all"], b["vs_all_low"], b["vs_all_high"]) == pytest.approx((est.mean, est.ci_low, est.ci_high))
    assert b["vs_all_verdict"] == "no clear difference"
    # c trained alone: no group - alone; its group - all is alone - all
    est = paired(MEASURED[("c", "single")], MEASURED[("c", "all")])
    assert c["vs_alone"] is None and c["vs_all"] == pytest.approx(est.mean)
    assert (c["vs_all_low"], c["vs_all_high"]) == pytest.approx((est.ci_low, est.ci_high))
    assert c["vs_all_verdict"] == "helps"
    # shown on another metric than the one predicted: no prediction to compare
    assert verification_rows(verification_study(), {t: "macro_f1" for t in TASKS})[0]["predicted"] is None


def test_the_summary_pairs_the_groupings_mean_per_task_score_with_all_together_and_each_alone():
    rows = {r["arrangement"]: r for r in verification_summary(verification_study())}
    assert list(rows) == [GROUPING, ALL, ALONE]
    per_seed = {GROUPING: [(a + b + c) / 3 for a, b, c in zip(MEASURED[("a", "group")], MEASURED[("b", "group")],
                                                             MEASURED[("c", "single")])],
                ALL: [sum(v) / 3 for v in zip(*(MEASURED[(t, "all")] for t in TASKS))],
                ALONE: [sum(v) / 3 for v in zip(*(MEASURED[(t, "single")] for t in TASKS))]}
    for arrangement, values in per_seed.items():
        assert rows[arrangement]["mean"] == pytest.approx(sum(values) / 3)
        assert rows[arrangement]["n_seeds"] == 3
    assert rows[GROUPING]["grouping_minus"] is None
    est = paired(per_seed[GROUPING], per_seed[ALL])
    assert (rows[ALL]["grouping_minus"], rows[ALL]["delta_low"], rows[ALL]["delta_high"]) == \
        pytest.approx((est.mean, est.ci_low, est.ci_high))
    assert rows[ALL]["verdict"] == "helps"
    assert rows[GROUPING]["predicted"] == pytest.approx(sum(PREDICTED.values()) / 3)
    assert rows[ALONE]["predicted"] == pytest.approx(sum(PREDICTED[t] - GAIN[t] for t in TASKS) / 3)


def test_one_seed_gives_no_interval_and_other_studies_no_rows():
    rows = verification_rows(verification_study(seeds=1))
    assert rows[0]["ci_low"] is None and rows[0]["prediction_in_ci"] is None
    assert rows[0]["vs_alone_verdict"] == "run ≥ 2 seeds"
    assert verification_rows(subsets_parent()) == [] and verification_summary(subsets_parent()) == []


def test_the_reproduce_command_names_the_budget_and_the_verified_study():
    parent = {"source": {"preset": "synthetic-demo"}, "plan": "subsets", "budget": 6, "seeds": 2, "name": "s"}
    assert "--plan subsets --seeds 2 --budget 6" in cli_command(parent)
    spec = verification_spec(subsets_parent(), max_groups=2).to_dict()
    command = cli_command(spec)
    assert command.startswith("python -m mtl_core study --verify subsets-1 --max-groups 2 --seeds 3 --name")


# --- end to end: a tiny real subsets study, verified from the command line ----------------------------------
def read_csv(path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_the_cli_verifies_a_real_subsets_study_and_export_writes_the_table_again(tmp_path, capsys):
    from mtl_core.cli import main
    from mtl_core.store import Store
    from mtl_core.studies.execute import run_study
    from mtl_core.studies.spec import StudySpec

    tasks = [{"name": "base", "n_examples": 100}, {"name": "related", "shared_cues": 12, "n_examples": 100},
             {"name": "other", "private_cues": 12, "n_examples": 100}]
    spec = StudySpec(name="tiny subsets", source={"synthetic": {"base_cues": 12, "filler_words": 60, "seed": 0,
                                                                "min_length": 6, "max_length": 10, "tasks": tasks}},
                     seeds=1, plan="subsets", budget=3, split={"test_size": 0.25, "val_size": 0.15, "seed": 0},
                     config={"epochs": 1, "hidden": 4, "backbone": "cnn", "emb_dim": 8, "max_len": 24, "use_vectors": False,
                             "grad_every": 0, "affinity_every": 0})
    store = Store()  # the CLI's store (MTL_LAB_HOME of this test); one seed for the parent, two for the verification
    parent, _ = run_study(spec, store, echo=lambda line: None, save_models=False)
    with pytest.raises(SystemExit):  # --max-groups alone: argparse wants a source
        main(["study", "--max-groups", "1", "--out", str(tmp_path)])
    assert main(["study", "--verify", parent, "--plan", "pairs", "--out", str(tmp_path)]) == 2
    assert "--plan cannot be given" in capsys.readouterr().err
    out = tmp_path / "verify"
    assert main(["study", "--verify", parent, "--max-groups", "1", "--seeds", "2", "--out", str(out)]) == 0
    rows = read_csv(out / "verification.csv")
    assert [r["task"] for r in rows] == ["base", "related", "other"]
    assert {r["group"] for r in rows} == {"base+related+other"} and {r["setting"] for r in rows} == {"all"}
    assert all(r["predicted"] and r["measured"] and r["n_seeds"] == "2" for r in rows)
    assert [r["arrangement"] for r in read_csv(out / "verification_summary.csv")] == [GROUPING, ALL, ALONE]
    assert (out / "summary.csv").exists()
    verification = next(s["id"] for s in store.study_overview() if s["id"] != parent)
    assert store.study(verification)["spec"]["verifies"]["study"] == parent
    again = tmp_path / "export"
    assert main(["export", verification, "--out", str(again)]) == 0
    assert read_csv(again / "verification.csv") == rows

"""The "subsets" plan in the app: the Tasks page offers it with a budget and its coverage; the Compare page of a
subsets study (hand-made stored runs with known effects) shows the relevance heatmap, the estimates checked on
held-out subsets and the predicted grouping labelled as a prediction, whose button queues its verification."""
from __future__ import annotations

import json

import numpy as np
import pytest
from app_pages import open_page

from mtl_core.store import Store
from mtl_core.studies.spec import StudySpec
from mtl_core.training.trainer import RunResult
from ui.subsets import estimate_reading
from ui.verification import verification_headline

TASKS = ["a", "b", "c", "d"]
ALONE = {"a": 0.60, "b": 0.70, "c": 0.65, "d": 0.55}
EFFECT = {("a", "b"): 0.10, ("a", "c"): -0.10, ("b", "a"): 0.05, ("d", "c"): 0.08}  # (task, partner) -> gain


def score(task: str, subset: list[str], seed: int, rng: np.random.Generator) -> float:
    return ALONE[task] + sum(EFFECT.get((task, p), 0.0) for p in subset) + 0.005 * seed + rng.normal(0, 0.004)


def stored_study(store: Store, spec: StudySpec) -> str:
    """``spec``'s study, finished: every planned run scored by ``score``, stored as a worker would."""
    study_id = store.create_study(spec.name, spec.to_dict(), spec.planned_runs(TASKS), {})
    store.update_study(study_id, status="done", tasks_json={t: {"name": t, "labels": ["x", "y"]} for t in TASKS})
    rng = np.random.default_rng(0)
    for run in store.runs(study_id):
        tasks, seed = run["tasks"], run["seed"]
        assert store.claim_run(run["id"], "1:1") and store.finish_run(run["id"], RunResult(
            tasks=tasks, seed=seed, config={}, test_scores={t: {"accuracy": score(t, tasks, seed, rng)} for t in tasks},
            val_scores={}, curves=[], best_epoch=1, epochs_run=1, train_seconds=6.0, examples_per_second=1.0,
            device="cpu"))
    return study_id


@pytest.fixture(scope="module")
def subsets_home(tmp_path_factory) -> dict:
    """A finished subsets study (4 tasks, budget 8, 3 seeds) whose scores follow EFFECT, and the finished study
    that verifies its predicted grouping into at most 2 groups."""
    from mtl_core.results.study_results import StudyResults
    from mtl_core.studies.verify import verification_spec

    home = tmp_path_factory.mktemp("subsets_home")
    store = Store(home / "mtl_lab.sqlite")
    study_id = stored_study(store, StudySpec.from_preset("synthetic-demo", name="known subsets", tasks=TASKS, seeds=3,
                                                         plan="subsets", budget=8))
    verify = stored_study(store, verification_spec(StudyResults.load(store, study_id), max_groups=2))
    return {"home": home, "store": store, "study": study_id, "verify": verify}


@pytest.fixture
def home(subsets_home, isolated_home, monkeypatch) -> dict:
    monkeypatch.setenv("MTL_LAB_HOME", str(subsets_home["home"]))
    monkeypatch.setenv("MTL_LAB_AUTOSTART_WORKER", "0")
    return subsets_home


def texts(at) -> str:
    return " ".join(m.value for m in at.markdown) + " " + " ".join(c.value for c in at.caption)


def test_tasks_page_offers_subsets_with_a_budget_and_its_coverage(isolated_home):
    at = open_page("pages/2_Tasks.py")
    assert not at.exception
    source = at.selectbox(key="tasks_source")
    source.set_value(next(o for o in source.options if o.startswith("preset: Synthetic demo"))).run()
    plan = at.radio(key="tasks_plan")
    assert any(o.startswith("subsets:") for o in plan.options)  # the synthetic demo has 4 tasks
    plan.set_value("subsets").run()
    assert not at.exception
    (budget,) = [s for s in at.slider if "_budget_" in (s.key or "")]
    assert (budget.min, budget.max, budget.value) == (4, 10, 10)  # 4 tasks: 10 subsets of 2-3 tasks, all by default
    assert "each task appears in at least" in texts(at) and "surrogate" in texts(at)
    runs = next(m for m in at.metric if m.label == "Runs")
    assert runs.value == str((4 + 10 + 1) * 3)  # alone + subsets + all, 3 seeds
    budget.set_value(5).run()
    assert not at.exception
    assert next(m for m in at.metric if m.label == "Runs").value == str((4 + 5 + 1) * 3)
    assert "5 subsets of 2 tasks: each task appears in at least 2" in texts(at)

    at.multiselect(key=[w.key for w in at.multiselect if w.key.endswith("_tasks")][0]).set_value(["base", "related"])
    at.run()
    assert not at.exception and not any(o.startswith("subsets:") for o in at.radio(key="tasks_plan").options)


def test_compare_page_of_a_subsets_study_shows_relevance_checks_and_a_prediction(home):
    at = open_page("pages/4_Compare.py", study=home["study"])
    assert not at.exception
    assert any(h.value.startswith("Which tasks help which — from random subsets") for h in at.subheader)
    figures = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    (heat,) = [f for f in figures if f["data"] and f["data"][0]["type"] == "heatmap"
               and f["data"][0]["colorbar"]["title"]["text"] == "weight"]
    cells = {(t, p): (z, text) for t, zs, texts_ in zip(heat["data"][0]["y"], heat["data"][0]["z"],
                                                        heat["data"][0]["text"])
             for p, z, text in zip(heat["data"][0]["x"], zs, texts_)}
    assert cells[("a", "b")][0] == pytest.approx(0.10, abs=0.02) and "<b>" in cells[("a", "b")][1]  # CI excludes 0
    assert cells[("a", "c")][0] == pytest.approx(-0.10, abs=0.02) and "<b>" in cells[("a", "c")][1]
    assert heat["data"][0]["zmid"] == 0
    checks = next(d.value for d in at.dataframe if "held-out Spearman [95% CI]" in d.value.columns)
    assert list(checks["estimate"]) == ["surrogate (linear model over partners)"]
    assert checks["noise ceiling [95% CI]"][0] != "—"  # 3 seeds: a ceiling
    assert any((f["layout"].get("title") or {}).get("text", "").startswith("Surrogate on held-out subsets")
               for f in figures)
    text = texts(at)
    assert "held-out Spearman" in text  # the reading, computed from the numbers
    buttons = {b.label: b for b in at.get("download_button")}
    assert {"relevance.csv", "estimates.csv"} <= set(buttons) and not buttons["relevance.csv"].proto.disabled

    # at most 2 groups: the fixture's verification measured this grouping, so the page says what it measured
    assert f"**Predicted (verification: study {home['verify']}, done)**" in text and "Group 2:" in text
    measured = next(m.value for m in at.markdown if m.value.startswith("**Measured:**"))
    assert "training all tasks together" in measured and "95% CI" in measured
    assert not [b for b in at.button if b.key == "compare_subset_verify"]  # nothing to queue twice
    at.select_slider(key="compare_subset_k").set_value(1).run()  # another grouping: a prediction, not verified
    assert not at.exception
    text = texts(at)
    assert "**Predicted (not yet verified)**" in text and "Group 2:" not in text and "a + b + c + d" in text
    assert "**Measured:**" not in text and at.button(key="compare_subset_verify")


def test_a_verification_is_found_for_the_grouping_it_measured_only(home):
    from mtl_core.results.verification import verifications_of

    (found,) = verifications_of(home["store"], home["study"])
    assert found["id"] == home["verify"] and found["status"] == "done" and found["max_groups"] == 2
    assert found["new_seeds"]  # seeds 3-5, after the parent's 0-2
    assert verifications_of(home["store"], home["study"], [list(reversed(g)) for g in reversed(found["groups"])])
    assert verifications_of(home["store"], home["study"], [TASKS]) == []  # all in one: never verified
    assert verifications_of(home["store"], home["verify"]) == []  # a study nothing verifies


def test_verify_button_queues_a_groups_study(home):
    store = home["store"]
    before = {s["id"] for s in store.studies()}
    at = open_page("pages/4_Compare.py", study=home["study"])
    at.select_slider(key="compare_subset_k").set_value(1).run()  # 2 groups were verified by the fixture
    at.button(key="compare_subset_verify").click().run()
    assert not at.exception
    (new,) = [s for s in store.studies() if s["id"] not in before]
    assert new["spec"]["plan"] == "groups" and new["spec"]["verifies"]["study"] == home["study"]
    assert new["spec"]["verifies"]["max_groups"] == 1
    assert any("Queued verification study" in s.value for s in at.success)
    assert at.query_params["study"] == home["study"]  # the page stays on the study that predicted it
    at.run()
    assert f"**Predicted (verification: study {new['id']}, queued)**" in texts(at)
    assert "**Measured:**" not in texts(at) and not [b for b in at.button if b.key == "compare_subset_verify"]
    store.update_study(new["id"], status="cancelled")  # a cancelled verification can be queued again
    at.run()
    assert "**Predicted (not yet verified)**" in texts(at) and at.button(key="compare_subset_verify")
    # one made before verifications took new seeds (the parent's own seeds 0-2) is no check either: queue again
    old = store.create_study("old verify", {k: v for k, v in new["spec"].items() if k != "first_seed"})
    store.update_study(old, status="done")
    at.run()
    assert "**Predicted (not yet verified)**" in texts(at) and at.button(key="compare_subset_verify")


def test_compare_page_of_a_verification_study_measures_the_prediction(home):
    at = open_page("pages/4_Compare.py", study=home["verify"])
    assert not at.exception
    assert any(h.value == "Verifying the predicted grouping" for h in at.subheader)
    assert any("with seeds 3-5 (new ones" in c.value for c in at.caption)  # the parent had seeds 0-2
    headline = next(m.value for m in at.markdown if m.value.startswith("The predicted grouping is"))
    assert "training all tasks together" in headline and "95% CI" in headline and "Per task:" in headline
    table = next(d.value for d in at.dataframe if "prediction in CI" in d.value.columns)
    assert list(table["task"]) == TASKS and table["measured"].notna().all()
    figures = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    assert any({t.get("name") for t in f["data"]} >= {"alone", "all together", "measured in the grouping"}
               for f in figures)


def test_readings_follow_the_numbers():
    row = {"estimate": "surrogate", "spearman": 0.8, "ci_low": 0.6, "ci_high": 0.9, "ceiling": 0.82,
           "ceiling_low": 0.7, "ceiling_high": 0.9, "note": ""}
    assert "about as well as repeating the measurement" in estimate_reading(row)
    assert "repeats only loosely" not in estimate_reading(row)
    loose = {**row, "spearman": 0.46, "ci_low": 0.14, "ci_high": 0.78, "ceiling": 0.32, "ceiling_low": -0.26,
             "ceiling_high": 0.9}  # a ceiling whose interval includes 0: the match with it says little
    assert "about as well" in estimate_reading(loose) and "repeats only loosely" in estimate_reading(loose)
    worse = {**row, "spearman": 0.3, "ci_low": 0.1, "ci_high": 0.45}
    assert "clearly worse than repeating" in estimate_reading(worse) and "better than chance" in estimate_reading(worse)
    assert "mostly noise" in estimate_reading({**row, "ceiling": 0.05, "ceiling_low": -0.3, "ceiling_high": 0.4})
    assert "no noise ceiling" in estimate_reading({**row, "ceiling": None, "ceiling_low": None, "ceiling_high": None})
    rows = [{"task": "a", "vs_all": 0.05, "vs_all_low": 0.01, "vs_all_high": 0.09, "vs_all_verdict": "helps",
             "prediction_in_ci": True},
            {"task": "b", "vs_all": 0.01, "vs_all_low": -0.02, "vs_all_high": 0.04,
             "vs_all_verdict": "no clear difference", "prediction_in_ci": False}]
    whole = {"arrangement": "all together", "grouping_minus": 0.03, "delta_low": 0.01, "delta_high": 0.05,
             "verdict": "helps"}
    better = verification_headline(rows, [whole])
    assert "**better** than" in better and "1 higher, 0 lower, 1 no clear difference" in better
    assert "inside the measured 95% CI for 1 of 2" in better
    unclear = {**whole, "delta_low": -0.01, "verdict": "no clear difference"}
    assert "**not clearly different**" in verification_headline(rows, [unclear])
    worse = {**whole, "grouping_minus": -0.03, "delta_low": -0.05, "delta_high": -0.01, "verdict": "hurts"}
    assert "**worse** than" in verification_headline(rows, [worse])
    one_seed = {**whole, "delta_low": None, "delta_high": None, "verdict": "run ≥ 2 seeds"}
    assert "no interval" in verification_headline(rows, [one_seed])
    everything = [{**r, "group": "a+b"} for r in rows]  # one group of every task (as verification_rows names it)
    alone = {**whole, "arrangement": "each alone", "grouping_minus": 0.04, "delta_low": 0.02, "delta_high": 0.06}
    said = verification_headline(everything, [whole, alone])
    assert "same arrangement as all together" in said and "**better** than training each task alone: +0.040" in said
    assert "Per task" not in said


def test_a_verification_on_its_parents_seeds_says_it_is_not_independent():
    from ui.verification import seeds_note

    class Old:  # a verification queued before verifications took new seeds: no first_seed in its spec
        spec = {"plan": "groups", "verifies": {"study": "p"}}

    assert "not an independent check" in seeds_note(Old())
    Old.spec = {**Old.spec, "first_seed": 3}
    assert seeds_note(Old()).startswith("new ones")

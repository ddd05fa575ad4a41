"""Results that tell the truth at a glance: no interval from one seed, a warning at chance, a metric picker, per-class
scores, charts that scale to many tasks and carry a text alternative (issue 16)."""
from __future__ import annotations

import csv
import json

import pytest
from app_pages import open_page
from display_studies import chance_study

from mtl_core.charts.interference import gradient_heatmap
from mtl_core.charts.playground import cosine_chart
from mtl_core.charts.relations import affinity_heatmap, settings_chart
from mtl_core.charts.scores import comparison_chart, curves_chart
from mtl_core.charts.style import NEUTRAL, SERIES, text_alternative
from mtl_core.cli.outputs import study_report, write_summary
from mtl_core.results.gains import lead_rows
from mtl_core.results.health import task_warnings
from mtl_core.results.interference import pair_matrix
from mtl_core.results.per_class import confusion_matrix, macro_f1, per_class_rows, read_confusions
from mtl_core.results.stats import Estimate, mean_ci
from mtl_core.results.study_results import StudyResults
from mtl_core.results.summary import format_table, summary_rows
from mtl_core.results.verdict import HELPS, HURTS, NO_INTERVAL, ONE_SEED, UNCLEAR, interval_text, verdict
from mtl_core.store import Store


@pytest.fixture(scope="module")
def chance(tmp_path_factory) -> dict:
    """A real 1-seed study whose models learned nothing (1 epoch at lr 1e-5), in its own MTL Lab home."""
    home = tmp_path_factory.mktemp("chance_home")
    store = Store(home / "mtl_lab.sqlite")
    study_id = chance_study(store)
    return {"home": home, "store": store, "id": study_id, "results": StudyResults.load(store, study_id)}


def test_the_verdict_rule_needs_two_seeds_and_an_interval_that_excludes_zero():
    assert mean_ci([0.8]) == Estimate(0.8, None, None, 1)  # one value: no interval, never [0.8, 0.8]
    assert verdict(mean_ci([0.05])) == ONE_SEED
    assert verdict(mean_ci([0.05, 0.06, 0.07])) == HELPS and verdict(mean_ci([-0.05, -0.06, -0.07])) == HURTS
    assert verdict(mean_ci([0.05, -0.06, 0.02])) == UNCLEAR
    assert interval_text(None, None, 1) == NO_INTERVAL and interval_text(0.1, 0.2, 3) == "[0.100, 0.200]"


def test_a_one_seed_study_writes_empty_intervals_and_asks_for_two_seeds(chance, tmp_path):
    rows = write_summary(chance["results"], tmp_path)
    with open(tmp_path / "gains.csv", newline="", encoding="utf-8") as fh:
        gains = list(csv.DictReader(fh))
    assert {g["metric"] for g in gains} == {"accuracy", "macro_f1"}  # every metric, pick by the column
    assert gains and all(g["ci_low"] == "" and g["ci_high"] == "" and g["verdict"] == ONE_SEED for g in gains)
    with open(tmp_path / "summary.csv", newline="", encoding="utf-8") as fh:
        assert all(r["ci_low"] == "" == r["ci_high"] for r in csv.DictReader(fh))
    table = format_table(rows)
    assert NO_INTERVAL in table and "[" not in table  # no interval drawn anywhere


def test_a_study_at_chance_warns_beside_the_task_with_the_likely_reason(chance):
    results = chance["results"]
    warnings = {w["task"]: w for w in task_warnings(results, summary_rows(results))}
    assert set(warnings) == {"base", "related"}
    base = warnings["base"]
    assert "majority-class baseline" in base["problem"] or "TF-IDF + LR" in base["problem"]
    assert "too few rows" in base["reason"] and "too few epochs" in base["reason"]
    report = study_report(results, summary_rows(results))
    assert "WARNING base (accuracy):" in report and "Likely reason" in report


def test_compare_shows_the_warning_no_whiskers_and_a_metric_picker_that_changes_the_table(chance, monkeypatch):
    monkeypatch.setenv("MTL_LAB_HOME", str(chance["home"]))
    at = open_page("pages/4_Compare.py", study=chance["id"])
    assert not at.exception
    (warning,) = at.warning  # one box, a line per task
    assert "- **base** (accuracy):" in warning.value and "- **related** (accuracy):" in warning.value
    assert "*Likely reason:* too few rows" in warning.value
    assert any(NO_INTERVAL in i.value and ONE_SEED in i.value for i in at.info)
    comparison = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert not any(t.get("error_y") for t in comparison["data"] if t["type"] == "bar")  # no whisker, no cap
    gains = gains_table(at)
    assert set(gains["metric"]) == {"accuracy"} and set(gains["95% CI"]) == {NO_INTERVAL}
    at.radio(key="compare_metric").set_value("macro_f1").run()
    assert not at.exception
    picked = gains_table(at)
    assert set(picked["metric"]) == {"macro_f1"} and list(picked["single"]) != list(gains["single"])
    assert "macro_f1" in json.loads(at.get("plotly_chart")[0].proto.spec)["layout"]["yaxis"]["title"]["text"]


def gains_table(at):
    """The gains table (the first table with a verdict; the charts' own tables come before it)."""
    return next(d.value for d in at.dataframe if "verdict" in d.value.columns)


def test_per_class_scores_come_from_the_stored_confusion_counts(chance):
    results, store = chance["results"], chance["store"]
    counts = read_confusions(store, results.id)
    test_n = {(s["run_id"], s["task"]): s["value"] for s in results.scores if s["metric"] == "n"}
    stored_f1 = {(s["run_id"], s["task"]): s["value"] for s in results.scores if s["metric"] == "macro_f1"}
    assert set(counts) == set(test_n)  # every finished run and task kept its counts
    for key, pairs in counts.items():
        labels = results.tasks[key[1]]["labels"]
        classes, matrix = confusion_matrix(pairs, labels)
        assert sum(map(sum, matrix)) == test_n[key]
        assert macro_f1(per_class_rows(pairs, labels)) == pytest.approx(stored_f1[key])


def test_one_seed_bars_have_no_whiskers_and_two_seeds_do():
    one = [{"task": "a", "setting": s, "metric": "accuracy", "mean": m, "ci_low": None, "ci_high": None,
            "n_seeds": 1, "majority_baseline": 0.5} for s, m in (("single", 0.6), ("all", 0.7))]
    fig = comparison_chart(one)
    assert all(bar.error_y.array is None for bar in fig.data if bar.type == "bar")
    assert NO_INTERVAL in fig.layout.yaxis.title.text and "±" not in fig.layout.yaxis.title.text
    two = [{**r, "ci_low": r["mean"] - 0.05, "ci_high": r["mean"] + 0.05, "n_seeds": 2} for r in one]
    assert all(bar.error_y.array is not None for bar in comparison_chart(two).data if bar.type == "bar")
    assert fig.layout.legend.yref == "container"  # below the figure, outside the plot area


def test_every_setting_colour_is_colour_blind_safe_and_every_chart_has_a_text_alternative():
    tasks = ["a", "b", "c", "d", "e"]
    rows = [{"task": t, "setting": s, "metric": "accuracy", "mean": 0.7, "ci_low": 0.6, "ci_high": 0.8, "n_seeds": 3,
             "majority_baseline": 0.5} for t in tasks for s in ["single", "all"] + [f"with:{p}" for p in tasks if p != t]]
    fig = settings_chart(rows)
    colours = {bar.marker.color for bar in fig.data if bar.type == "bar"}
    assert len(colours) == 7 and colours <= set(SERIES)  # alone, all, 5 partners: all different, all Okabe-Ito
    assert {line.line.color for line in fig.data if line.name == "majority-class baseline"} == {NEUTRAL}
    summary, table = text_alternative(fig)
    assert summary.startswith("Test accuracy over 3 seed(s): a alone 0.700, all together 0.700, majority 0.500")
    assert "5 more settings (pairs, groups)" in summary and len(table) == len(rows)


def test_learning_curves_start_at_epoch_one_with_room_above_the_top():
    curves = [{"epoch": 1, "task": "a", "name": "val_accuracy", "value": 1.0}]
    fig = curves_chart(curves, {"a": "accuracy"})
    assert tuple(fig.layout.xaxis.range) == (0.5, 1.5) and fig.layout.yaxis.range[1] > 1.0
    assert "a (accuracy) 1.000" in text_alternative(fig)[0]
    assert "No epoch" in text_alternative(curves_chart([], {"a": "accuracy"}))[0]


def test_the_lookahead_heatmap_writes_cells_and_colour_bar_in_one_format():
    rows = [{"task": "a", "partner": "b", "affinity": 2.3e-4, "n_runs": 1},
            {"task": "b", "partner": "a", "affinity": -1.1e-4, "n_runs": 1}]
    heat = affinity_heatmap(rows, ["a", "b"]).data[0]
    assert heat.text[0][1] == "+2.3e-4" and heat.colorbar.tickformat == "+.1e"  # d3 writes the bar the same way


def test_gradient_interference_scales_to_ten_tasks_as_a_heatmap_with_one_colour_per_pair():
    tasks = [f"t{k}" for k in range(10)]
    rows = [{"epoch": e, "task": f"{a}|{b}", "name": name, "value": value, "seed": seed, "run_id": seed,
             "setting": "all"} for e in (1, 2) for seed in (0, 1) for i, a in enumerate(tasks) for b in tasks[i + 1:]
            for name, value in (("grad_cosine", 0.1 * e - 0.15), ("grad_conflict_rate", 0.6 / e))]
    matrix = pair_matrix(rows, "grad_cosine")
    assert len(matrix) == 2 * 45 and {r["n_runs"] for r in matrix} == {2}
    assert pair_matrix(rows, "grad_cosine", epoch=1)[0]["value"] == pytest.approx(-0.05)
    heat = gradient_heatmap(matrix, tasks, "grad_cosine").data[0]
    assert len(heat.z) == 10 and heat.z[0][0] is None and heat.z[0][1] == pytest.approx(0.0)
    lines = cosine_chart(rows, pairs=["t0|t1", "t0|t2", "t1|t2"])
    means = [t for t in lines.data if t.mode == "lines+markers"]
    assert len(means) == 3 and len({t.line.color for t in means}) == 3  # a pair picker, one colour each
    assert all(seed.line.color == mean.line.color for mean in means for seed in lines.data
               if seed.legendgroup == mean.legendgroup)  # a pair's seed lines share its colour


def test_lead_rows_follow_the_picked_metric(chance):
    results = chance["results"]
    picked = lead_rows(summary_rows(results), results.metrics_for("macro_f1"))
    assert {r["metric"] for r in picked} == {"macro_f1"} and results.metric_choices() == ["lead", "accuracy",
                                                                                          "macro_f1"]


def test_a_run_not_above_the_majority_baseline_is_named_on_predict():
    from mtl_core.results.health import run_at_chance

    baselines = [{"task": "food", "method": "majority", "metric": "accuracy", "value": 0.70, "n": 100},
                 {"task": "food", "method": "tfidf-lr", "metric": "accuracy", "value": 0.75, "n": 100},
                 {"task": "pos", "method": "majority", "metric": "span_f1", "value": 0.0, "n": 100}]
    scores = {"food": {"accuracy": 0.70, "macro_f1": 0.41}, "pos": {"span_f1": 0.62}, "misc": {"accuracy": 0.1}}
    lead = {"food": "accuracy", "pos": "span_f1", "misc": "accuracy"}
    said = run_at_chance(scores, baselines, lead)
    assert said == ["food: accuracy 0.700, not above always guessing the most common label (0.700)"]
    assert run_at_chance({"food": {"accuracy": 0.71}}, baselines, lead) == []   # above it: no warning

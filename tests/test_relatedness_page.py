"""Task relatedness on the Compare page (affinity, gradient conflict, task graph, grouping, cheap estimates vs
measured transfer) over a real tiny pairs study, and the figure builders on hand-made rows."""
from __future__ import annotations

import json
import re

import pytest
from app_pages import open_page
from streamlit.testing.v1 import AppTest
from studies import tiny_study

from mtl_core.store import Store
from mtl_core.charts.relations import (
    INTERFERENCE,
    NEUTRAL,
    SYNERGY,
    affinity_heatmap,
    conflict_over_time,
    estimate_scatter,
    gradient_settings,
    relation_graph,
)
from ui.relatedness import grouping_explanation, trust_sentence

TASKS = ["base", "related", "conflicting"]


@pytest.fixture(scope="module")
def studies(tmp_path_factory) -> dict:
    home = tmp_path_factory.mktemp("relatedness_home")
    store = Store(home / "mtl_lab.sqlite")  # where paths.store_path() looks for MTL_LAB_HOME=home
    return {"home": home, "store": store,
            "pairs": tiny_study(store, plan="pairs", tasks=TASKS, seeds=2, epochs=2, grad_every=5, affinity_every=5),
            "plain": tiny_study(store, plan="singles+all", tasks=["base", "related"], seeds=1, epochs=2),
            "subsets": tiny_study(store, plan="subsets", budget=3, tasks=TASKS, seeds=1, epochs=2,
                                  affinity_every=5)}


@pytest.fixture
def home(studies, isolated_home, monkeypatch) -> dict:
    monkeypatch.setenv("MTL_LAB_HOME", str(studies["home"]))
    return studies


def charts(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def find(at: AppTest, test) -> list[dict]:
    return [f for f in charts(at) if test(f)]


def is_affinity(f: dict) -> bool:
    return f["data"][0]["type"] == "heatmap" and f["data"][0]["colorbar"]["title"]["text"] == "affinity"


def is_conflict(f: dict) -> bool:
    return f["layout"]["yaxis"].get("title", {}).get("text") == "cosine of the two tasks' gradients"


def is_graph(f: dict) -> bool:
    return any(t.get("name") == "tasks" for t in f["data"])


def title_text(f: dict) -> str:
    """A figure's title as read: line breaks and size spans dropped (``charts.relations.chart_title`` wraps it)."""
    return " ".join(re.sub(r"<[^>]+>", " ", (f["layout"].get("title") or {}).get("text") or "").split())


def is_estimate(f: dict) -> bool:
    return "vs measured transfer" in title_text(f)


def texts(at: AppTest) -> str:
    return " ".join(m.value for m in at.markdown) + " " + " ".join(c.value for c in at.caption)


def test_pairs_study_shows_every_relatedness_chart(home):
    at = open_page("pages/4_Compare.py", study=home["pairs"])
    assert not at.exception
    (aff,) = find(at, is_affinity)
    assert aff["data"][0]["x"] == TASKS and aff["data"][0]["z"][0][0] is None and aff["data"][0]["z"][0][1] is not None
    (conflict,) = find(at, is_conflict)
    means = [t for t in conflict["data"] if t.get("mode") == "lines+markers"]
    assert len(means) == 3 and all(0 <= v <= 1 for t in means for v in t["customdata"])  # conflict rates
    (graph,) = find(at, is_graph)
    assert len([t for t in graph["data"] if "→" in (t.get("name") or "")]) == 6  # every ordered pair
    (estimate,) = find(at, is_estimate)
    assert "Spearman" in title_text(estimate) and len(estimate["data"][0]["x"]) == 6
    text = texts(at)
    assert "**Group 1**" in text and "Among every way to split the 3 tasks" in text and "Spearman" in text
    curves, confusion = charts(at)[-2:]  # the run's learning curves, then its confusion matrix, stay last
    assert curves["layout"]["xaxis"]["title"]["text"] == "epoch"
    assert confusion["layout"]["xaxis"]["title"]["text"] == "predicted"

    at.slider(key="compare_group_k").set_value(1).run()
    assert not at.exception
    groups = [m.value for m in at.markdown if m.value.startswith("**Group")]
    assert len(groups) == 1 and all(t in groups[0] for t in TASKS)  # one group: everything together
    at.radio(key="compare_group_source").set_value("affinity").run()
    assert not at.exception and "as lookahead affinity, a one-step proxy" in texts(at)
    at.radio(key="compare_estimate").set_value("lookahead_affinity").run()
    at.radio(key="compare_conflict_setting").set_value("pair").run()
    assert not at.exception
    assert title_text(find(at, is_estimate)[0]).startswith("lookahead affinity vs")
    assert len([t for t in find(at, is_conflict)[0]["data"] if t.get("mode") == "lines+markers"]) == 3


def test_study_without_pairs_or_gradients_has_no_relatedness_sections(home):
    at = open_page("pages/4_Compare.py", study=home["plain"])
    assert not at.exception
    assert not any(test(f) for f in charts(at) for test in (is_affinity, is_conflict, is_graph, is_estimate))
    assert "compare_group_k" not in {s.key for s in at.slider}
    assert len(charts(at)) == 3  # the comparison, the learning curves and the confusion matrix still there


def test_a_subsets_study_groups_by_its_surrogate_not_by_affinity_alone(home):
    at = open_page("pages/4_Compare.py", study=home["subsets"])
    assert not at.exception
    assert find(at, is_affinity)  # affinity was measured and is shown
    assert "compare_group_k" not in {s.key for s in at.slider}  # but its grouping gives way to the surrogate's
    assert any(h.value.startswith("Which tasks help which — from random subsets") for h in at.subheader)


def edge(fig, name: str):
    return next(t for t in fig.data if t.name == name)


def test_graph_edges_follow_sign_size_and_significance_of_transfer():
    rows = [{"task": "a", "partner": "b", "delta_mean": 0.10, "ci_low": 0.02, "ci_high": 0.18, "n_seeds": 3,
             "significant": True, "verdict": "helps"},
            {"task": "b", "partner": "a", "delta_mean": -0.02, "ci_low": -0.09, "ci_high": 0.05, "n_seeds": 3,
             "significant": False, "verdict": "no clear difference"},
            {"task": "c", "partner": "a", "delta_mean": 0.0, "ci_low": None, "ci_high": None, "n_seeds": 1,
             "significant": False, "verdict": "run ≥ 2 seeds"}]
    fig = relation_graph(rows, ["a", "b", "c"])
    helps, hurts, flat = edge(fig, "b → a"), edge(fig, "a → b"), edge(fig, "a → c")
    assert (helps.line.color, hurts.line.color, flat.line.color) == (SYNERGY, INTERFERENCE, NEUTRAL)
    assert (helps.line.dash, hurts.line.dash) == ("solid", "dash")
    assert helps.line.width > hurts.line.width > flat.line.width
    assert helps.marker.symbol[-1] == "arrow" and helps.x[-1] != hurts.x[0]  # the two directions drawn apart
    nodes = edge(fig, "tasks")
    assert list(nodes.text) == ["a", "b", "c"]
    assert all(abs(x * x + y * y - 1) < 1e-9 for x, y in zip(nodes.x, nodes.y))  # on the unit circle
    assert "1 seed: no interval" in flat.hovertext[0] and "run ≥ 2 seeds" in flat.hovertext[0]


def test_affinity_heatmap_places_cells_by_task_and_partner():
    rows = [{"task": "a", "partner": "b", "affinity": 2e-6}, {"task": "b", "partner": "a", "affinity": -1e-6}]
    (heat,) = affinity_heatmap(rows, ["a", "b"]).data
    assert [list(row) for row in heat.z] == [[None, 2e-6], [-1e-6, None]] and heat.zmid == 0 and heat.zmax == 2e-6
    assert heat.text[0][1] == "+2.0e-6" and "raised it (hurts)" in heat.customdata[1][0]  # as d3 writes it


def test_conflict_hover_carries_the_mean_conflict_rate_per_epoch():
    rows = [{"epoch": e, "task": "a|b", "name": n, "value": v, "seed": s, "setting": "all"}
            for s, (c1, c2) in enumerate([(0.5, 0.0), (1.0, 0.5)])
            for e, (n, v) in [(1, ("grad_cosine", -0.2)), (1, ("grad_conflict_rate", c1)),
                              (2, ("grad_cosine", 0.3)), (2, ("grad_conflict_rate", c2))]]
    fig = conflict_over_time(rows)
    (mean,) = [t for t in fig.data if t.mode == "lines+markers"]
    assert list(mean.x) == [1, 2] and list(mean.customdata) == [0.75, 0.25]
    assert "conflicting in" in mean.hovertemplate


def test_estimate_scatter_skips_unmeasured_pairs_and_titles_the_agreement():
    points = [{"task": "a", "partner": "b", "transfer": 0.1, "grad_cosine": 0.4, "lookahead_affinity": None},
              {"task": "b", "partner": "a", "transfer": -0.05, "grad_cosine": 0.4, "lookahead_affinity": 1e-6},
              {"task": "a", "partner": "c", "transfer": 0.02, "grad_cosine": None, "lookahead_affinity": 2e-6}]
    agreement = {"estimate": "grad_cosine", "spearman": 0.5, "ci_low": -0.2, "ci_high": 0.9, "n_pairs": 2}
    fig = estimate_scatter(points, "grad_cosine", agreement)
    assert list(fig.data[0].x) == [0.4, 0.4] and list(fig.data[0].marker.color) == [SYNERGY, INTERFERENCE]
    assert "Spearman +0.50, 95% CI [-0.20, +0.90], 2 pairs" in fig.layout.title.text
    assert "Spearman" not in estimate_scatter(points, "lookahead_affinity").layout.title.text


def test_plain_language_verdicts_follow_the_ci():
    assert "shortlist" in trust_sentence({"spearman": 0.8, "ci_low": 0.3, "ci_high": 0.95, "n_pairs": 12})
    assert "opposite" in trust_sentence({"spearman": -0.8, "ci_low": -0.95, "ci_high": -0.3, "n_pairs": 12})
    assert "can't tell" in trust_sentence({"spearman": 0.2, "ci_low": -0.5, "ci_high": 0.8, "n_pairs": 6})
    assert "Too few" in trust_sentence({"spearman": None, "ci_low": None, "ci_high": None, "n_pairs": 2})
    transfer = [{"significant": True}, {"significant": False}]
    assert "1 of the 2 measured pair effects has" in grouping_explanation("transfer", 2, 3, 0.1, transfer, None)
    assert gradient_settings([{"setting": "pair"}, {"setting": "all"}, {"setting": "pair"}]) == ["all", "pair"]

"""The home page (app.py) through Streamlit's AppTest, over a real tiny study; and the compare helper."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from mtl_core.compare import HELPS, HURTS, UNCLEAR, lead_metrics, lead_rows, paired_deltas
from mtl_core.store import Store
from mtl_core.summary import summary_rows

APP = str(Path(__file__).resolve().parents[1] / "app.py")


@pytest.fixture
def home(tiny_studies, isolated_home, monkeypatch) -> dict:
    """Point this test (and the app it runs) at the module's store, after conftest's per-test home."""
    monkeypatch.setenv("MTL_LAB_HOME", str(tiny_studies["home"]))
    return tiny_studies


def run_app(**query) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update(query)
    return at.run()


def test_home_shows_the_newest_study_as_chart_and_tables(home):
    at = run_app()
    assert not at.exception
    assert at.title[0].value == "MTL Lab"
    assert "tiny demo" in at.subheader[0].value
    assert len(at.get("plotly_chart")) == 2  # the comparison chart and one run's validation curves
    summary = at.dataframe[1].value  # AppTest keeps no dataframe keys: [0] deltas, [1] summary
    assert {"base", "related", "overall"} <= set(summary["task"])
    assert {"single", "all", "tfidf-lr"} <= set(summary["setting"])
    deltas = at.dataframe[0].value
    assert list(deltas["task"]) == ["base", "related"]
    assert set(deltas["verdict"]) <= {HELPS, HURTS, UNCLEAR}
    assert at.query_params["study"] == home["newest"]  # written back, so the URL can be shared


def test_study_from_the_url_is_shown_and_picking_another_updates_it(home):
    at = run_app(study=home["older"])
    assert not at.exception
    assert "older" in at.subheader[0].value
    assert home["older"] in at.caption[0].value
    assert at.selectbox(key="home_study").value["id"] == home["older"]
    at.selectbox(key="home_study").set_value(at.selectbox(key="home_study").options[0]).run()
    assert "tiny demo" in at.subheader[0].value
    assert at.query_params["study"] == home["newest"]


def test_unknown_study_in_the_url_warns_and_falls_back_to_the_newest(home):
    at = run_app(study="no-such-study")
    assert not at.exception
    assert "no\\-such\\-study" in at.warning[0].value  # shown literally, never as Markdown or HTML
    assert "tiny demo" in at.subheader[0].value


def test_empty_store_tells_the_user_how_to_make_a_study():
    at = run_app()  # conftest gives this test a fresh, empty home
    assert not at.exception
    assert "make app" in at.info[0].value and "synthetic-demo" in at.info[0].value
    assert not at.get("plotly_chart")


def test_paired_deltas_on_known_numbers():
    values = {  # task -> setting -> per-seed lead-metric values
        "gains": {"single": [0.70, 0.72, 0.71], "all": [0.80, 0.81, 0.82]},      # diffs .10 .09 .11
        "noisy": {"single": [0.60, 0.65, 0.62], "all": [0.65, 0.61, 0.62]},      # diffs .05 -.04 0
        "loses": {"single": [0.90, 0.91, 0.92], "all": [0.80, 0.80, 0.83]},      # diffs -.10 -.11 -.09
    }
    scores = [dict(run_id=0, setting=setting, seed=seed, task=task, metric="accuracy", value=v)
              for task, by_setting in values.items() for setting, vs in by_setting.items()
              for seed, v in enumerate(vs)]
    scores += [dict(run_id=0, setting="all", seed=0, task="gains", metric="macro_f1", value=0.0),  # not lead
               dict(run_id=0, setting="all", seed=5, task="gains", metric="accuracy", value=0.0)]  # unpaired
    rows = {r["task"]: r for r in paired_deltas(scores, {t: "accuracy" for t in values})}
    assert [rows[t]["verdict"] for t in values] == [HELPS, UNCLEAR, HURTS]
    gains = rows["gains"]
    assert gains["n_seeds"] == 3 and gains["single"] == pytest.approx(0.71) and gains["all"] == pytest.approx(0.81)
    assert gains["delta"] == pytest.approx(0.10)
    half = 4.302653 * 0.01 / 3 ** 0.5  # t(0.975, df=2) * sd / sqrt(n)
    assert (gains["ci_low"], gains["ci_high"]) == pytest.approx((0.10 - half, 0.10 + half), abs=1e-6)
    assert rows["noisy"]["ci_low"] < 0 < rows["noisy"]["ci_high"]


def test_lead_rows_pick_each_tasks_lead_metric(home):
    store = Store()
    tasks = store.study(home["newest"])["tasks"]
    lead = lead_metrics(tasks)
    assert lead == {"base": "accuracy", "related": "accuracy"}
    rows = lead_rows(summary_rows(store, home["newest"]), lead)
    assert [(r["task"], r["setting"]) for r in rows] == [
        ("base", "single"), ("base", "all"), ("base", "tfidf-lr"),
        ("related", "single"), ("related", "all"), ("related", "tfidf-lr")]
    assert all(r["n_seeds"] == 2 for r in rows if r["setting"] != "tfidf-lr")

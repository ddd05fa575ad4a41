"""The Compare page through AppTest over real tiny studies (pairs and singles+all), and PNG export."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from app_pages import open_page
from streamlit.testing.v1 import AppTest
from studies import tiny_study

import mtl_core.results.transfer
from mtl_core.results.gains import HELPS, HURTS, UNCLEAR
from mtl_core.results.study_results import StudyResults
from mtl_core.results.transfer import transfer_matrix
from mtl_core.store import Store
from mtl_core.charts.export import ExportError, figure_png
from mtl_core.charts.relations import transfer_heatmap

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "4_Compare.py")
TASKS = ["base", "related", "conflicting"]


@pytest.fixture(scope="module")
def studies(tmp_path_factory) -> dict:
    home = tmp_path_factory.mktemp("compare_home")
    store = Store(home / "mtl_lab.sqlite")  # where paths.store_path() looks for MTL_LAB_HOME=home
    return {"home": home, "store": store, "pairs": tiny_study(store, plan="pairs", tasks=TASKS, seeds=2),
            "plain": tiny_study(store, plan="singles+all", tasks=["base", "related"], seeds=1)}


@pytest.fixture
def home(studies, isolated_home, monkeypatch) -> dict:
    monkeypatch.setenv("MTL_LAB_HOME", str(studies["home"]))
    return studies


def open_compare(study_id: str) -> AppTest:
    return open_page("pages/4_Compare.py", study=study_id)


def charts(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def trace_types(at: AppTest) -> list[set[str]]:
    return [{t.get("type") for t in fig["data"]} for fig in charts(at)]


def test_pairs_study_shows_comparison_gains_and_transfer_heatmap(home):
    at = open_compare(home["pairs"])
    assert not at.exception
    comparison, heatmap, *relatedness, curves, confusion = charts(at)
    names = {t.get("name") for t in comparison["data"]}
    assert {"single-task (alone)", "multitask (all tasks)", "with related", "with base", "with conflicting",
            "majority-class baseline"} <= names
    bars = [t for t in comparison["data"] if t["type"] == "bar"]
    assert all("error_y" in t for t in bars)  # every bar has its 95% CI
    gains = at.dataframe[0].value
    assert set(gains["setting"]) == {"all", "with:base", "with:related", "with:conflicting"}
    assert len(gains) == 3 * 3 and set(gains["verdict"]) <= {HELPS, HURTS, UNCLEAR}
    (heat,) = heatmap["data"]
    assert heat["type"] == "heatmap" and heat["zmid"] == 0 and heat["x"] == TASKS and heat["y"] == TASKS
    assert heat["z"][0][0] is None and heat["z"][0][1] is not None  # empty diagonal, every pair filled
    unclear = {(r["task"], r["partner"]) for r in transfer_matrix(StudyResults.load(home["store"], home["pairs"]))
               if not r["significant"]}
    cells = {(t, p): heat["text"][TASKS.index(t)][TASKS.index(p)] for t in TASKS for p in TASKS if t != p}
    assert all(text.endswith("?") == (cell in unclear) for cell, text in cells.items())
    assert curves["layout"]["xaxis"]["title"]["text"] == "epoch"
    assert confusion["data"][0]["type"] == "heatmap" and confusion["layout"]["xaxis"]["title"]["text"] == "predicted"
    text = " ".join(m.value for m in at.markdown)
    assert "Synergy" in text and "Interference" in text and "can't tell" in text and "Transfer" in text
    labels = {b.label for b in at.get("download_button")}
    assert {"summary.csv", "gains.csv", "transfer.csv", "Chart as HTML"} <= labels


STUDY_READS = ("study", "runs", "scores", "baselines", "study_curves")  # Store reads keyed by a study id


def test_one_render_reads_the_study_once_and_computes_the_transfer_matrix_once(home, monkeypatch):
    """Before StudyResults a render of this study made 11 study, 14 runs and 7 scores reads, one curves read per
    multitask run per section (87 queries in all), and computed the transfer matrix 4 times."""
    reads: Counter = Counter()  # (read, study or run id) -> calls
    for name in (*STUDY_READS, "curves"):
        def counted(self, key, *args, _read=getattr(Store, name), _name=name, **kwargs):
            reads[(_name, key)] += 1
            return _read(self, key, *args, **kwargs)
        monkeypatch.setattr(Store, name, counted)
    loads, transfers = [], []
    load = StudyResults.load.__func__

    def counted_load(cls, store, study_id, *args, **kwargs):
        loads.append(study_id)
        return load(cls, store, study_id, *args, **kwargs)
    monkeypatch.setattr(StudyResults, "load", classmethod(counted_load))

    def counted_transfer(*args, _matrix=mtl_core.results.transfer.transfer_matrix, **kwargs):
        transfers.append(1)
        return _matrix(*args, **kwargs)
    for module in ("mtl_core.results.transfer", "mtl_core.results.grouping", "mtl_core.results.estimate_quality",
                   "ui.relatedness"):  # wherever a section could compute it again
        monkeypatch.setattr(f"{module}.transfer_matrix", counted_transfer, raising=False)

    at = open_compare(home["pairs"])
    assert not at.exception
    assert loads == [home["pairs"]] and len(transfers) == 1
    study_reads = {name: reads[(name, home["pairs"])] for name in STUDY_READS}
    # test and auxiliary scores, and the per-class counts; every run's curve rows in one read, whatever the number
    # of runs
    assert study_reads == {"study": 1, "runs": 1, "scores": 3, "baselines": 1, "study_curves": 1}
    assert not [key for (name, key) in reads if name == "curves"]  # no read per run


def test_singles_all_study_has_no_heatmap(home):
    at = open_compare(home["plain"])
    assert not at.exception
    # comparison chart + curves + the picked run's confusion matrix; no transfer heatmap
    assert trace_types(at) == [{"bar", "scatter"}, {"scatter"}, {"heatmap"}]
    assert list(at.dataframe[0].value["setting"]) == ["all", "all"]
    assert "transfer.csv" not in {b.label for b in at.get("download_button")}
    assert not any("Transfer" in m.value for m in at.markdown)


def test_learning_curves_follow_the_chosen_run(home):
    at = open_compare(home["pairs"])
    pair_run = next(r for r in home["store"].runs(home["pairs"]) if r["setting"] == "pair")
    at.selectbox(key="compare_run").select(pair_run).run()
    assert not at.exception
    curves, confusion = charts(at)[-2:]  # the run's learning curves, then its first task's confusion matrix
    assert {t["name"] for t in curves["data"]} == {f"{t} (accuracy)" for t in pair_run["tasks"]}
    assert confusion["layout"]["title"]["text"].startswith(pair_run["tasks"][0])


def test_png_export_on_the_page_and_its_fallback(home, monkeypatch):
    at = open_compare(home["pairs"])
    at.button(key="compare_transfer_png").click().run()
    assert not at.exception
    assert "compare_transfer_png_download" in {b.key for b in at.get("download_button")}
    monkeypatch.setenv("BROWSER_PATH", "/nonexistent/chromium")  # a browser kaleido cannot start
    at.button(key="compare_chart_png").click().run()
    assert not at.exception
    assert any("PNG export is not available here" in w.value for w in at.warning)
    assert "compare_chart_html" in {b.key for b in at.get("download_button")}  # HTML export still offered


def test_figure_png_returns_png_bytes_or_a_clear_error(home, monkeypatch):
    fig = transfer_heatmap(transfer_matrix(StudyResults.load(home["store"], home["pairs"])), TASKS)
    png = figure_png(fig)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5000
    monkeypatch.setenv("BROWSER_PATH", "/nonexistent/chromium")
    with pytest.raises(ExportError, match="PNG export failed .* Use the HTML export instead"):
        figure_png(fig)


def test_another_study_of_the_same_tasks_can_be_compared_as_a_method(home):
    at = open_compare(home["plain"])
    before = len(charts(at))
    methods = at.multiselect(key="compare_methods")
    assert [o for o in methods.options if "tiny pairs" in o]  # the pairs study shares 'base' and 'related'
    methods.set_value([o for o in methods.options if "tiny pairs" in o]).run()
    assert not at.exception
    assert len(charts(at)) == before + 1
    assert any("best epoch" in json.dumps(c) and "to reach" in json.dumps(c) for c in charts(at))

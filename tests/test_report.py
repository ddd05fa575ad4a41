"""A whole study to hand on: one self-contained HTML report (drawn offline in a real Chromium), a zip of every CSV,
named after the study; from Python and from the CLI."""
from __future__ import annotations

import copy
import csv
import io
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from mtl_core.report.bundle import study_csv_zip
from mtl_core.report.html import study_report_html
from mtl_core.report.names import export_basename
from mtl_core.report.reproduce import cli_command
from mtl_core.results.study_results import StudyResults
from mtl_core.results.summary import summary_rows
from mtl_core.store import Store
from mtl_core.studies.execute import run_study
from mtl_core.studies.presets import get_preset
from mtl_core.studies.spec import StudySpec

REPO = Path(__file__).resolve().parents[1]
HOSTILE = "pairs <b>bold</b> & 'quotes' </script>"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def pair_study(tmp_path_factory) -> tuple[Store, str]:
    """Two small generated tasks, plan pairs, 1 seed (gradient conflict and affinity measured in the pair run),
    with a name that is also HTML."""
    home = tmp_path_factory.mktemp("report_home")
    store = Store(home / "mtl_lab.sqlite")
    synthetic = copy.deepcopy(get_preset("synthetic-demo")["synthetic"])
    synthetic["tasks"] = [{**t, "n_examples": 160} for t in synthetic["tasks"][:2]]  # base, related
    spec = StudySpec(name=HOSTILE, source={"synthetic": synthetic}, seeds=1, plan="pairs",
                     config={"epochs": 2, "hidden": 8, "emb_dim": 8, "grad_every": 2, "affinity_every": 3})
    return store, run_study(spec, store, echo=lambda line: None, save_models=False)[0]


@pytest.fixture(scope="module")
def page(pair_study) -> str:
    return study_report_html(*pair_study)


def test_export_names_are_safe_file_stems():
    assert export_basename("ABSA / 5 aspects", "20261203-061623-904667") == "ABSA-5-aspects-20261203-061623-904667"
    assert export_basename("../../etc/passwd", "x1") == "etc-passwd-x1"
    assert export_basename("  ", "abc") == "study-abc"
    assert export_basename("Café über", "a/b") == "Cafe-uber-a-b"


def test_the_report_holds_plotly_once_every_chart_every_table_and_escapes_user_text(pair_study, page):
    store, study_id = pair_study
    results = StudyResults.load(store, study_id)
    assert page.count('id="plotly-gz"') == 1 and "<script src" not in page and "cdn.plot.ly" not in page
    assert len(page.encode()) < 2.5 * 2**20  # a per-figure HTML export alone is 4.8 MB
    titles = re.findall(r'<div class="figure"><h3>([^<]*)</h3>', page)
    assert titles[0] == "Single-task vs multitask, per task"
    assert "Transfer between pairs of tasks" in titles and "Which task helps which" in titles
    assert any(t.startswith("Gradient conflict over training") for t in titles)
    assert "Lookahead affinity between tasks" in titles
    assert sum(t.startswith("Run ") for t in titles) == len(results.finished_runs) == 3
    for words in ("Method", "Data and split", "train examples", "Baselines on the same test split", "tfidf-lr",
                  "majority", "Gain over training alone", "verdict", "Run it again", "spec.json"):
        assert words in page, words
    assert HOSTILE not in page and "pairs &lt;b&gt;bold&lt;/b&gt; &amp; &#x27;quotes&#x27; &lt;/script&gt;" in page
    assert "cannot be given on the command line; run its spec instead" in page  # generated data: the spec runs it


def test_the_report_draws_every_chart_in_chromium_offline(page, tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: `make test` installs it (apt-get install chromium).")
    path = tmp_path / "report.html"
    path.write_text(page, encoding="utf-8")
    done = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                           "--virtual-time-budget=30000", "--dump-dom", path.as_uri()],
                          capture_output=True, text=True, timeout=180)
    figures = page.count('<div class="figure">')
    assert 'data-charts="drawn"' in done.stdout, done.stdout[-2000:] + done.stderr[-2000:]
    assert done.stdout.count('class="plot js-plotly-plot"') == figures  # Plotly drew into every chart box


def test_the_csv_zip_holds_every_table_named_after_the_study(pair_study):
    store, study_id = pair_study
    results = StudyResults.load(store, study_id)
    with zipfile.ZipFile(io.BytesIO(study_csv_zip(store, study_id))) as z:
        names = z.namelist()
        folder = export_basename(HOSTILE, study_id) + "-csv/"
        assert {n[len(folder):] for n in names} >= {"summary.csv", "gains.csv", "baselines.csv", "transfer.csv",
                                                     "runs.csv", "curves.csv", "spec.json"}
        assert all(n.startswith(folder) for n in names)
        summary = list(csv.DictReader(io.StringIO(z.read(folder + "summary.csv").decode())))
        runs = list(csv.DictReader(io.StringIO(z.read(folder + "runs.csv").decode())))
    expected = summary_rows(results)
    assert [(r["task"], r["setting"], r["metric"]) for r in summary] == \
        [(r["task"], r["setting"], r["metric"]) for r in expected]
    assert float(summary[0]["mean"]) == pytest.approx(expected[0]["mean"])
    assert len(runs) == 3 and {r["status"] for r in runs} == {"done"}


def test_a_generated_corpus_has_no_cli_command_but_a_spec_command():
    assert cli_command({"source": {"synthetic": {"tasks": []}}, "plan": "all"}) is None
    line = cli_command({"source": {"files": ["a b.csv"], "label_columns": ["x", "y"]}, "plan": "all", "seeds": 2,
                        "config": {"hidden": 32}, "name": "mine"})
    assert line == ("python -m mtl_core study --data 'a b.csv' --label-columns x,y --plan all --seeds 2 "
                    "--set hidden=32 --name mine --out results")


def test_cli_export_report_writes_the_named_html_and_zip(pair_study, tmp_path):
    store, study_id = pair_study
    env = {**os.environ, "MTL_LAB_HOME": str(Path(store.path).parent)}
    done = subprocess.run([sys.executable, "-m", "mtl_core", "export", study_id, "--report", "--out", str(tmp_path)],
                          cwd=REPO, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    stem = export_basename(HOSTILE, study_id)
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{stem}-csv.zip", f"{stem}.html"]
    assert "Single-task vs multitask" in (tmp_path / f"{stem}.html").read_text()
    missing = subprocess.run([sys.executable, "-m", "mtl_core", "export", study_id], cwd=REPO, capture_output=True,
                             text=True, timeout=120, env=env)
    assert missing.returncode == 2 and "--out" in missing.stderr and "Traceback" not in missing.stderr

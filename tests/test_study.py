"""End to end: real studies on CPU (in process and through the CLI), with real data and the generator."""
from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

from mtl_core.results.study_results import StudyResults
from mtl_core.results.summary import COLUMNS, summary_rows
from mtl_core.store import Store
from mtl_core.studies.execute import run_study
from mtl_core.studies.spec import StudySpec

REPO = Path(__file__).resolve().parents[1]
QUICK = ["--set", "hidden=16", "--set", "emb_dim=16"]


def cli(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mtl_core", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600)


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_tiny_real_study_beats_the_majority_baseline(datasets_dir):
    spec = StudySpec(name="yelp tiny", seeds=1, source={"files": [str(datasets_dir / "uci_sentiment" / "yelp_labelled.txt")]},
                     config={"hidden": 32, "emb_dim": 50, "epochs": 8, "patience": 3})
    store = Store()
    study_id, results = run_study(spec, store, echo=lambda line: None, save_models=False)
    (result,) = results.values()
    rows = {(r["task"], r["setting"]): r for r in summary_rows(StudyResults.load(store, study_id)) if r["metric"] == "accuracy"}
    majority = rows[("yelp", "single")]["majority_baseline"]
    assert majority == 0.5  # the stratified test split of this balanced file
    assert result.test_scores["yelp"]["accuracy"] > majority + 0.1
    assert rows[("yelp", "tfidf-lr")]["mean"] > majority + 0.1  # the classical baseline is always there
    assert 1 <= result.best_epoch <= result.epochs_run <= 8


def test_cli_study_writes_summary_predictions_and_table(tmp_path):
    out = tmp_path / "r"
    done = cli("study", "--preset", "synthetic-demo", "--tasks", "base,related", "--seeds", "2", "--epochs", "3",
               *QUICK, "--out", str(out), "--save-predictions")
    assert done.returncode == 0, done.stderr
    rows = read_csv(out / "summary.csv")
    assert list(rows[0]) == COLUMNS
    settings = {(r["task"], r["setting"]) for r in rows if r["metric"] == "accuracy"}
    assert {("base", "single"), ("base", "all"), ("base", "tfidf-lr"), ("related", "all")} <= settings
    for r in rows:
        if r["setting"] in ("single", "all"):
            assert r["n_seeds"] == "2" and float(r["ci_low"]) <= float(r["mean"]) <= float(r["ci_high"])
    # one predictions file per run and task: 2 seeds x (base alone, related alone, both tasks together)
    files = sorted(p.name for p in (out / "predictions").iterdir())
    assert len(files) == 8 and "all_seed1_related.csv" in files
    preds = read_csv(out / "predictions" / "single_seed0_base.csv")
    assert list(preds[0]) == ["row", "text", "gold", "predicted"] and {p["gold"] for p in preds} <= {"pos", "neg"}
    assert "tfidf-lr" in done.stdout and "summary.csv" in done.stdout


def test_cli_separate_test_file_replaces_the_test_split(tmp_path, datasets_dir):
    lines = (datasets_dir / "uci_sentiment" / "yelp_labelled.txt").read_text(encoding="utf-8").splitlines()
    (tmp_path / "train").mkdir()
    (tmp_path / "test").mkdir()
    (tmp_path / "train" / "yelp.txt").write_text("\n".join(lines[:800]) + "\n", encoding="utf-8")
    (tmp_path / "test" / "yelp.txt").write_text("\n".join(lines[800:]) + "\n", encoding="utf-8")
    done = cli("study", "--data", str(tmp_path / "train" / "yelp.txt"), "--test", str(tmp_path / "test" / "yelp.txt"),
               "--seeds", "1", "--epochs", "2", *QUICK, "--out", str(tmp_path / "r"), "--save-predictions")
    assert done.returncode == 0, done.stderr
    preds = read_csv(tmp_path / "r" / "predictions" / "single_seed0_yelp.csv")
    assert len(preds) == 200 and {int(p["row"]) for p in preds} == set(range(800, 1000))
    assert [p["text"] for p in preds[:1]] == [lines[800].rsplit("\t", 1)[0].strip()]


def test_cli_tagging_predictions_are_conll_columns(tmp_path, datasets_dir):
    sample = (datasets_dir / "conll2002_spanish" / "esp.testa").read_text(encoding="latin-1").split("\n\n")[:120]
    data = tmp_path / "sample.conll"
    data.write_text("\n\n".join(sample) + "\n", encoding="utf-8")
    done = cli("study", "--data", str(data), "--format", "conll", "--seeds", "1", "--epochs", "1", "--plan", "all",
               *QUICK, "--out", str(tmp_path / "r"), "--save-predictions")
    assert done.returncode == 0, done.stderr
    rows = read_csv(tmp_path / "r" / "summary.csv")
    metrics = {(r["task"], r["metric"]) for r in rows}
    assert {("ner", "span_f1"), ("pos", "token_accuracy")} <= metrics
    block = (tmp_path / "r" / "predictions" / "all_seed0_ner.conll").read_text(encoding="utf-8").split("\n\n")[0]
    assert all(len(line.split(" ")) == 3 for line in block.splitlines())  # word gold predicted


def test_cli_bad_data_is_one_clear_message_not_a_traceback(tmp_path):
    bad = tmp_path / "reviews.csv"
    bad.write_text("text,label\ngreat food,pos\n", encoding="utf-8")
    done = cli("study", "--data", str(bad), "--text-column", "review", "--out", str(tmp_path / "r"))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "reviews.csv" in done.stderr and "review" in done.stderr
    unknown = cli("study", "--preset", "no-such-preset", "--out", str(tmp_path / "r"))
    assert unknown.returncode == 2 and "synthetic-demo" in unknown.stderr and "Traceback" not in unknown.stderr
    wrong_key = cli("study", "--preset", "synthetic-demo", "--set", "hiden=3", "--out", str(tmp_path / "r"))
    assert wrong_key.returncode == 2 and "hiden" in wrong_key.stderr


def test_cli_presets_and_catalog_list():
    presets = cli("presets")
    assert presets.returncode == 0
    assert all(name in presets.stdout for name in ("synthetic-demo", "absa", "yelp-amazon"))
    listing = cli("data", "list")
    assert listing.returncode == 0 and "semeval2014_restaurants" in listing.stdout


def test_every_preset_is_a_valid_study_on_its_real_data():
    from mtl_core.data.catalog import load_catalog
    from mtl_core.studies.presets import load_presets, load_study_source
    from mtl_core.training.config import RunConfig

    catalog = load_catalog()
    for name, preset in load_presets().items():
        RunConfig.from_dict(preset.get("config", {}))  # raises on an unknown key or a bad value
        if "synthetic" in preset:
            continue
        assert preset["dataset"] in catalog, name
        corpus = load_study_source({"preset": name}).corpus  # the real file, from MTL_LAB_DATA_DIR
        assert set(preset["tasks"]) <= set(corpus.tasks), name


def test_a_pairs_study_measures_the_cheap_estimates_on_its_run_of_every_task():
    from mtl_core.studies.execute import MEASURE_EVERY, run_config
    from mtl_core.training.config import RunConfig

    base = RunConfig()
    assert run_config(base, "pair", "pairs", 2, 2).affinity_every == MEASURE_EVERY["affinity_every"]  # 2 tasks
    assert run_config(base, "pair", "pairs", 2, 2).grad_every == MEASURE_EVERY["grad_every"]
    # k tasks: each probe backpropagates once per task, so it runs k/2 times less often and on fewer rows per task
    assert run_config(base, "all", "pairs", 5, 5).grad_every == MEASURE_EVERY["grad_every"] * 5 // 2
    assert run_config(base, "all", "pairs", 10, 10).affinity_every == MEASURE_EVERY["affinity_every"] * 5
    from mtl_core.training.gradient_probe import PROBE_ROWS, probe_rows
    assert probe_rows(2) == PROBE_ROWS and probe_rows(10) * 10 <= 2 * PROBE_ROWS and probe_rows(100) >= 16
    assert run_config(base, "pair", "pairs", 2, 5) == base          # a pair of five: measured by the all run
    assert run_config(base, "all", "singles+all", 5, 5) == base     # other plans: only when asked
    asked = base.replace(grad_every=7)
    assert run_config(asked, "all", "pairs", 5, 5) == asked         # the user's own intervals win


def test_baselines_fill_only_what_is_missing(tmp_path):
    from mtl_core.selftest.procs import tiny_spec
    from mtl_core.studies.execute import run_baselines
    from mtl_core.studies.prepare import prepare
    from mtl_core.training.config import RunConfig

    spec = tiny_spec("baselines")
    prepared = prepare(spec, RunConfig.from_dict(spec.config))
    store = Store(tmp_path / "s.sqlite")
    study_id = store.create_study("baselines", spec.to_dict())
    store.add_baseline(study_id, "base", "tfidf-lr", {"accuracy": -1.0}, 1)  # as a peer worker left it
    run_baselines(store, study_id, prepared)
    rows = {(b["task"], b["method"], b["metric"]): b["value"] for b in store.baselines(study_id)}
    assert rows[("base", "tfidf-lr", "accuracy")] == -1.0  # kept, not scored again
    assert {(t, m) for t, m, _ in rows} == {(t, m) for t in ("base", "related") for m in ("majority", "tfidf-lr")}
    assert 0.5 < rows[("related", "tfidf-lr", "accuracy")] <= 1.0 and 0 < rows[("base", "majority", "accuracy")] < 1

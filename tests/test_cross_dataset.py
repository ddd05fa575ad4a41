"""Studies across datasets: tasks from several datasets of different formats in one study, each task labelled,
trained and scored only on its own dataset's rows (None, masked, everywhere else)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from mtl_core.data.combine import combined_task_names
from mtl_core.data.library import register_dataset
from mtl_core.data.splits import make_split
from mtl_core.data.study_sources import combined_source, source_from_data_args
from mtl_core.data.tokenize import ensure_tokens
from mtl_core.errors import ConfigError, DataError
from mtl_core.studies.presets import load_study_source

ABSA_TASKS = {"food", "service", "price", "ambience", "misc"}


@pytest.fixture(scope="module")
def small(tmp_path_factory, datasets_dir) -> dict[str, Path]:
    """The first rows of four real datasets, each in a folder named like the dataset (three formats)."""
    root = tmp_path_factory.mktemp("small")
    out = {}
    for name in ("yelp", "amazon_cells"):
        lines = (datasets_dir / "uci_sentiment" / f"{name}_labelled.txt").read_bytes().splitlines(keepends=True)
        out[name] = _write(root / "uci_sentiment" / f"{name}_labelled.txt", b"".join(lines[:160]))
    xml = (datasets_dir / "semeval2014_restaurants" / "Restaurants_Train_v2.xml").read_text(encoding="utf-8")
    sentences = re.findall(r"<sentence .*?</sentence>", xml, flags=re.S)[:300]
    out["absa"] = _write(root / "semeval2014_restaurants" / "Restaurants_Train_v2.xml",
                         ('<?xml version="1.0" encoding="UTF-8"?>\n<sentences>\n' + "\n".join(sentences)
                          + "\n</sentences>\n").encode("utf-8"))
    blocks = (datasets_dir / "conll2002_spanish" / "esp.testa").read_bytes().split(b"\n\n")
    out["conll"] = _write(root / "conll2002_spanish" / "esp.testa", b"\n\n".join(blocks[1:121]) + b"\n")
    return out


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _rows_from(corpus, *files: Path) -> set[int]:
    names = {str(f) for f in files}
    return {i for i, origin in enumerate(corpus.origins) if origin in names}


def test_a_combined_source_labels_each_task_only_on_its_own_datasets_rows(small):
    source = source_from_data_args([str(small["yelp"]), str(small["amazon_cells"]), str(small["absa"]),
                                    str(small["conll"])])
    assert len(source["combine"]) == 3  # UCI, SemEval XML, CoNLL: one part per format
    corpus = load_study_source(source).corpus
    assert set(corpus.tasks) == {"yelp", "amazon"} | ABSA_TASKS | {"pos", "ner"}
    own = {"yelp": _rows_from(corpus, small["yelp"]), "amazon": _rows_from(corpus, small["amazon_cells"]),
           **{t: _rows_from(corpus, small["absa"]) for t in ABSA_TASKS},
           "pos": _rows_from(corpus, small["conll"]), "ner": _rows_from(corpus, small["conll"])}
    for task, rows in own.items():
        labelled = set(corpus.present(task))
        assert labelled and labelled <= rows, task  # never a label on another dataset's row
    assert set(corpus.present("pos")) == own["pos"] and len(own["yelp"]) == 160
    assert corpus.tasks["pos"].kind == "tagging" and corpus.tasks["yelp"].absent_label is None
    # CoNLL rows keep their own tokens; only the other rows are tokenized
    tokens = ensure_tokens(corpus)
    conll_row = min(own["pos"])
    assert tokens[conll_row] == [t.lower() for t in corpus.tokens[conll_row]]
    assert all(corpus.tokens[i] is None and tokens[i] for i in own["yelp"])
    assert len(tokens[conll_row]) == len(corpus.annotations["pos"][conll_row])


def test_task_names_several_datasets_give_are_prefixed_with_the_datasets_name(small):
    source = {"combine": [{"files": [str(small["yelp"])], "task_name": "sentiment", "name": "yelp-reviews"},
                          {"files": [str(small["amazon_cells"])], "task_name": "sentiment", "name": "phones"},
                          {"files": [str(small["absa"])], "name": "absa"}]}
    corpus = load_study_source(source).corpus
    assert set(corpus.tasks) == {"yelp-reviews/sentiment", "phones/sentiment"} | ABSA_TASKS  # no clash: kept
    assert not set(corpus.present("yelp-reviews/sentiment")) & set(corpus.present("phones/sentiment"))
    assert combined_task_names({"a": ["label", "x"], "b": ["label"]}) == {"a": {"label": "a/label", "x": "x"},
                                                                          "b": {"label": "b/label"}}


def test_a_datasets_own_test_file_stays_its_test_part_and_the_others_are_split(small, datasets_dir):
    test_file = datasets_dir / "uci_sentiment" / "imdb_labelled.txt"
    source = {"combine": [{"files": [str(small["yelp"])], "test": str(test_file), "name": "reviews"},
                          {"files": [str(small["absa"])], "name": "absa"}]}
    loaded = load_study_source(source)
    corpus = loaded.corpus
    split = make_split(corpus, seed=0, test_rows=loaded.test_rows)
    given = set(loaded.test_rows)
    assert given == _rows_from(corpus, test_file) and given <= set(split.test)
    absa_test = set(split.test) - given
    absa_rows = _rows_from(corpus, small["absa"])
    assert absa_test <= absa_rows and 0.15 < len(absa_test) / len(absa_rows) < 0.25
    assert not set(split.train) & set(split.test) and not set(split.val) & set(split.test)


def test_a_cross_dataset_study_trains_and_scores_each_task_only_on_its_own_rows(small):
    from mtl_core.store import Store
    from mtl_core.studies.execute import run_study
    from mtl_core.studies.spec import StudySpec

    source = source_from_data_args([str(small["yelp"]), str(small["absa"]), str(small["conll"])])
    tasks = ["yelp", "food", "ner"]
    spec = StudySpec(name="across", source=source, tasks=tasks, seeds=1, plan="all",
                     config={"epochs": 1, "hidden": 16, "emb_dim": 16, "max_len": 40})
    store = Store()
    study_id, _ = run_study(spec, store, echo=lambda _: None, save_models=False)
    corpus = load_study_source(source).corpus.subset(tasks)
    split = make_split(corpus, seed=0)
    n = {row["task"]: row["value"] for row in store.scores(study_id) if row["metric"] == "n"}
    expected = {t: len(set(split.test) & set(corpus.present(t))) for t in tasks}
    assert n == expected and all(expected.values())
    assert expected["yelp"] < 0.3 * 160  # scored on yelp's own test rows, not every test row


def test_data_arguments_take_a_saved_dataset_name_beside_files(small):
    register_dataset("absa-restaurants", {"files": [str(small["absa"])], "format": "semeval"})
    source = source_from_data_args([str(small["yelp"]), "absa-restaurants", "conll2002_spanish"])
    names = [part.get("name") for part in source["combine"]]
    assert names == [None, "absa-restaurants", "conll2002_spanish"]  # a catalog dataset, found in the data dir
    corpus = load_study_source(source).corpus
    assert {"yelp", "food", "ner"} <= set(corpus.tasks) and len(corpus.present("ner")) > 1000


def test_format_is_refused_for_files_of_different_formats(small):
    with pytest.raises(ConfigError, match=r"--format uci applies to every --data file.*Restaurants_Train_v2.xml "
                                          r"\(semeval\).*drop --format"):
        source_from_data_args([str(small["yelp"]), str(small["absa"])], "uci")
    one_format = source_from_data_args([str(small["yelp"]), str(small["amazon_cells"])], "uci")
    assert one_format["files"] == [str(small["yelp"]), str(small["amazon_cells"])]  # the plain source, as before


def test_an_unknown_dataset_name_says_which_names_exist():
    with pytest.raises(DataError, match=r"no-such-data: neither a file nor a dataset name.*uci_sentiment.*Fix:"):
        source_from_data_args(["no-such-data"])


def test_a_broken_part_names_its_dataset_and_the_fix(small, tmp_path):
    broken = _write(tmp_path / "broken" / "reviews.csv", b"text,label\nonly one row,pos\n")
    source = {"combine": [{"files": [str(small["yelp"])]}, {"files": [str(broken)], "name": "my-reviews"}]}
    with pytest.raises(DataError, match=r"dataset 'my-reviews': could not be loaded.*reviews.csv.*"
                                        r"leave 'my-reviews' out of the study"):
        load_study_source(source)


def test_saved_datasets_picked_together_make_one_combined_source(small):
    datasets = [{"name": "yelp", "source": {"files": [str(small["yelp"])]}},
                {"name": "absa", "source": {"files": [str(small["absa"])]}}]
    assert combined_source(datasets[:1]) == datasets[0]["source"]  # one dataset: its own source, unchanged
    assert combined_source(datasets) == {"combine": [{"files": [str(small["yelp"])], "name": "yelp"},
                                                     {"files": [str(small["absa"])], "name": "absa"}]}


def test_the_cli_queues_a_study_on_files_of_several_formats_and_a_saved_dataset(small, capsys):
    from mtl_core.cli import main
    from mtl_core.store import Store

    register_dataset("absa-restaurants", {"files": [str(small["absa"])]})
    assert main(["submit", "--data", str(small["yelp"]), str(small["conll"]), "absa-restaurants",
                 "--tasks", "yelp,ner,food", "--seeds", "1", "--plan", "all"]) == 0
    study_id = capsys.readouterr().out.split()[0]
    parts = Store().study(study_id)["spec"]["source"]["combine"]
    assert [p["files"] for p in parts] == [[str(small["yelp"])], [str(small["conll"])], [str(small["absa"])]]
    assert parts[2]["name"] == "absa-restaurants"
    assert main(["submit", "--data", str(small["yelp"]), "no-such-data"]) == 2
    assert "no-such-data: neither a file nor a dataset name" in capsys.readouterr().err
    assert main(["submit", "--data", str(small["yelp"]), str(small["absa"]), "--format", "uci"]) == 2
    assert "--format uci applies to every --data file" in capsys.readouterr().err

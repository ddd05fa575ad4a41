"""The dataset library (uploads, saved datasets) and the Data page, on real files from shared/datasets."""
from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import pytest
from app_pages import open_page
from streamlit.testing.v1 import AppTest

from mtl_core.data import library
from mtl_core.data.loaders import load_files
from mtl_core.data.sources import load_source
from mtl_core.errors import ConfigError, DataError
from mtl_core.paths import mtl_home, uploads_dir
from ui.common import plain

REPO = Path(__file__).resolve().parents[1]


def data_page() -> AppTest:
    return open_page("pages/1_Data.py")


def reuters_sample(datasets_dir: Path, rows: int = 120) -> bytes:
    lines = (datasets_dir / "reuters21578_46topics" / "reuters46_train.tsv").read_bytes().split(b"\n")
    return b"\n".join(lines[: rows + 1]) + b"\n"


def test_save_upload_keeps_real_files_content_hashed_and_loadable(datasets_dir):
    data = (datasets_dir / "uci_sentiment" / "yelp_labelled.txt").read_bytes()
    path = library.save_upload("yelp_labelled.txt", data)
    assert path.parent == uploads_dir() / hashlib.sha256(data).hexdigest()[:library.HASH_CHARS]
    assert path.name == "yelp_labelled.txt" and path.read_bytes() == data
    assert library.save_upload("yelp_labelled.txt", data) == path  # the same bytes are kept once
    corpus = load_files([path])
    assert len(corpus) == 1000 and corpus.report.label_counts["yelp"] == {"0": 500, "1": 500}


def test_uploads_over_the_limit_empty_or_with_unsafe_names_are_refused(monkeypatch):
    monkeypatch.setenv(library.UPLOAD_MB_ENV, "1")
    with pytest.raises(DataError, match=r"big\.csv: the file is 2\.0 MB, over the upload limit of 1 MB"):
        library.save_upload("big.csv", b"x" * 2 * 2**20)
    for name in ("../escape.csv", "sub/dir.csv", "..\\win.csv", "/etc/passwd", ".."):
        with pytest.raises(DataError, match="Rename the file"):
            library.save_upload(name, b"text,label\nhello,1\n")
    with pytest.raises(DataError, match="empty"):
        library.save_upload("empty.csv", b"")
    assert not list(uploads_dir().rglob("*.csv"))
    monkeypatch.setenv(library.UPLOAD_MB_ENV, "lots")
    with pytest.raises(ConfigError, match="MTL_LAB_MAX_UPLOAD_MB"):
        library.max_upload_mb()


def test_registered_datasets_are_listed_with_their_tasks_and_reload(datasets_dir):
    uci = datasets_dir / "uci_sentiment"
    source = {"files": [str(uci / "yelp_labelled.txt"), str(uci / "amazon_cells_labelled.txt")]}
    first = library.register_dataset("reviews", source)
    assert library.register_dataset("reviews", source) == first  # saved again: replaced, same id
    (saved,) = library.list_datasets()
    assert saved["name"] == "reviews" and saved["n_examples"] == 2000
    assert set(saved["tasks"]) == {"yelp", "amazon"} and saved["tasks"]["yelp"]["labels"] == ["0", "1"]
    assert len(load_source(saved["source"]).corpus) == 2000
    with pytest.raises(DataError):  # a source that does not load is never saved
        library.register_dataset("broken", {"files": [str(uci / "missing.txt")]})
    assert [d["name"] for d in library.list_datasets()] == ["reviews"]


def test_csv_domain_column_makes_one_task_per_domain(tmp_path, datasets_dir):
    rows = []
    for site in ("yelp", "amazon_cells"):
        for line in (datasets_dir / "uci_sentiment" / f"{site}_labelled.txt").read_text().splitlines()[:60]:
            text, label = line.rsplit("\t", 1)
            rows.append([text, label.strip(), site.split("_")[0]])
    path = tmp_path / "reviews.csv"
    with open(path, "w", newline="") as f:
        csv.writer(f).writerows([["review", "stars", "site"], *rows])
    assert library.table_columns([path]) == ["review", "stars", "site"]
    corpus = load_files([path], text_column="review", label_columns=["stars"], domain_column="site")
    assert list(corpus.tasks) == ["yelp", "amazon"]
    assert corpus.present("yelp") == list(range(60)) and corpus.present("amazon") == list(range(60, 120))
    with pytest.raises(DataError, match="domain_column 'shop' is not among"):
        load_files([path], text_column="review", domain_column="shop")


def test_synthetic_tab_saves_a_dataset_that_appears_in_the_library():
    at = data_page()
    assert not at.exception
    at.slider(key="syn_k").set_value(1)
    at.slider(key="syn_n").set_value(200).run()
    at.text_input(key="syn_dataset_name").input("two tasks").run()
    at.button(key="syn_save").click().run()
    assert not at.exception
    assert "two tasks" in at.success[0].value
    (saved,) = library.list_datasets()
    assert saved["name"] == "two tasks" and list(saved["tasks"]) == ["base", "related"]
    assert saved["n_examples"] == 400
    assert list(at.dataframe[-1].value["name"]) == ["two tasks"]  # the saved-datasets table


def test_uploaded_csv_is_mapped_previewed_and_saved(datasets_dir):
    at = data_page()
    at.file_uploader(key="data_upload").set_value([("reuters.tsv", reuters_sample(datasets_dir),
                                                     "text/tab-separated-values")]).run()
    assert not at.exception
    assert at.selectbox(key="up_text").options[-1] == "body"
    at.selectbox(key="up_text").set_value("body")
    at.multiselect(key="up_labels").set_value(["topic"]).run()
    assert not at.exception and not at.error
    preview = at.dataframe[0].value
    assert list(preview.columns) == ["text", "topic"] and len(preview) == 10
    assert "120 examples, 1 task(s)" in at.markdown[1].value
    at.button(key="up_save").click().run()
    (saved,) = library.list_datasets()
    assert saved["name"] == "reuters" and list(saved["tasks"]) == ["topic"]
    (stored,) = saved["source"]["files"]
    assert Path(stored).is_relative_to(uploads_dir()) and Path(stored).name == "reuters.tsv"


def test_a_bad_csv_shows_an_error_naming_the_file_and_line():
    at = data_page()
    bad = b"text,label\ngood food,pos\nbad, slow service,neg\n"
    at.file_uploader(key="data_upload").set_value([("bad.csv", bad, "text/csv")]).run()
    assert not at.exception
    message = at.error[0].value
    assert plain("bad.csv") in message and "line 3" in message and "3 field" in message


def test_catalog_lists_datasets_and_imports_from_a_folder(datasets_dir):
    at = data_page()
    assert not at.exception
    catalog = next(df.value for df in at.dataframe if "licence" in df.value.columns)
    assert {"uci_sentiment", "semeval2014_restaurants", "conll2002_spanish"} <= set(catalog["name"])
    assert (catalog["found locally"] != "no").all()  # all found through MTL_LAB_DATA_DIR
    at.text_input(key="cat_folder").input(str(datasets_dir)).run()
    at.button(key="cat_import").click().run()
    assert not at.exception and not at.error
    assert sorted(p.name for p in (mtl_home() / "data" / "uci_sentiment").iterdir()) == [
        "amazon_cells_labelled.txt", "imdb_labelled.txt", "yelp_labelled.txt"]


@pytest.mark.parametrize("folder, name, mime, expected", [
    ("uci_sentiment", "amazon_cells_labelled.txt", "text/plain", "1000 examples, 1 task(s)"),
    ("semeval2014_restaurants", "Restaurants_Train_v2.xml", "text/xml", "3041 examples, 5 task(s)"),
    ("conll2002_spanish", "esp.testa", "text/plain", "2 task(s)"),
])
def test_each_supported_format_uploads_to_a_preview_and_a_saved_dataset(datasets_dir, folder, name, mime, expected):
    at = data_page()
    at.file_uploader(key="data_upload").set_value([(name, (datasets_dir / folder / name).read_bytes(), mime)]).run()
    assert not at.exception and not at.error
    assert any(expected in m.value for m in at.markdown)
    assert len(at.dataframe[0].value) > 0  # the preview
    at.button(key="up_save").click().run()
    (saved,) = library.list_datasets()
    assert saved["n_examples"] > 0

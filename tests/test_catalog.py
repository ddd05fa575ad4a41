"""Dataset catalog: entries, finding datasets, fetching (real urllib path, file:// URLs), importing, safe paths."""
from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from mtl_core.data.catalog import (
    FORMATS,
    fetch,
    find_dataset,
    import_folder,
    load_catalog,
    sha256_of,
    verify,
)
from mtl_core.errors import ConfigError, DataError
from mtl_core.paths import data_dirs, mtl_home, safe_child, store_path, uploads_dir

NAMES = {"uci_sentiment", "semeval2014_restaurants", "conll2002_spanish", "reuters21578_46topics"}


def uci_zip(datasets_dir: Path, target: Path, corrupt: str | None = None) -> Path:
    """The UCI archive's layout, built from the real files; ``corrupt`` names a file to alter by one byte."""
    entry = load_catalog()["uci_sentiment"]
    with zipfile.ZipFile(target, "w") as archive:
        archive.writestr("__MACOSX/sentiment labelled sentences/._yelp_labelled.txt", b"mac junk")
        for f in entry.files:
            data = (datasets_dir / "uci_sentiment" / f.path).read_bytes()
            if f.path == corrupt:
                data = data.replace(b"\t1\n", b"\t0\n", 1)
            archive.writestr(f.member, data)
    return target


def data_home_is_empty() -> bool:
    data = mtl_home() / "data"
    return not data.exists() or not any(data.iterdir())


def test_catalog_entries_are_complete_and_match_the_real_files(datasets_dir):
    catalog = load_catalog()
    assert set(catalog) == NAMES
    for name, entry in catalog.items():
        assert entry.name == name and entry.title and entry.citation and entry.licence and entry.description
        assert entry.source_url.startswith("https://") and entry.format in FORMATS
        assert entry.archive in ("zip", None) and (entry.archive is None or entry.fetch)
        for f in entry.files:
            assert (f.member is not None) == (entry.archive == "zip")
            assert sha256_of(datasets_dir / name / f.path) == f.sha256, f"{name}/{f.path}"
        assert verify(name, datasets_dir / name) == []
    assert not catalog["reuters21578_46topics"].fetch and "derived" in catalog["reuters21578_46topics"].description


def test_find_dataset_uses_the_data_dir_env(datasets_dir):
    for name in NAMES:
        assert find_dataset(name) == datasets_dir / name


def test_data_dir_option_comes_first(tmp_path, datasets_dir):
    assert data_dirs(tmp_path) == [tmp_path, datasets_dir, mtl_home() / "data"]
    mine = tmp_path / "conll2002_spanish"
    mine.mkdir()
    (mine / "esp.testa").write_bytes((datasets_dir / "conll2002_spanish" / "esp.testa").read_bytes())
    assert find_dataset("conll2002_spanish", data_dir=tmp_path) == mine
    assert verify("conll2002_spanish", mine) == []


def test_missing_dataset_says_how_to_fetch_it(tmp_path, monkeypatch):
    monkeypatch.setenv("MTL_LAB_DATA_DIR", str(tmp_path / "empty"))
    with pytest.raises(DataError) as err:
        find_dataset("uci_sentiment")
    message = str(err.value)
    assert "python -m mtl_core data fetch uci_sentiment" in message and "MTL_LAB_DATA_DIR" in message
    assert str(tmp_path / "empty" / "uci_sentiment") in message and str(mtl_home() / "data") in message


def test_unknown_dataset_names_the_known_ones():
    with pytest.raises(ConfigError, match="uci_sentiment"):
        find_dataset("imdb_full")


def test_fetch_from_a_file_url_lands_checked_files(tmp_path, datasets_dir, monkeypatch):
    url = uci_zip(datasets_dir, tmp_path / "uci.zip").as_uri()
    folder = fetch("uci_sentiment", url=url)
    assert folder == mtl_home() / "data" / "uci_sentiment"
    assert sorted(p.name for p in folder.iterdir()) == ["amazon_cells_labelled.txt", "imdb_labelled.txt",
                                                        "yelp_labelled.txt"]
    assert verify("uci_sentiment", folder) == []
    assert [p.name for p in (mtl_home() / "data").iterdir()] == ["uci_sentiment"]  # no temp folders left
    monkeypatch.setenv("MTL_LAB_DATA_DIR", str(tmp_path / "empty"))
    assert find_dataset("uci_sentiment") == folder
    assert fetch("uci_sentiment", url="http://127.0.0.1:9/unused.zip") == folder  # already there: no download


def test_fetch_with_a_corrupted_member_leaves_nothing(tmp_path, datasets_dir):
    url = uci_zip(datasets_dir, tmp_path / "uci.zip", corrupt="imdb_labelled.txt").as_uri()
    with pytest.raises(DataError, match="SHA-256") as err:
        fetch("uci_sentiment", url=url)
    assert "imdb_labelled.txt" in str(err.value)
    assert data_home_is_empty()


def test_fetch_when_offline_points_to_import(monkeypatch):
    for var in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(DataError) as err:
        fetch("conll2002_spanish", url="http://127.0.0.1:9/conll2002.zip", timeout=5)
    message = str(err.value)
    assert "could not reach" in message and "offline" in message
    assert "python -m mtl_core data import conll2002_spanish" in message and "MTL_LAB_DATA_DIR" in message
    assert data_home_is_empty()


def test_import_only_dataset_explains_where_to_get_it():
    with pytest.raises(DataError, match="import-only") as err:
        fetch("semeval2014_restaurants")
    message = str(err.value)
    assert "https://alt.qcri.org/semeval2014/task4/" in message and "MTL_LAB_DATA_DIR" in message
    assert "python -m mtl_core data import semeval2014_restaurants FOLDER" in message


def test_import_folder_copies_checked_files(tmp_path, datasets_dir, monkeypatch):
    folder = import_folder("semeval2014_restaurants", datasets_dir / "semeval2014_restaurants")
    assert folder == mtl_home() / "data" / "semeval2014_restaurants"
    assert verify("semeval2014_restaurants", folder) == []
    monkeypatch.setenv("MTL_LAB_DATA_DIR", str(tmp_path / "empty"))
    assert find_dataset("semeval2014_restaurants") == folder
    # a hand-downloaded archive works too
    assert verify("uci_sentiment", import_folder("uci_sentiment", uci_zip(datasets_dir, tmp_path / "u.zip"))) == []


def test_import_folder_refuses_a_changed_file(tmp_path, datasets_dir):
    mine = tmp_path / "conll"
    mine.mkdir()
    (mine / "esp.testa").write_bytes((datasets_dir / "conll2002_spanish" / "esp.testa").read_bytes()[:-100])
    with pytest.raises(DataError, match="do not check out"):
        import_folder("conll2002_spanish", mine)
    assert data_home_is_empty()


def test_home_paths_live_under_mtl_lab_home(tmp_path):
    assert mtl_home() == tmp_path / "mtl_home" and mtl_home().is_dir()
    assert uploads_dir() == tmp_path / "mtl_home" / "uploads" and uploads_dir().is_dir()
    assert store_path() == tmp_path / "mtl_home" / "mtl_lab.sqlite"


def test_safe_child_keeps_user_names_inside_base(tmp_path):
    assert safe_child(tmp_path, "reviews.csv") == tmp_path.resolve() / "reviews.csv"
    for bad in ("../x", "/etc/passwd", "a/../../x", "..\\x", "C:\\x", "", "."):
        with pytest.raises(ValueError):
            safe_child(tmp_path, bad)

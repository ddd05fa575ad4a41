"""Shared fixtures: the real datasets in ../shared/datasets (required, never skipped silently)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DATASETS = Path(os.environ.get("MTL_LAB_DATA_DIR", REPO.parent / "shared" / "datasets")).resolve()


@pytest.fixture(scope="session")
def datasets_dir() -> Path:
    """The folder of real public datasets; fails (not skips) with a clear message when missing."""
    if not (DATASETS / "uci_sentiment").is_dir():
        pytest.fail(f"Real datasets not found at {DATASETS}. Put the shared/ folder beside this repo "
                    "or set MTL_LAB_DATA_DIR to a folder holding uci_sentiment/, "
                    "semeval2014_restaurants/, conll2002_spanish/.")
    return DATASETS


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    """Each test gets its own MTL Lab home (store, uploads, fetched data) and sees the real datasets."""
    monkeypatch.setenv("MTL_LAB_HOME", str(tmp_path / "mtl_home"))
    monkeypatch.setenv("MTL_LAB_DATA_DIR", str(DATASETS))
    yield


@pytest.fixture(scope="session")
def tiny_studies(tmp_path_factory) -> dict:
    """One MTL Lab home with two finished studies: a one-task 'older' and the newest two-task 'tiny demo'."""
    from studies import tiny_study

    from mtl_core.store import Store

    home = tmp_path_factory.mktemp("app_home")
    store = Store(home / "mtl_lab.sqlite")  # where paths.store_path() looks for MTL_LAB_HOME=home
    older = tiny_study(store, ["base"], seeds=1, name="older [one task]")
    newest = tiny_study(store, ["base", "related"], seeds=2, name="tiny demo")
    return {"home": home, "older": older, "newest": newest}

"""A study's source from what the user names: data files and dataset names (the CLI's ``--data``), or saved
datasets picked together (the Tasks page). Several formats or datasets make one study across datasets
(``{"combine": [...]}``, see ``data.combine``); one format of files alone stays the plain ``{"files": ...}`` source.
"""
from __future__ import annotations

from pathlib import Path

from mtl_core.data.catalog import load_catalog
from mtl_core.data.loaders import detect_format
from mtl_core.data.library import catalog_source, list_datasets
from mtl_core.errors import ConfigError, DataError
from mtl_core.store import Store


def dataset_source(name: str, data_dir: str | Path | None = None, store: Store | None = None) -> dict:
    """The source of the dataset called ``name``: a saved dataset (Data page) first, else a catalog dataset found
    in ``data_dir``, $MTL_LAB_DATA_DIR or the MTL Lab home; the part is named after the dataset."""
    saved = {d["name"]: d for d in list_datasets(store)}
    if name in saved:
        return {**saved[name]["source"], "name": name}
    if name in load_catalog():
        return {**catalog_source(name, data_dir), "name": name}
    known = sorted(saved) + sorted(load_catalog())
    raise DataError(name, f"neither a file nor a dataset name; the dataset names known here are {known}.",
                    "Give the path of a data file, the name of a dataset saved on the Data page, or a catalog "
                    "dataset (`python -m mtl_core data list`; fetch it with `python -m mtl_core data fetch NAME`).")


def source_from_data_args(items: list[str], fmt: str | None = None, data_dir: str | Path | None = None, *,
                          test: str | None = None, text_column: str | None = None,
                          label_columns: list[str] | None = None, store: Store | None = None) -> dict:
    """The source the CLI's ``--data ITEM...`` names: each item a data file (format detected per file) or a
    dataset name. Files of one format form one part (several UCI files: one task per file, as ever); several
    formats or any dataset name make a study across datasets. ``fmt`` (``--format``) applies to every file, and is
    refused when the files' formats differ. ``test`` joins the part of the files in its format."""
    files = [item for item in items if Path(item).is_file()]
    named = [dataset_source(item, data_dir, store) for item in items if not Path(item).is_file()]
    options = {"text_column": text_column, "label_columns": label_columns}
    groups = _files_by_format(files, fmt)
    parts = [{"files": group, "format": fmt, **options} for group in groups.values()]
    if test:
        _attach_test(parts, groups, test, fmt)
    if len(parts) == 1 and not named:
        return parts[0]
    return {"combine": parts + named}


def _files_by_format(files: list[str], fmt: str | None) -> dict[str, list[str]]:
    """Files grouped by their detected format (one group under ``fmt`` when given, if their formats agree)."""
    detected = {f: detect_format(f) for f in files}
    groups: dict[str, list[str]] = {}
    for file, found in detected.items():
        groups.setdefault(found, []).append(file)
    if fmt and len(groups) > 1:
        shown = ", ".join(f"{Path(f).name} ({found})" for f, found in detected.items())
        raise ConfigError(f"--format {fmt} applies to every --data file, but these files have different formats: "
                          f"{shown}. Fix: drop --format (each file's format is detected on its own), or give "
                          "--format only with files of one format.")
    return {fmt: files} if fmt and files else groups


def _attach_test(parts: list[dict], groups: dict[str, list[str]], test: str, fmt: str | None) -> None:
    """Give ``test`` to the part of the files in its format; a ConfigError when no such part, or none at all."""
    found = fmt or detect_format(test)
    formats = list(groups)
    if found not in formats:
        raise ConfigError(f"--test {test}: its format ({found}) matches none of the --data files' "
                          f"({', '.join(formats) or 'only dataset names'}). Fix: give a test file in the format "
                          "of the training files it belongs to (a saved dataset keeps its own test file).")
    parts[formats.index(found)]["test"] = test


def combined_source(datasets: list[dict]) -> dict:
    """One source for saved datasets picked together (``list_datasets`` entries); one dataset keeps its own."""
    if len(datasets) == 1:
        return datasets[0]["source"]
    return {"combine": [{**d["source"], "name": d["name"]} for d in datasets]}

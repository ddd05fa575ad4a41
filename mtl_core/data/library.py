"""The dataset library: uploaded files kept server-side, and named datasets a study can be run on (again).

An upload is stored once per content: ``<uploads>/<sha256 prefix>/<original name>``. A dataset is a
name plus a ``source`` dict that ``sources.load_source`` accepts, recorded in the store (``Store.save_dataset``)
with its tasks and size, so the Tasks page (or a re-run months later) loads exactly the same data.
"""
from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path, PurePosixPath, PureWindowsPath

from mtl_core.data.catalog import find_dataset, load_catalog
from mtl_core.data.corpus import Corpus
from mtl_core.data.loaders import detect_format
from mtl_core.data.loaders.csv_loader import read_table
from mtl_core.data.sources import load_source
from mtl_core.data.synthetic import SyntheticConfig
from mtl_core.errors import ConfigError, DataError, MTLLabError
from mtl_core.paths import safe_child, uploads_dir
from mtl_core.store import Store

UPLOAD_MB_ENV = "MTL_LAB_MAX_UPLOAD_MB"
DEFAULT_UPLOAD_MB = 50
UPLOAD_TYPES = ("csv", "tsv", "tab", "txt", "xml", "conll", "iob", "bio",
                "train", "testa", "testb", "test", "dev")  # the CoNLL shared tasks name files esp.train, esp.testa, ...
MAX_NAME_BYTES = 200  # file systems allow 255 bytes per name; our temporary ".<hex>.part" name needs some
HASH_CHARS = 16  # sha256 prefix naming an upload's folder: collisions need ~2^32 different uploads


def max_upload_mb() -> int:
    """The upload size limit in MB: ``$MTL_LAB_MAX_UPLOAD_MB`` or 50."""
    raw = os.environ.get(UPLOAD_MB_ENV, "").strip()
    if not raw:
        return DEFAULT_UPLOAD_MB
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigError(f"The {UPLOAD_MB_ENV} setting must be a whole number of megabytes (1 or more). "
                          f"Got {raw!r} instead.")
    return int(raw)


def save_upload(filename: str, data: bytes) -> Path:
    """Keep an uploaded file as ``<uploads>/<sha256 prefix>/<filename>``; the same bytes are stored once."""
    limit = max_upload_mb()
    if len(data) > limit * 2**20:
        raise DataError(filename, f"the file is {len(data) / 2**20:.1f} MB, over the upload limit of {limit} MB.",
                        f"Upload a smaller sample, or raise the limit: set {UPLOAD_MB_ENV} (and Streamlit's "
                        "server.maxUploadSize) and restart the app.")
    if not data:
        raise DataError(filename, "the file is empty.", "Upload the file that holds the examples.")
    if not isinstance(filename, str) or PurePosixPath(filename).name != filename \
            or PureWindowsPath(filename).name != filename:
        raise DataError(repr(filename), "an upload's name must be a plain file name, without folders.",
                        "Rename the file (e.g. reviews.csv) and upload it again.")
    if len(filename.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        raise DataError(repr(filename[:60] + "..."), f"an upload's name may have at most {MAX_NAME_BYTES} bytes "
                        f"(this one has {len(filename.encode('utf-8', 'surrogatepass'))}).",
                        "Rename the file to a shorter name (e.g. reviews.csv) and upload it again.")
    folder = uploads_dir() / hashlib.sha256(data).hexdigest()[:HASH_CHARS]
    try:
        target = safe_child(folder, filename)
    except ValueError as exc:
        raise DataError(repr(filename), str(exc), "Rename the file (e.g. reviews.csv) and upload it again.") from None
    if target.is_file() and target.stat().st_size == len(data):  # same hash prefix and size: kept already
        return target
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{uuid.uuid4().hex}.part"
    tmp.write_bytes(data)
    tmp.replace(target)  # a reader never sees half a file
    return target


def table_columns(paths: list[str | Path]) -> list[str]:
    """The column names of the first CSV/TSV file among ``paths`` ([] when none is tabular)."""
    for path in paths:
        fmt = detect_format(path)
        if fmt in ("csv", "tsv"):
            names, _, _ = read_table(path, fmt)
            return names
    return []


def preview_rows(corpus: Corpus, n: int = 10) -> list[dict]:
    """The first ``n`` examples: text, then each task's label (tags joined by spaces; '' when absent)."""
    rows = []
    for i in range(min(n, len(corpus))):
        row = {"text": corpus.texts[i]}
        for task, column in corpus.annotations.items():
            label = column[i]
            row[task] = " ".join(label) if isinstance(label, list) else ("" if label is None else label)
        rows.append(row)
    return rows


def synthetic_source(partners: list[dict], n_examples: int = 400, label_noise: float = 0.05,
                     positive_rate: float = 0.5, shared_examples: bool = False, seed: int = 0,
                     base_cues: int = 12) -> dict:
    """A ``{"synthetic": ...}`` source: a base task plus ``partners`` ({name, shared_cues,
    contradicting_cues, private_cues}), all with the same size, noise and positive rate. Checked here."""
    common = {"n_examples": n_examples, "label_noise": label_noise, "positive_rate": positive_rate}
    tasks = [{"name": "base", "shared_cues": 0, "contradicting_cues": 0, "private_cues": 0, **common}]
    tasks += [{**p, **common} for p in partners]
    names = [t["name"] for t in tasks]
    if len(set(names)) < len(names) or not all(str(n).strip() for n in names):
        raise ConfigError(f"Synthetic task names must be non-empty and unique. Got {names} instead.")
    for p in partners:
        borrowed = p.get("shared_cues", 0) + p.get("contradicting_cues", 0)
        if borrowed > base_cues or borrowed + p.get("private_cues", 0) < 1:
            raise ConfigError(f"Task '{p['name']}' needs 1 or more cue words, and at most {base_cues} shared plus "
                              f"contradicting ones (the base task has {base_cues}). Got {borrowed} shared plus "
                              f"contradicting and {p.get('private_cues', 0)} private instead.")
    config = {"base_cues": base_cues, "shared_examples": shared_examples, "seed": seed, "tasks": tasks}
    SyntheticConfig.from_dict(config)  # unknown keys fail here, not later in a study
    return {"synthetic": config}


def catalog_rows() -> list[dict]:
    """Every catalog dataset: name, title, licence, citation, source, and the local folder ('' if not found)."""
    rows = []
    for entry in load_catalog().values():
        try:
            local = str(find_dataset(entry.name))
        except MTLLabError:
            local = ""
        rows.append({"name": entry.name, "title": entry.title, "licence": entry.licence,
                     "citation": entry.citation, "source_url": entry.source_url,
                     "downloadable": entry.fetch, "local": local})
    return rows


def catalog_source(name: str, data_dir: str | Path | None = None) -> dict:
    """A ``{"files": ...}`` source for the locally found catalog dataset ``name`` (its data files only)."""
    entry = load_catalog()[name]
    folder = find_dataset(name, data_dir)
    files = [f.path for f in entry.files]
    if entry.format == "csv":  # e.g. a topic list beside the table is not data
        files = [f for f in files if Path(f).suffix.lower() in (".csv", ".tsv", ".tab")]
    return {"files": [str(folder / f) for f in files], "format": entry.format if entry.format != "csv" else None}


def register_dataset(name: str, source: dict, store: Store | None = None) -> str:
    """Record ``source`` under ``name`` (loaded once here, so a bad source fails now); returns its id.

    Saving again under a name already used replaces that entry (same id).
    """
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ConfigError(f"A dataset name must have 1 to 100 characters. Got {name!r} instead.")
    corpus = load_source(source).corpus
    tasks = {t: dict(spec.__dict__) for t, spec in corpus.tasks.items()}
    return (store or Store()).save_dataset(name, source, tasks, len(corpus))


def list_datasets(store: Store | None = None) -> list[dict]:
    """Saved datasets, newest first: {id, name, source, tasks: {task: TaskSpec dict}, n_examples, created}."""
    return [{key: d[key] for key in ("id", "name", "source", "tasks", "n_examples", "created")}
            for d in (store or Store()).datasets()]

"""Dataset catalog: the public datasets MTL Lab knows, where to find them locally, how to fetch or import them.

``assets/catalog.json`` lists each dataset's source, licence, citation and files with their SHA-256. The
files never ship with MTL Lab: ``fetch`` downloads them (or ``import_folder`` copies them from a folder the
user downloaded by hand) into ``<MTL Lab home>/data/NAME/``, checking every checksum first.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from mtl_core.errors import ConfigError, DataError
from mtl_core.paths import DATA_DIR_ENV, data_dirs, mtl_home

CATALOG_PATH = Path(__file__).resolve().parents[2] / "assets" / "catalog.json"
FORMATS = ("uci", "semeval", "conll", "csv")
ARCHIVES = ("zip", None)
MAX_DOWNLOAD_BYTES = 500 * 1024 * 1024  # far above any catalog dataset; stops a wrong URL filling the disk
CHUNK = 1 << 20


@dataclass(frozen=True)
class CatalogFile:
    path: str           # file name inside the dataset folder
    member: str | None  # path inside the downloaded archive (None: the download is the file itself)
    sha256: str


@dataclass(frozen=True)
class CatalogEntry:
    name: str
    title: str
    citation: str
    licence: str
    source_url: str
    fetch: bool               # False: import-only, the source cannot be downloaded as these files
    archive: str | None       # "zip" or None
    files: tuple[CatalogFile, ...]
    format: str               # loader format of the data files: uci / semeval / conll / csv
    description: str


def _parse_entry(raw: dict, where: str) -> CatalogEntry:
    names = [f.name for f in CatalogEntry.__dataclass_fields__.values()]
    unknown, missing = set(raw) - set(names), set(names) - set(raw)
    if unknown or missing:
        raise ConfigError(f"{where}: unknown keys {sorted(unknown)}, missing keys {sorted(missing)}.")
    if raw["format"] not in FORMATS or raw["archive"] not in ARCHIVES:
        raise ConfigError(f"{where}: 'format' must be one of {FORMATS} and 'archive' one of {ARCHIVES}. "
                          f"Got {raw['format']!r} and {raw['archive']!r} instead.")
    files = tuple(CatalogFile(f["path"], f.get("member"), f["sha256"].lower()) for f in raw["files"])
    return CatalogEntry(**{**raw, "files": files})


def load_catalog() -> dict[str, CatalogEntry]:
    """Every catalog entry by name, read from ``assets/catalog.json``."""
    raw = json.loads(CATALOG_PATH.read_text(encoding="utf-8"))
    entries = [_parse_entry(item, f"{CATALOG_PATH.name}, entry {i}") for i, item in enumerate(raw, 1)]
    return {e.name: e for e in entries}


def get_entry(name: str) -> CatalogEntry:
    """The catalog entry ``name``; ConfigError naming the known datasets otherwise."""
    catalog = load_catalog()
    if name not in catalog:
        raise ConfigError(f"The dataset name must be one of {sorted(catalog)}. Got {name!r} instead.")
    return catalog[name]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _import_hint(entry: CatalogEntry) -> str:
    files = ", ".join(f.path for f in entry.files)
    get = (f"download {entry.source_url} yourself (e.g. on another machine)" if entry.fetch
           else f"get the files ({files}; original source: {entry.source_url})")
    return (f"{get} and run `python -m mtl_core data import {entry.name} FOLDER`, or put {files} in a folder "
            f"named {entry.name}/ inside a folder given by {DATA_DIR_ENV} or --data-dir.")


def find_dataset(name: str, data_dir: str | Path | None = None) -> Path:
    """The first ``FOLDER/name`` among ``data_dirs(data_dir)`` holding all the dataset's files."""
    entry = get_entry(name)
    searched = [folder / name for folder in data_dirs(data_dir)]
    for folder in searched:
        if all((folder / f.path).is_file() for f in entry.files):
            return folder
    fix = (f"Run `python -m mtl_core data fetch {name}`. If you already have the files, set {DATA_DIR_ENV} "
           f"(or use --data-dir) to the folder that holds {name}/." if entry.fetch
           else f"This dataset cannot be downloaded automatically: {_import_hint(entry)}")
    raise DataError(name, f"dataset not found; looked for {', '.join(f.path for f in entry.files)} in: "
                    f"{', '.join(str(p) for p in searched)}.", fix)


def verify(name: str, folder: str | Path) -> list[str]:
    """Problems with the dataset's files in ``folder`` (missing, or checksum differs); [] when all good."""
    entry, folder = get_entry(name), Path(folder)
    problems = []
    for f in entry.files:
        path = folder / f.path
        if not path.is_file():
            problems.append(f"{path}: missing.")
        elif (actual := sha256_of(path)) != f.sha256:
            problems.append(f"{path}: SHA-256 {actual} differs from the catalog's {f.sha256} "
                            "(a changed, truncated or different version of the file).")
    return problems


def _copy_checked(source: BinaryIO, target: Path, expected: str, label: str) -> None:
    """Copy ``source`` to ``target``, raising DataError if its SHA-256 is not ``expected``."""
    digest, size = hashlib.sha256(), 0
    with open(target, "wb") as out:
        for block in iter(lambda: source.read(CHUNK), b""):
            size += len(block)
            if size > MAX_DOWNLOAD_BYTES:
                raise DataError(label, f"larger than {MAX_DOWNLOAD_BYTES // 2**20} MB: not the expected file.",
                                "Check the URL or file you gave.")
            digest.update(block)
            out.write(block)
    if digest.hexdigest() != expected:
        raise DataError(label, f"SHA-256 {digest.hexdigest()} differs from the catalog's {expected}: the file "
                        "is corrupted or a different version.",
                        "Try again; if it persists, get the original file and import it, or report the "
                        "changed source.")


def _zip_member(archive: zipfile.ZipFile, f: CatalogFile, label: str) -> str:
    """The member holding ``f``: its catalog path, else the one member with the same file name."""
    names = archive.namelist()
    if f.member in names:
        return f.member
    wanted = {PurePosixPath(f.member).name if f.member else f.path, f.path}
    matches = [n for n in names if PurePosixPath(n).name in wanted and not n.startswith("__MACOSX/")]
    if len(matches) != 1:
        raise DataError(label, f"the archive has {'no' if not matches else 'several'} members named "
                        f"{f.path} (expected {f.member or f.path}).", "Check that it is the right archive.")
    return matches[0]


def _stage(entry: CatalogEntry, source: Path, staging: Path, label: str) -> None:
    """Fill ``staging`` with the entry's files, checked, from a zip archive or a single downloaded file."""
    if zipfile.is_zipfile(source):
        with zipfile.ZipFile(source) as archive:
            for f in entry.files:
                member = _zip_member(archive, f, label)
                with archive.open(member) as data:
                    _copy_checked(data, staging / f.path, f.sha256, f"{label} ({member})")
    elif len(entry.files) == 1 and entry.archive is None:
        with open(source, "rb") as data:
            _copy_checked(data, staging / entry.files[0].path, entry.files[0].sha256, label)
    else:
        raise DataError(label, "this is not a zip archive, but the dataset's files come in one.",
                        "Check the URL or file: it should be the zip archive named in the catalog.")


def _install(name: str, staging: Path, dest: Path) -> Path:
    """Move the checked ``staging`` folder to ``dest/name`` in one rename (a previous copy is replaced)."""
    final, old = dest / name, None
    if final.exists():
        old = Path(tempfile.mkdtemp(dir=dest, prefix=f".{name}.old-"))
        os.replace(final, old / name)
    os.replace(staging, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return final


def _download(url: str, target: Path, timeout: float, entry: CatalogEntry) -> None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, open(target, "wb") as out:
            size = 0
            for block in iter(lambda: response.read(CHUNK), b""):
                size += len(block)
                if size > MAX_DOWNLOAD_BYTES:
                    raise DataError(url, f"the download exceeds {MAX_DOWNLOAD_BYTES // 2**20} MB.",
                                    "Check the URL: it should be the dataset's archive.")
                out.write(block)
    except urllib.error.HTTPError as e:
        raise DataError(url, f"the source answered HTTP {e.code} ({e.reason}).",
                        f"The file may have moved; {_import_hint(entry)}") from None
    except (urllib.error.URLError, OSError, ValueError) as e:
        reason = getattr(e, "reason", None) or e
        raise DataError(url, f"could not reach the source ({reason}); this machine may be offline or the "
                        "site down.", f"Try again later, or {_import_hint(entry)}") from None


def fetch(name: str, dest: str | Path | None = None, url: str | None = None, timeout: float = 30) -> Path:
    """Download dataset ``name`` into ``dest/name`` (default ``<home>/data/name``), checking every file.

    ``url`` overrides the catalog's source (e.g. a mirror, or a ``file://`` URL). An existing folder whose
    files all check out is returned as is. Nothing is left behind when the download or a check fails.
    """
    entry = get_entry(name)
    if not entry.fetch and url is None:
        hint = _import_hint(entry)
        raise DataError(name, f"{entry.title} cannot be downloaded automatically (import-only): "
                        f"{entry.description}", hint[0].upper() + hint[1:])
    dest = Path(dest) if dest is not None else mtl_home() / "data"
    if (dest / name).is_dir() and not verify(name, dest / name):
        return dest / name
    dest.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=dest, prefix=f".{name}.partial-"))  # same disk: the final move is a rename
    try:
        download = work / "download"
        _download(url or entry.source_url, download, timeout, entry)
        (work / name).mkdir()
        _stage(entry, download, work / name, url or entry.source_url)
        return _install(name, work / name, dest)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def import_folder(name: str, folder: str | Path) -> Path:
    """Copy dataset ``name`` from a folder (or a downloaded .zip) into ``<home>/data/name``, checked first."""
    entry, folder = get_entry(name), Path(folder).expanduser()
    if not folder.exists():
        raise DataError(folder, "no such folder or file.", f"Give the folder that holds {entry.files[0].path}.")
    if folder.is_dir() and not (folder / entry.files[0].path).exists() and (folder / name).is_dir():
        folder = folder / name  # the user gave the parent of NAME/, as in MTL_LAB_DATA_DIR
    dest = mtl_home() / "data"
    dest.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=dest, prefix=f".{name}.partial-"))
    try:
        (work / name).mkdir()
        if folder.is_file():
            _stage(entry, folder, work / name, str(folder))
        else:
            if problems := verify(name, folder):
                raise DataError(folder, f"the files of {name} do not check out: {' '.join(problems)}",
                                f"Give the folder holding the original files; {_import_hint(entry)}")
            for f in entry.files:
                shutil.copyfile(folder / f.path, work / name / f.path)
            if problems := verify(name, work / name):  # changed while copying
                raise DataError(folder, " ".join(problems), "Copy the files again.")
        return _install(name, work / name, dest)
    finally:
        shutil.rmtree(work, ignore_errors=True)

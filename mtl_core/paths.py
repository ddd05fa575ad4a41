"""Where MTL Lab keeps things: its home (store, uploads, fetched data) and the folders searched for data.

- ``MTL_LAB_HOME``: the home folder (default ``~/.mtl_lab``), created on first use.
- ``MTL_LAB_DATA_DIR``: extra folder(s) holding datasets, one sub-folder per dataset
  (several folders: join them with ``os.pathsep``, ':' on Linux and macOS).
- ``MTL_LAB_STATE_CACHE_MB``: how much disk the frozen encoders' states may take under ``home/states``
  (``mtl_core.models.state_cache``; 0 keeps them in memory only).
"""
from __future__ import annotations

import os
from pathlib import Path, PurePosixPath, PureWindowsPath

HOME_ENV = "MTL_LAB_HOME"
DATA_DIR_ENV = "MTL_LAB_DATA_DIR"
STATE_CACHE_ENV = "MTL_LAB_STATE_CACHE_MB"


def mtl_home() -> Path:
    """The MTL Lab home folder: ``$MTL_LAB_HOME`` or ``~/.mtl_lab``; created if missing."""
    home = Path(os.environ.get(HOME_ENV) or Path.home() / ".mtl_lab").expanduser()
    home.mkdir(parents=True, exist_ok=True)
    return home


def data_dirs(extra: str | Path | None = None) -> list[Path]:
    """Folders searched for datasets, first match wins: ``extra`` (--data-dir), $MTL_LAB_DATA_DIR, home/data."""
    found: list[Path] = []
    if extra:
        found.append(Path(extra).expanduser())
    found += [Path(p).expanduser() for p in os.environ.get(DATA_DIR_ENV, "").split(os.pathsep) if p.strip()]
    found.append(mtl_home() / "data")
    unique: list[Path] = []
    for folder in found:
        if folder not in unique:
            unique.append(folder)
    return unique


def uploads_dir() -> Path:
    """Where the app keeps files a user uploaded; created if missing."""
    folder = mtl_home() / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def states_dir() -> Path:
    """Where frozen pretrained encoders' states are kept on disk (``mtl_core.models.state_cache``); not created."""
    return mtl_home() / "states"


def store_path() -> Path:
    """The SQLite store of runs and studies."""
    return mtl_home() / "mtl_lab.sqlite"


def safe_child(base: str | Path, name: str) -> Path:
    """``base/name`` resolved, for a user-supplied ``name``; ValueError if it would leave ``base``.

    Absolute paths, drive letters, '..' parts (with '/' or '\\' separators) and NUL bytes are refused, and so
    is a name that resolves outside ``base`` through a symbolic link.
    """
    if not isinstance(name, str) or not name.strip() or "\x00" in name:
        raise ValueError(f"A file name must be a non-empty string without NUL bytes. Got {name!r} instead.")
    windows = PureWindowsPath(name)  # also catches 'C:\\x', '\\\\server\\share' and '..\\x' on Linux
    if PurePosixPath(name).is_absolute() or windows.is_absolute() or windows.drive or windows.root:
        raise ValueError(f"A file name must be relative to {base}, not an absolute path. Got {name!r} instead.")
    if ".." in windows.parts:
        raise ValueError(f"A file name must not contain '..' (it would leave {base}). Got {name!r} instead.")
    root = Path(base).resolve()
    target = (root / name).resolve()
    if target == root or root not in target.parents:
        raise ValueError(f"The file name {name!r} does not name a file inside {base}.")
    return target

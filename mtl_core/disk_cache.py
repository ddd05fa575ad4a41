"""Small results kept on disk under MTL Lab's home, one JSON file per key, shared by every process and study.

Used for work whose result depends only on its inputs (``JsonCache``'s users say what goes into their key): the
TF-IDF + LR baseline of a task and split, the spaCy tokens of a dataset, a dataset's seeded split. A value is
written under a temporary name and renamed into place (a crashed writer leaves no half file); a file that does not
parse is ignored (its value is computed and written again); past ``max_files`` files, those used longest ago are
deleted (a read refreshes a file's time). A disk that is full or read-only only loses the cache, never the
caller's work.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import uuid
from contextlib import suppress
from pathlib import Path
from typing import Any

from mtl_core.paths import mtl_home

log = logging.getLogger(__name__)


def digest(*parts: Any) -> "hashlib._Hash":
    """A SHA-256 started with ``parts`` (JSON); callers ``update`` it with their bulk data."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode())


class JsonCache:
    """``<MTL_LAB_HOME>/<folder>/<key>.json`` files, at most ``max_files`` of them."""

    def __init__(self, folder: str, max_files: int):
        self.folder_name = folder
        self.max_files = max_files

    @property
    def folder(self) -> Path:
        return mtl_home() / self.folder_name  # read each time: the home may change (tests, the CLI's --home)

    def get(self, key: str) -> Any | None:
        path = self.folder / f"{key}.json"
        try:
            value = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            log.warning("%s cache: %s could not be read; computing it again", self.folder_name, path.name)
            return None
        with suppress(OSError):
            os.utime(path)
        return value

    def put(self, key: str, value: Any) -> None:
        folder = self.folder
        try:
            folder.mkdir(parents=True, exist_ok=True)
            temporary = folder / f".{key}.{uuid.uuid4().hex}.tmp"
            temporary.write_text(json.dumps(value), encoding="utf-8")
            os.replace(temporary, folder / f"{key}.json")
            self.evict()
        except OSError as exc:
            log.warning("%s cache: could not keep %s (%s)", self.folder_name, key, exc)

    def evict(self) -> None:
        """Delete the files used longest ago beyond ``max_files``."""
        files = list(self.folder.glob("*.json"))
        for old in sorted(files, key=_last_used)[: max(0, len(files) - self.max_files)]:
            with suppress(OSError):
                old.unlink()


def _last_used(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:  # deleted meanwhile by another process
        return 0.0

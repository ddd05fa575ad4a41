"""Frozen encoder states kept on disk: each sentence is encoded once, then read by every run, worker process and
later study on the same data (``PretrainedEmbedder`` looks states up here before it encodes anything).

Layout: ``<MTL_LAB_HOME>/states/<encoder>-<fingerprint>/layers-<k>/*.states``.

- The folder names the encoder by where its files are and fingerprints what they hold (a hash of the weights,
  config and tokenizer files, and of how states are computed). New weights at the same place get a new folder,
  and the old one is deleted: states of an encoder that changed are never read.
- ``layers-<k>``: the layer mix (mean of the top k layers); another mix misses.
- A sentence's key is a hash of its word pieces, not of our vocabulary ids (which differ between studies), so a
  later study on the same sentences finds them.
- A shard (``.states`` file) is written once, under a temporary name, then renamed into place (``os.replace``):
  a crashed writer leaves no half file. It holds a 64-byte header (magic, format, hidden size, sentences, rows,
  hash of the index), the index (16-byte key, first row, rows per sentence) and the states (rows x hidden,
  bfloat16), which are memory-mapped: processes share them through the page cache. A shard whose size, header or
  index does not check out is deleted when opened, and its sentences are encoded again.
- Size: at most ``MTL_LAB_STATE_CACHE_MB`` (default 2048; 0 keeps states in memory only) under ``states/``; past
  it, the shards used longest ago are deleted first (a process refreshes a shard's mtime when it opens it).
"""
from __future__ import annotations

import atexit
import hashlib
import logging
import os
import re
import shutil
import struct
import threading
import time
import uuid
from collections import OrderedDict
from contextlib import suppress
from pathlib import Path

import numpy as np
import torch

from mtl_core.errors import ConfigError
from mtl_core.paths import STATE_CACHE_ENV, states_dir

log = logging.getLogger(__name__)

MAGIC, FORMAT = b"MTLSTATE", 1
HEADER = struct.Struct("<8sIIQQ16s")  # magic, format, hidden size, sentences, rows, blake2b-128 of the index
HEADER_BYTES = 64                     # header padded: the states start 2-byte aligned after a 32-byte-per-row index
KEY_BYTES = 16
SUFFIX = ".states"
DEFAULT_MB = 2048
FLUSH_SENTENCES = 4096     # fresh states in memory: written as one shard at this many
MAX_SHARDS = 8             # shards in one folder: past this, merged into one
MEMORY_ROWS = 200_000      # fresh sentences' states kept in memory (without a disk cache: the oldest go past it)
STALE_SECONDS = 3600       # a temporary file or merge lock this old was left by a process that died
ENCODER_FILES = ("config.json", "model.safetensors", "pytorch_model.bin", "tokenizer.json", "vocab.txt",
                 "tokenizer_config.json", "special_tokens_map.json")
_DIGESTS: dict[tuple, str] = {}
_CACHES: dict[tuple, StateCache] = {}


class CorruptShard(ValueError):
    """A shard file whose size, header or index does not check out."""


def limit_bytes() -> int:
    """``$MTL_LAB_STATE_CACHE_MB`` in bytes (default 2048 MB; 0: no disk cache)."""
    raw = os.environ.get(STATE_CACHE_ENV, "").strip()
    try:
        mb = float(raw) if raw else DEFAULT_MB
    except ValueError:
        mb = -1.0
    if mb < 0:
        raise ConfigError(f"{STATE_CACHE_ENV} must be a number of megabytes, 0 or more. Got {raw!r} instead.")
    return int(mb * 2**20)


def sentence_key(pieces: bytes) -> bytes:
    """A sentence's key: a hash of its words' piece ids (the encoder's own ids, the same in every study)."""
    return hashlib.blake2b(pieces, digest_size=KEY_BYTES).digest()


def file_digest(path: Path) -> str:
    """sha256 of a file, once per process per (path, size, mtime) (MiniLM's 90 MB: ~0.1 s)."""
    stat = path.stat()
    memo = (str(path), stat.st_size, stat.st_mtime_ns)
    if memo not in _DIGESTS:
        with open(path, "rb") as f:
            _DIGESTS[memo] = hashlib.file_digest(f, "sha256").hexdigest()
    return _DIGESTS[memo]


def encoder_folder_name(model_folder: Path, variant: str) -> str:
    """``<where>-<fingerprint>``: the model folder's last two parts and a hash of its place, then a hash of its
    files' contents and of ``variant`` (how states are computed)."""
    model_folder = Path(model_folder).resolve()
    where = re.sub(r"[^A-Za-z0-9._]+", "_", f"{model_folder.parent.name}_{model_folder.name}")[-40:]
    place = hashlib.blake2b(str(model_folder).encode(), digest_size=4).hexdigest()
    content = hashlib.blake2b(f"{FORMAT}|{variant}".encode(), digest_size=8)
    for name in ENCODER_FILES:
        if (model_folder / name).is_file():
            content.update(f"|{name}:{file_digest(model_folder / name)}".encode())
    return f"{where}-{place}-{content.hexdigest()}"


def write_shard(folder: Path, states: dict[bytes, torch.Tensor]) -> Path:
    """Write ``states`` (key -> (rows, hidden)) as one new shard in ``folder``, atomically; its path."""
    keys = list(states)
    lengths = np.array([states[k].shape[0] for k in keys], dtype="<u8")
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype("<u8")
    index = b"".join(keys) + np.stack([starts, lengths], 1).tobytes()
    rows = torch.cat([states[k] for k in keys]).to(torch.bfloat16).contiguous()   # (R, H)
    header = HEADER.pack(MAGIC, FORMAT, rows.shape[1], len(keys), rows.shape[0],
                         hashlib.blake2b(index, digest_size=16).digest()).ljust(HEADER_BYTES, b"\0")
    folder.mkdir(parents=True, exist_ok=True)
    temp = folder / f".{uuid.uuid4().hex}.tmp"
    try:
        with open(temp, "wb") as f:
            f.write(header)
            f.write(index)
            f.write(rows.view(torch.int16).numpy().tobytes())
            f.flush()
            os.fsync(f.fileno())
        final = folder / f"{time.time_ns():x}-{os.getpid()}-{uuid.uuid4().hex[:8]}{SUFFIX}"
        os.replace(temp, final)  # atomic: readers see the whole shard or none
    finally:
        temp.unlink(missing_ok=True)
    return final


class Shard:
    """One shard, checked and memory-mapped; ``get(key)`` -> that sentence's (rows, hidden) bfloat16 states."""

    def __init__(self, path: Path, hidden: int):
        self.path = path
        size = path.stat().st_size
        with open(path, "rb") as f:
            head = f.read(HEADER_BYTES)
            if len(head) < HEADER_BYTES:
                raise CorruptShard(f"{path}: {size} bytes, shorter than its header")
            magic, fmt, width, n, rows, digest = HEADER.unpack_from(head)
            if magic != MAGIC or fmt != FORMAT or width != hidden:
                raise CorruptShard(f"{path}: not a format-{FORMAT} shard of {hidden}-wide states")
            index = f.read(2 * KEY_BYTES * n)
        if size != HEADER_BYTES + len(index) + 2 * rows * width:
            raise CorruptShard(f"{path}: {size} bytes, its header says {HEADER_BYTES + 32 * n + 2 * rows * width}")
        if hashlib.blake2b(index, digest_size=16).digest() != digest:
            raise CorruptShard(f"{path}: its index does not match its checksum")
        spans = np.frombuffer(index, dtype="<u8", offset=KEY_BYTES * n).reshape(n, 2).astype(np.int64)
        if n and int((spans[:, 0] + spans[:, 1]).max()) > rows:
            raise CorruptShard(f"{path}: its index points past its states")
        self.spans = {index[KEY_BYTES * i: KEY_BYTES * (i + 1)]: (int(s), int(s + m)) for i, (s, m) in enumerate(spans)}
        # copy-on-write mapping: writable for torch, never written, pages shared with every process reading it
        self.states = (np.memmap(path, dtype="<i2", mode="c", offset=HEADER_BYTES + len(index), shape=(rows, width))
                       if rows else np.zeros((0, width), dtype="<i2"))

    def get(self, key: bytes) -> torch.Tensor:
        start, end = self.spans[key]
        return torch.from_numpy(self.states[start:end]).view(torch.bfloat16)    # (rows, hidden), no copy


class StateCache:
    """One encoder's states under one layer mix: in memory first, then the shards in ``folder`` (None: memory
    only). ``missing`` -> ``put`` what was encoded -> ``get``. Fresh states stay in memory until they are written
    as a shard (every ``FLUSH_SENTENCES``, on ``flush()`` and at exit), then are read from the mapped shard (the
    page cache, shared by every process). Thread-safe: the app's threads may share one."""

    def __init__(self, folder: Path | None, hidden: int, limit: int):
        self.folder, self.hidden, self.limit = folder, hidden, limit
        self.lock = threading.RLock()
        self.memory: OrderedDict[bytes, torch.Tensor] = OrderedDict()  # fresh states (all of them: no folder)
        self.shards: dict[str, Shard] = {}
        self.where: dict[bytes, Shard] = {}
        self.refresh()

    def __deepcopy__(self, memo: dict) -> StateCache:
        return self  # one per process, shared by every model that holds it

    def refresh(self) -> None:
        """Open the shards written since the last look, by this process or another; delete damaged ones."""
        with self.lock:
            if self.folder is not None and self.folder.is_dir():
                for path in sorted(self.folder.glob("*" + SUFFIX)):
                    if path.name not in self.shards:
                        self.open_shard(path)

    def open_shard(self, path: Path) -> None:
        try:
            shard = Shard(path, self.hidden)
        except FileNotFoundError:  # merged or evicted by another process meanwhile
            return
        except CorruptShard as exc:
            log.warning("Deleting a damaged state cache file; its sentences will be encoded again: %s", exc)
            remove(path)
            return
        with suppress(OSError):  # a read-only cache is read as it is
            os.utime(path)  # last used: eviction deletes the shards used longest ago
        self.shards[path.name] = shard
        for key in shard.spans:
            self.where.setdefault(key, shard)

    def __contains__(self, key: bytes) -> bool:
        return key in self.memory or key in self.where

    def missing(self, keys: list[bytes]) -> list[int]:
        """Positions of ``keys`` with no states yet (looking again on disk before answering)."""
        absent = [k for k, key in enumerate(keys) if key not in self]
        if absent and self.folder is not None:
            self.refresh()
            absent = [k for k in absent if keys[k] not in self]
        return absent

    def get(self, key: bytes) -> torch.Tensor:
        with self.lock:
            state = self.memory.get(key)
            return state if state is not None else self.where[key].get(key)

    def put(self, key: bytes, state: torch.Tensor) -> None:
        """Keep one sentence's fresh (rows, hidden) states; written to disk with the next shard."""
        with self.lock:
            self.memory[key] = state.to(torch.bfloat16)
            if len(self.memory) > MEMORY_ROWS:
                self.memory.popitem(last=False)
            if self.folder is not None and len(self.memory) >= FLUSH_SENTENCES:
                self.flush()

    def flush(self) -> None:
        """Write the fresh states as one shard, then read them from it; merge the folder's shards past
        ``MAX_SHARDS``; evict past the limit. A disk that refuses (full, read-only) leaves this cache in memory
        only, with a warning: a run never fails for its cache."""
        with self.lock:
            if self.folder is None or not self.memory:
                return
            try:
                written = write_shard(self.folder, self.memory)
                self.open_shard(written)
                self.memory = OrderedDict((k, v) for k, v in self.memory.items() if k not in self.where)
                if len(self.shards) > MAX_SHARDS:
                    self.merge()
                evict(self.folder.parent.parent, self.limit)
            except OSError as exc:
                log.warning("Frozen encoder states stay in memory only; the disk cache %s failed: %s",
                            self.folder, exc)
                self.folder = None

    def merge(self) -> None:
        """All of this folder's shards rewritten as one (one process at a time, by a lock file)."""
        lock = self.folder / ".merging"
        with suppress(FileNotFoundError):
            if time.time() - lock.stat().st_mtime > STALE_SECONDS:  # left by a process that died
                remove(lock)
        try:
            os.close(os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return  # another process is merging
        try:
            old = [shard for shard in self.shards.values() if shard.path.exists()]
            merged = write_shard(self.folder, {key: shard.get(key) for shard in old for key in shard.spans})
            for shard in old:
                remove(shard.path)
            self.shards, self.where = {}, {}
            self.open_shard(merged)
            self.refresh()
        finally:
            remove(lock)


def remove(path: Path) -> None:
    """Delete ``path`` if it is there and may be deleted (a file another process maps may not be, on Windows)."""
    with suppress(OSError):
        path.unlink(missing_ok=True)


def evict(root: Path, limit: int) -> None:
    """Delete the shards under ``root`` used longest ago until they take at most ``limit`` bytes; and temporary
    files left by processes that died."""
    for temp in root.rglob("*.tmp"):
        with suppress(FileNotFoundError):
            if time.time() - temp.stat().st_mtime > STALE_SECONDS:
                remove(temp)
    files = []
    for path in root.glob(f"*/layers-*/*{SUFFIX}"):
        with suppress(FileNotFoundError):
            stat = path.stat()
            files.append((stat.st_mtime, stat.st_size, path))
    total = sum(size for _, size, _ in files)
    for _, size, path in sorted(files):
        if total <= limit:
            break
        remove(path)
        total -= size


def encoder_dir(model_folder: Path, variant: str) -> Path:
    """The folder of ``model_folder``'s states (one sub-folder per layer mix) and of its ONNX export."""
    return states_dir() / encoder_folder_name(model_folder, variant)


def open_states(model_folder: Path, variant: str, layers: int, hidden: int) -> StateCache:
    """This process' cache of ``model_folder``'s encoder states under the top-``layers`` mix, computed the
    ``variant`` way. Opening it deletes the states of earlier weights found at the same place."""
    limit = limit_bytes()
    name = encoder_dir(model_folder, variant).name
    folder = states_dir() / name / f"layers-{layers}" if limit > 0 else None
    if (name, layers, str(folder)) not in _CACHES:
        if folder is not None:
            place = name.rsplit("-", 1)[0]
            for other in folder.parent.parent.glob(f"{place}-*"):
                if other.name != name:  # the encoder at this place changed: its states are stale
                    shutil.rmtree(other, ignore_errors=True)
        _CACHES[(name, layers, str(folder))] = StateCache(folder, hidden, limit)
    return _CACHES[(name, layers, str(folder))]


@atexit.register
def flush_all() -> None:
    """Write every cache's fresh states (also at exit)."""
    for cache in _CACHES.values():
        cache.flush()

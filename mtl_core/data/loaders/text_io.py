"""Read a data file safely: size limit, binary and empty files refused, encoding detected."""
from __future__ import annotations

import codecs
from pathlib import Path

from mtl_core.errors import DataError

DEFAULT_MAX_BYTES = 50 * 1024 * 1024  # 50 MB: far above our datasets, far below what a browser upload should be
SAMPLE_BYTES = 64 * 1024  # what format detection reads

# Windows code pages tried (before Latin-1) for non-UTF-8 files when the language is known.
FALLBACK_BY_LANGUAGE = {"ru": "cp1251", "uk": "cp1251", "bg": "cp1251", "sr": "cp1251",
                        "pl": "cp1250", "cs": "cp1250", "sk": "cp1250", "hu": "cp1250", "hr": "cp1250",
                        "ro": "cp1250", "sl": "cp1250", "el": "cp1253", "tr": "cp1254"}

# Leading bytes of common non-text files a user may pick by mistake.
BINARY_MAGIC = ((b"PK\x03\x04", "a ZIP archive (or an Excel .xlsx / Word .docx file)"),
                (b"%PDF", "a PDF document"), (b"\x1f\x8b", "a gzip archive"),
                (b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"),
                (b"\xd0\xcf\x11\xe0", "an old Microsoft Office file (.xls / .doc)"),
                (b"SQLite format 3", "an SQLite database"))
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
# Control bytes that never occur in text files (tab, LF, CR, FF are allowed).
CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 12, 13))
SAVE_AS_TEXT = "Export or save the file as plain text (UTF-8 CSV, TSV or TXT) and load that file."


def line_at(raw: bytes | str, index: int) -> int:
    """1-based line number of position ``index`` in ``raw``."""
    newline = b"\n" if isinstance(raw, bytes) else "\n"
    return raw.count(newline, 0, max(index, 0)) + 1  # type: ignore[arg-type]


def check_binary(raw: bytes, path: str | Path) -> None:
    """Refuse archives, images, NUL bytes and control-byte junk with a DataError saying what to do."""
    for magic, what in BINARY_MAGIC:
        if raw.startswith(magic):
            raise DataError(path, f"this looks like {what}, not a text file.", SAVE_AS_TEXT)
    if raw.startswith(UTF16_BOMS):
        return  # UTF-16 text is full of NUL bytes by design
    nul = raw.find(b"\x00")
    if nul >= 0:
        raise DataError(path, f"the file contains NUL bytes (first at byte {nul}): it is binary, or "
                        "UTF-16 text saved without a byte-order mark.",
                        "Save it as UTF-8 text (in most editors: Save As > Encoding: UTF-8).",
                        line=line_at(raw, nul))
    sample = raw[:SAMPLE_BYTES]
    junk = len(sample) - len(sample.translate(None, CONTROL_BYTES))
    if junk > max(8, len(sample) // 100):
        raise DataError(path, f"{junk} control bytes in the first {len(sample)} bytes: this is not a text file.",
                        SAVE_AS_TEXT)


def _check_readable(path: Path) -> None:
    if not path.exists():
        raise DataError(path, "file not found.", "Check the path and the file name (and its extension).")
    if path.is_dir():
        raise DataError(path, "this is a folder, not a file.", "Pass the data files inside it, one path each.")


def read_bytes(path: str | Path, max_bytes: int | None = None) -> bytes:
    """The file's bytes, after checks: exists, not over ``max_bytes`` (default 50 MB), not empty, not binary."""
    path = Path(path)
    _check_readable(path)
    limit = DEFAULT_MAX_BYTES if max_bytes is None else max_bytes
    size = path.stat().st_size
    if size > limit:
        raise DataError(path, f"the file is {size / 1e6:.1f} MB, over the {limit / 1e6:.1f} MB limit.",
                        "Split it into smaller files, or pass a larger max_bytes if you trust it.")
    with path.open("rb") as f:
        raw = f.read(limit + 1)  # the file may have grown since stat()
    if len(raw) > limit:
        raise DataError(path, f"the file is over the {limit / 1e6:.1f} MB limit.",
                        "Split it into smaller files, or pass a larger max_bytes if you trust it.")
    if not raw.strip():
        raise DataError(path, "the file is empty.", "Choose the file that holds the data, or add examples to it.")
    check_binary(raw, path)
    return raw


def decode(raw: bytes, path: str | Path, language_hint: str | None = None) -> tuple[str, list[str]]:
    """Text of ``raw``: UTF-8 (BOM or not), UTF-16 with a BOM, else a legacy code page with a warning."""
    name = Path(path).name
    try:
        if raw.startswith(codecs.BOM_UTF8):
            return raw[len(codecs.BOM_UTF8):].decode("utf-8"), []
        if raw.startswith(UTF16_BOMS):
            return raw.decode("utf-16"), []
        return raw.decode("utf-8"), []
    except UnicodeDecodeError as e:
        bad_line = line_at(raw, e.start)
        if raw.startswith(UTF16_BOMS):
            raise DataError(path, "the file starts with a UTF-16 byte-order mark but is not valid UTF-16.",
                            "Re-save it as UTF-8 text.", line=bad_line) from None
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8):]
    for encoding in (FALLBACK_BY_LANGUAGE.get((language_hint or "").lower()[:2]), "latin-1"):
        if encoding is None:
            continue
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        return text, [f"{name}: not valid UTF-8 (first bad byte on line {bad_line}); read as {encoding}. "
                      "If accented letters look wrong, re-save the file as UTF-8."]
    raise AssertionError("latin-1 decodes any bytes")  # pragma: no cover


def read_text(path: str | Path, max_bytes: int | None = None,
              language_hint: str | None = None) -> tuple[str, list[str]]:
    """(text, warnings) of a data file; raises DataError for missing, too big, empty or binary files."""
    raw = read_bytes(path, max_bytes)
    text, warnings = decode(raw, path, language_hint)
    if not text.strip():
        raise DataError(path, "the file is empty (only a byte-order mark or whitespace).",
                        "Choose the file that holds the data, or add examples to it.")
    return text, warnings


def read_sample(path: str | Path, size: int = SAMPLE_BYTES) -> str:
    """The first ``size`` bytes as text, for format detection (undecodable bytes replaced)."""
    path = Path(path)
    _check_readable(path)
    with path.open("rb") as f:
        raw = f.read(size)
    if not raw.strip():
        raise DataError(path, "the file is empty.", "Choose the file that holds the data, or add examples to it.")
    check_binary(raw, path)
    if raw.startswith(UTF16_BOMS):
        return raw[: len(raw) - len(raw) % 2].decode("utf-16", errors="replace")
    return raw.decode("utf-8-sig", errors="replace")

"""One bad input (``Case``) and the well-formed files the cases break, shared by every family of cases."""
from __future__ import annotations

from dataclasses import dataclass

BIG = 10 * 2**20  # "a 10 MB single line"
FORMATS = ("csv", "tsv", "uci", "lines", "conll", "semeval")
EXTENSION = {"csv": "csv", "tsv": "tsv", "uci": "txt", "lines": "txt", "conll": "conll", "semeval": "xml"}


@dataclass(frozen=True)
class Case:
    """One bad input. ``expect``: "error" (a clear MTLLabError), "warning" (loads; a report warning holds
    ``text``) or "load" (valid if odd, e.g. UTF-16 with a BOM: loads and the texts hold ``text``)."""

    name: str
    files: tuple[tuple[str, bytes], ...]  # (file name, content); the first is the bad one
    how: str  # a format name, "auto" (detected), "upload", or "test" (the last file is the --test file)
    expect: str
    line: int | None = None  # the line an error must name
    text: str = ""
    env: tuple[tuple[str, str], ...] = ()
    options: tuple[tuple[str, object], ...] = ()


def good_lines(fmt: str, n: int = 12) -> list[str]:
    """A small valid file of format ``fmt`` as lines (SemEval: one sentence element per line)."""
    if fmt in ("csv", "tsv"):
        d = "," if fmt == "csv" else "\t"
        return [f"text{d}label{d}topic"] + [f"review {i} says the soup was {'great' if i % 2 else 'cold'}{d}"
                                           f"{'pos' if i % 2 else 'neg'}{d}{'food' if i % 3 else 'service'}"
                                           for i in range(n)]
    if fmt == "uci":
        return [f"review {i} says the soup was {'great' if i % 2 else 'cold'}\t{i % 2}" for i in range(n)]
    if fmt == "lines":
        return [f"review {i} says the soup was great" for i in range(n)]
    if fmt == "conll":
        out = []
        for i in range(n // 3):
            out += [f"Madrid{i} B-LOC", "es O", f"grande{i} O", ""]
        return out
    return (['<?xml version="1.0" encoding="UTF-8"?>', "<sentences>"]
            + [f'<sentence id="{i}"><text>review {i} says the soup was great</text><aspectCategories>'
               f'<aspectCategory category="food" polarity="{"positive" if i % 2 else "negative"}"/>'
               f"</aspectCategories></sentence>" for i in range(n)] + ["</sentences>"])


def join(lines: list[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode("utf-8")


def replace_line(fmt: str, k: int, new: str) -> list[str]:
    lines = good_lines(fmt)
    lines[k - 1] = new
    return lines


def file_name(fmt: str, how: str) -> str:
    """The bad file's name: the format's usual extension, or ``.dat`` when the format is named."""
    if fmt == "lines":
        return "pos.txt"
    return f"data.{EXTENSION[fmt]}" if how in ("auto", "upload") else "data.dat"


def files_for(fmt: str, how: str, content: bytes) -> tuple[tuple[str, bytes], ...]:
    """The bad file, plus a second good file for ``lines`` (each lines file is one label)."""
    files = [(file_name(fmt, how), content)]
    if fmt == "lines":
        files.append(("neg.txt", join([f"review {i} says the soup was cold" for i in range(12)])))
    return tuple(files)

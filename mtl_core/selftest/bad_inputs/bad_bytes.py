"""Bad bytes for every loader: empty, binary, NUL and control bytes, broken or mixed encodings, 10 MB lines."""
from __future__ import annotations

import codecs
from typing import Iterator

from mtl_core.selftest.bad_inputs.cases import (
    BIG,
    FORMATS,
    Case,
    files_for,
    good_lines,
    join,
)


def mixed(text: str, k: int) -> bytes:
    """``text`` in UTF-8 except line ``k``, in Latin-1 (a file pasted together from two sources)."""
    lines = text.split("\n")
    return b"\n".join(line.encode("latin-1" if i == k - 1 else "utf-8") for i, line in enumerate(lines))


def byte_level_cases() -> Iterator[Case]:
    """Empty, binary, NUL, control bytes and broken encodings: every format, named, detected and uploaded."""
    junk = {"empty": b"", "whitespace only": b" \n\t\n \r\n", "utf-8 BOM only": codecs.BOM_UTF8,
            "utf-16 BOM only": codecs.BOM_UTF16_LE, "zip": b"PK\x03\x04" + bytes(range(256)) * 4,
            "pdf": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "gzip": b"\x1f\x8b\x08\x00" + bytes(200),
            "png": b"\x89PNG\r\n\x1a\n" + bytes(100), "jpeg": b"\xff\xd8\xff\xe0" + bytes(100),
            "xls": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "sqlite": b"SQLite format 3\x00" + bytes(100),
            "control bytes": bytes(range(1, 9)) * 64, "utf-16 without BOM": "text,label\nhi,1\n".encode("utf-16-le")}
    for fmt in FORMATS:
        for how in ("auto", fmt, "upload"):
            for what, data in junk.items():
                if how == "upload" and what == "empty":
                    continue  # covered by upload_cases
                yield Case(f"{what} / {fmt} / {how}", files_for(fmt, how, data), how, "error")
            for k in (1, 4):
                lines = good_lines(fmt)
                lines[k - 1] = lines[k - 1][:3] + "\x00" + lines[k - 1][3:]
                yield Case(f"NUL byte on line {k} / {fmt} / {how}", files_for(fmt, how, join(lines)), how,
                           "error", line=k)


def encoding_cases() -> Iterator[Case]:
    """Latin-1, cp1252, mixed encodings (warning); UTF-16 and UTF-8 with a BOM (load, texts intact)."""
    for fmt in FORMATS:
        for how in ("auto", fmt):
            text = "\n".join(good_lines(fmt)).replace("soup", "soupé").replace("grande", "grandé") + "\n"
            if fmt == "semeval":
                text = text.replace('encoding="UTF-8"', 'encoding="{enc}"')
            fill = text.replace("{enc}", "UTF-8")
            for what, data, expect in (
                    ("latin-1", text.replace("{enc}", "UTF-8").encode("latin-1"), "warning"),
                    ("cp1252 smart quotes", fill.replace("review", "\u201creview\u201d").encode("cp1252"),
                     "warning"),
                    ("mixed utf-8 and latin-1", mixed(fill, 3), "warning"),
                    ("utf-16 LE with BOM", codecs.BOM_UTF16_LE + text.replace("{enc}", "UTF-16").encode("utf-16-le"),
                     "load"),
                    ("utf-16 BE with BOM", codecs.BOM_UTF16_BE + text.replace("{enc}", "UTF-16").encode("utf-16-be"),
                     "load"),
                    ("utf-8 with BOM", codecs.BOM_UTF8 + fill.encode("utf-8"), "load"),
                    ("CRLF line ends", fill.replace("\n", "\r\n").encode("utf-8"), "load")):
                if fmt == "semeval" and expect == "warning":  # XML says its encoding: not UTF-8 is an error
                    expect, line = "error", 3
                else:
                    line = None
                if fmt == "conll":  # CoNLL texts are the words
                    needle = "Madrid0"
                elif what == "cp1252 smart quotes":
                    needle = "\u201creview"
                else:
                    needle = "soupé"
                want = "not valid UTF-8" if expect == "warning" else needle
                yield Case(f"{what} / {fmt} / {how}", files_for(fmt, how, data), how, expect, line,
                           text="" if expect == "error" else want)
            if fmt == "semeval":
                declared = text.replace("{enc}", "ISO-8859-1").encode("latin-1")
                yield Case(f"latin-1, declared / semeval / {how}", files_for(fmt, how, declared), how, "load",
                           text="soupé")


def big_line_cases() -> Iterator[Case]:
    """A 10 MB single line: refused with its line, or loaded with the text cut (MTL_LAB_MAX_TOKENS)."""
    word, words = b"x" * BIG, b"word " * (BIG // 5)
    yield Case("10 MB single line, one word / csv", (("data.csv", b"text,label\n" + word + b",pos\nok,neg\n"),),
               "auto", "warning", text="MTL_LAB_MAX_TOKENS")
    yield Case("10 MB single line, many words / csv",
               (("data.csv", b"text,label\n" + words + b",pos\nok,neg\n"),), "auto", "warning", text="were cut")
    yield Case("10 MB single line, no delimiter / csv", (("data.csv", words + b"\n"),), "csv", "error")
    yield Case("10 MB single line / uci", (("data.txt", words + b"\n"),), "uci", "error", line=1)
    yield Case("10 MB single line with label / uci", (("data.txt", words + b"\t1\nfine\t0\n"),), "uci",
               "warning", text="were cut")
    yield Case("10 MB single line / lines", (("pos.txt", words + b"\n"), ("neg.txt", b"short\n")), "lines",
               "warning", text="were cut")
    yield Case("10 MB single line / conll", (("data.conll", word + b"\n"),), "conll", "error", line=1)
    yield Case("10 MB single line / semeval", (("data.xml", b"<sentences>" + words + b"</sentences>"),),
               "semeval", "error")

"""Bad inputs: a generated corpus of broken, hostile and odd data files fed to every loader and the upload path.

Each case is a set of files plus how they are loaded (a format named, the format detected from the file
name, an upload through ``library.save_upload``, or a separate ``--test`` file). A case passes when the
real code either refuses it with an ``MTLLabError`` whose message names the file (and the line, where
the case knows it) and says what to do ("Fix:"), or loads it and says what was odd in the validation
report. Any other exception, a vague message, a missing warning or a case over the time limit fails.
"""
from __future__ import annotations

import codecs
import os
import signal
import time
import traceback
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from ..errors import MTLLabError

NAME = "bad inputs"
TIME_LIMIT_S = 30  # per case; the slowest (10 MB files) take about a second
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


# ---------------------------------------------------------------- well-formed files to break


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


# ---------------------------------------------------------------- the corpus of cases


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


def csv_cases() -> Iterator[Case]:
    """Header only, missing / extra fields, unclosed quotes, wrong delimiter, NaN labels, column options."""
    for fmt in ("csv", "tsv"):
        d = "," if fmt == "csv" else "\t"
        for how in ("auto", fmt, "upload"):
            def case(what: str, lines: list[str], expect: str = "error", line: int | None = None,
                     text: str = "", options: tuple = ()) -> Case:
                return Case(f"{what} / {fmt} / {how}", files_for(fmt, how, join(lines)), how, expect, line, text,
                            options=options)
            yield case("header only", good_lines(fmt)[:1])
            yield case("one line, one column", ["just one text"])
            for k in (2, 5, 9):
                yield case(f"missing field on line {k}", replace_line(fmt, k, f"cut short{d}pos"), line=k)
                yield case(f"extra field on line {k}", replace_line(fmt, k, f"too{d}many{d}fields{d}x"), line=k)
                yield case(f"unclosed quote on line {k}", replace_line(fmt, k, f'"never closed{d}pos{d}food'),
                           line=k)
            for na in ("", "NaN", "NA", "null", "#N/A"):
                lines = good_lines(fmt)
                lines[3] = lines[3].replace(f"{d}pos{d}", f"{d}{na}{d}").replace(f"{d}neg{d}", f"{d}{na}{d}")
                yield case(f"NaN label {na!r} on line 4", lines, "warning", text="line 4")
            lines = [f"{row.split(d)[0]}{d}NaN{d}{row.split(d)[2]}" for row in good_lines(fmt)]
            lines[0] = f"text{d}label{d}topic"
            yield case("all labels NaN in one column", lines, "warning", text="no label")
            yield case("one class", [r.replace(f"{d}neg{d}", f"{d}pos{d}") for r in good_lines(fmt)], "warning",
                       text="only one label")
            yield case("duplicate rows", good_lines(fmt) + good_lines(fmt)[1:], "warning", text="repeat")
            yield case("duplicate header names", [f"text{d}label{d}label"] + good_lines(fmt)[1:], line=1)
            yield case("text column not found", good_lines(fmt), options=(("text_column", "body"),))
            yield case("label column not found", good_lines(fmt), options=(("label_columns", ["stars"]),))
            yield case("text column is a label column", good_lines(fmt),
                       options=(("text_column", "text"), ("label_columns", ["text"])))
            yield case("domain column not found", good_lines(fmt), options=(("domain_column", "site"),))
            lines = good_lines(fmt)
            lines[6] = lines[6].rsplit(d, 1)[0] + d
            yield case("domain column empty on line 7", lines, line=7, options=(("domain_column", "topic"),))
            yield case("only identifier columns", [f"text{d}id"] + [f"row {i} text{d}{i}" for i in range(60)])
    for d, name in ((";", "semicolons"), ("|", "pipes")):
        lines = [row.replace(",", d) for row in good_lines("csv")]
        yield Case(f"{name} in a .csv / csv", (("data.csv", join(lines)),), "auto", "load", text="review 1")
        yield Case(f"{name} read as tsv / tsv", (("data.tsv", join(lines)),), "tsv", "error")
    yield Case("commas in a .tsv / tsv", (("data.tsv", join(good_lines("csv"))),), "auto", "error")


def uci_cases() -> Iterator[Case]:
    for how in ("uci", "auto"):
        for k in (1, 3, 8):
            for what, bad in (("no TAB", "a sentence without a label"), ("empty label", "a sentence\t"),
                              ("label too long", "a sentence\t" + "x" * 40),
                              ("label with spaces", "a sentence\tvery good")):
                if how == "auto" and k != 3:
                    continue  # detection needs 90% good lines; one variant is enough
                yield Case(f"{what} on line {k} / uci / {how}",
                           (("data_labelled.txt" if how == "auto" else "data.dat", join(replace_line("uci", k, bad))),),
                           "uci" if how == "uci" else "auto", "error", line=k)
    yield Case("blank lines / uci", (("data.dat", join(replace_line("uci", 4, ""))),), "uci", "warning",
               text="blank line")
    yield Case("duplicate rows / uci", (("data.dat", join(good_lines("uci") * 2)),), "uci", "warning", text="repeat")
    yield Case("one class / uci", (("data.dat", join([r[:-1] + "1" for r in good_lines("uci")])),), "uci",
               "warning", text="only one label")


def lines_cases() -> Iterator[Case]:
    yield Case("one file only / lines", (("pos.txt", join(good_lines("lines"))),), "lines", "warning",
               text="only one label")
    yield Case("duplicate lines / lines", files_for("lines", "lines", join(good_lines("lines") * 2)), "lines",
               "warning", text="repeat")
    yield Case("one line / lines", files_for("lines", "lines", b"only this\n"), "lines", "warning",
               text="fewer than")


def conll_cases() -> Iterator[Case]:
    for how in ("conll", "auto"):
        for k in (2, 5, 9):
            for what, bad in (("one column too few", "word"), ("one column too many", "word B-LOC extra"),
                              ("two columns too many", "word B-LOC x y")):
                yield Case(f"{what} on line {k} / conll / {how}", files_for("conll", how,
                           join(replace_line("conll", k, bad))), how, "error", line=k)
    yield Case("single column / conll", (("data.conll", b"Madrid\nes\n\ngrande\n"),), "conll", "error", line=1)
    yield Case("only -DOCSTART- / conll", (("data.conll", b"-DOCSTART- -X- O\n\n-DOCSTART- -X- O\n"),), "conll",
               "error")
    yield Case("one tag / conll", (("data.conll", join([r.replace("B-LOC", "O") for r in good_lines("conll")])),),
               "conll", "warning", text="only one label")
    yield Case("no blank lines / conll", (("data.conll", join(["w O", "x B-LOC"] * 300)),), "conll", "warning",
               text="blank lines missing")


XML_HEAD = '<?xml version="1.0"?>\n'
LAUGHS = XML_HEAD + '<!DOCTYPE lolz [\n<!ENTITY lol "lol">\n' + "".join(
    f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n' for i in range(1, 10)) + \
    ']>\n<sentences><sentence id="1"><text>&lol9;</text></sentence></sentences>\n'


def xml_cases() -> Iterator[Case]:
    body = '<sentences><sentence id="1"><text>{}</text></sentence></sentences>\n'
    hostile = {
        "billion laughs": (LAUGHS, 3),
        "quadratic blowup": (XML_HEAD + f'<!DOCTYPE s [<!ENTITY a "{"x" * 50000}">]>\n' + body.format("&a;" * 5000), 2),
        "external entity, file": (XML_HEAD + '<!DOCTYPE s [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
                                  + body.format("&xxe;"), 2),
        "external entity, http": (XML_HEAD + '<!DOCTYPE s [<!ENTITY xxe SYSTEM "http://127.0.0.1:1/x">]>\n'
                                  + body.format("&xxe;"), 2),
        "parameter entity": (XML_HEAD + '<!DOCTYPE s [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>\n'
                             + body.format("hi"), 2),
        "external DTD": (XML_HEAD + '<!DOCTYPE sentences SYSTEM "http://127.0.0.1:1/evil.dtd">\n' + body.format("x"),
                         2),
        "internal DTD": (XML_HEAD + "<!DOCTYPE sentences [<!ELEMENT sentences ANY>]>\n" + body.format("x"), 2),
        "public DTD": (XML_HEAD + '<!DOCTYPE sentences PUBLIC "-//x//y" "http://127.0.0.1:1/y.dtd">\n'
                       + body.format("x"), 2),
    }
    for how in ("semeval", "auto", "upload"):
        for what, (xml, line) in hostile.items():
            yield Case(f"{what} / semeval / {how}", files_for("semeval", how, xml.encode()), how, "error", line=line)
        for depth in (1000, 100_000):
            deep = "<sentences>" + "<a>" * depth + "</a>" * depth + "</sentences>"
            yield Case(f"{depth} nested elements / semeval / {how}", files_for("semeval", how, deep.encode()), how,
                       "error")
        deep = '<sentences><sentence id="1"><text>hi</text>' + "<b>" * 50_000 + "</b>" * 50_000 + \
            "</sentence></sentences>"
        yield Case(f"deep nesting in a sentence / semeval / {how}", files_for("semeval", how, deep.encode()), how,
                   "error")
        for k in (3, 6):
            lines = good_lines("semeval")
            for what, bad in (("unclosed tag", lines[k - 1].replace("</text>", "")),
                              ("bare ampersand", lines[k - 1].replace("soup", "soup & bread")),
                              ("bare less-than", lines[k - 1].replace("soup", "soup < bread"))):
                yield Case(f"{what} on line {k} / semeval / {how}",
                           files_for("semeval", how, join(replace_line("semeval", k, bad))), how, "error", line=k)
        for what, xml in (("wrong root", "<reviews><review/></reviews>"), ("no sentences", "<sentences></sentences>"),
                          ("sentence without text", '<sentences><sentence id="9"/></sentences>'),
                          ("aspect without polarity", '<sentences><sentence id="1"><text>hi</text>'
                           '<aspectCategory category="food"/></sentence></sentences>'),
                          ("truncated file", "\n".join(good_lines("semeval"))[:300])):
            yield Case(f"{what} / semeval / {how}", files_for("semeval", how, xml.encode()), how, "error")
        lines = good_lines("semeval")
        yield Case(f"unknown polarity / semeval / {how}",
                   files_for("semeval", how, join([r.replace('"negative"', '"meh"') for r in lines])), how,
                   "warning", text="unusual polarity")
        yield Case(f"repeated aspect / semeval / {how}", files_for("semeval", how, join(
            [r.replace("</aspectCategories>", '<aspectCategory category="food" polarity="neutral"/>'
                       "</aspectCategories>") for r in lines])), how, "warning", text="twice")


def upload_cases() -> Iterator[Case]:
    """The upload path: size limit, empty data, file names that try to leave the uploads folder."""
    ok = join(good_lines("csv"))
    yield Case("oversized upload", (("big.csv", b"a,b\n" * (2**20 // 4 * 2)),), "upload", "error",
               env=(("MTL_LAB_MAX_UPLOAD_MB", "1"),))
    yield Case("oversized upload, 10 MB line", (("big.csv", b"x" * BIG),), "upload", "error")
    yield Case("empty upload", (("empty.csv", b""),), "upload", "error")
    yield Case("bad upload limit setting", (("data.csv", ok),), "upload", "error",
               text="MTL_LAB_MAX_UPLOAD_MB", env=(("MTL_LAB_MAX_UPLOAD_MB", "lots"),))
    for name in ("../escape.csv", "../../etc/passwd", "/etc/passwd", "/tmp/x.csv", "C:\\data\\x.csv",
                 "..\\..\\x.csv", "\\\\server\\share\\x.csv", "sub/dir.csv", "sub\\dir.csv", ".", "..", "",
                 " ", "x\x00.csv", "a/../../b.csv", "D:x.csv", "x" * 300 + ".csv", "\u00e9" * 200 + ".csv"):
        yield Case(f"unsafe upload name {name[:40]!r}", ((name, ok),), "upload", "error")
    for name in ("données été.csv", "data (1).csv", "-rf.csv", ".hidden.csv", "name with\ttab.csv"):
        yield Case(f"odd but safe upload name {name!r}", ((name, ok),), "upload", "load", text="review 1")


def limit_cases() -> Iterator[Case]:
    """MTL_LAB_MAX_ROWS and MTL_LAB_MAX_TOKENS, per loader; a bad setting is a clear error."""
    for fmt in FORMATS:
        yield Case(f"over MTL_LAB_MAX_ROWS / {fmt}", files_for(fmt, fmt, join(good_lines(fmt, 30))), fmt, "error",
                   env=(("MTL_LAB_MAX_ROWS", "5"),))
    for fmt in ("csv", "uci", "lines"):
        yield Case(f"over MTL_LAB_MAX_TOKENS / {fmt}", files_for(fmt, fmt, join(good_lines(fmt))), fmt, "warning",
                   text="MTL_LAB_MAX_TOKENS", env=(("MTL_LAB_MAX_TOKENS", "3"),))
    for value in ("-1", "0", "many", "1e6"):
        yield Case(f"MTL_LAB_MAX_ROWS={value}", (("data.csv", join(good_lines("csv"))),), "csv", "error",
                   text="MTL_LAB_MAX_ROWS", env=(("MTL_LAB_MAX_ROWS", value),))
        yield Case(f"MTL_LAB_MAX_TOKENS={value}", (("data.csv", join(good_lines("csv"))),), "csv", "error",
                   text="MTL_LAB_MAX_TOKENS", env=(("MTL_LAB_MAX_TOKENS", value),))


def test_file_cases() -> Iterator[Case]:
    """A separate --test file: a label it has that training never saw, a test file with other columns."""
    train = join(good_lines("csv"))
    test = join(good_lines("csv") + ["a brand new kind of review,mixed,food"])
    yield Case("label only in test / csv", (("train.csv", train), ("test.csv", test)), "test", "warning",
               text="mixed")
    yield Case("label only in test / uci", (("train.txt", join(good_lines("uci"))),
                                            ("test.txt", join(good_lines("uci") + ["odd one\t2"]))), "test",
               "warning", text="'2'")
    yield Case("test file with other columns / csv", (("train.csv", train),
               ("test.csv", join(["body,stars"] + [f"text {i},{i % 5}" for i in range(10)]))), "test", "error")


def all_cases() -> list[Case]:
    cases = [c for family in (byte_level_cases, encoding_cases, big_line_cases, csv_cases, uci_cases, lines_cases,
                              conll_cases, xml_cases, upload_cases, limit_cases, test_file_cases) for c in family()]
    names = [c.name for c in cases]
    assert len(set(names)) == len(names), "case names must be distinct"
    return cases


# ---------------------------------------------------------------- running a case


class CaseTimeout(Exception):
    """A case ran past TIME_LIMIT_S (a hang)."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise CaseTimeout after ``seconds`` (SIGALRM: main thread on POSIX; elsewhere no limit)."""
    usable = hasattr(signal, "setitimer") and _main_thread()
    if not usable:
        yield
        return

    def _alarm(signum, frame):
        raise CaseTimeout(f"over {seconds} s")

    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


@contextmanager
def environment(pairs: tuple[tuple[str, str], ...]) -> Iterator[None]:
    old = {k: os.environ.get(k) for k, _ in pairs}
    os.environ.update(dict(pairs))
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def load_case(case: Case, folder: Path):
    """Write the case's files and load them the way ``case.how`` says; returns the Corpus."""
    from ..data.loaders import load_files
    from ..library import save_upload
    from ..sources import load_source

    options = dict(case.options)
    if case.how == "upload":
        (name, data), = case.files[:1]
        path = save_upload(name, data)
        return load_files([path] + [_write(folder, n, d) for n, d in case.files[1:]], **options)
    paths = [_write(folder, n, d) for n, d in case.files]
    if case.how == "test":
        return load_source({"files": [str(p) for p in paths[:-1]], "test": str(paths[-1]), **options}).corpus
    return load_files(paths, None if case.how == "auto" else case.how, **options)


def _write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def judge(case: Case, outcome: object) -> str | None:
    """Why the outcome is not acceptable for ``case``, or None when it is."""
    if isinstance(outcome, CaseTimeout):
        return f"hung ({outcome})"
    if isinstance(outcome, MTLLabError):
        message = str(outcome)
        if case.expect != "error":
            return f"refused a file that should load ({case.expect}): {message[:300]}"
        bad = case.files[-1 if case.how == "test" else 0][0]
        if case.env and case.text:  # a bad setting: the message must name the setting, not a file
            bad = case.text
        shown = [Path(bad).name, repr(bad)] if bad.strip() and "\x00" not in bad else [repr(bad)]
        if not any(s in message for s in shown) and not (case.how == "upload" and bad[:20] in message):
            return f"message does not name the file {bad[:40]!r}: {message[:300]}"
        if "Fix:" not in message and not ("must" in message and "Got" in message):  # or sklearn's shape
            return f"message says no fix: {message[:300]}"
        if case.line is not None and f"line {case.line}" not in message:
            return f"message does not name line {case.line}: {message[:300]}"
        return None
    if isinstance(outcome, BaseException):
        return f"crashed with {type(outcome).__name__}: {str(outcome)[:200]}"
    if case.expect == "error":
        return "loaded a file that should be refused"
    if case.expect == "warning":
        warnings = outcome.report.warnings  # type: ignore[attr-defined]
        if not any(case.text in w for w in warnings):
            return f"no warning mentioning {case.text!r} (warnings: {warnings})"
        return None
    if not any(case.text in t for t in outcome.texts):  # type: ignore[attr-defined]
        return f"texts do not hold {case.text!r} (first: {outcome.texts[:2]})"  # type: ignore[attr-defined]
    return None


def run_case(case: Case, folder: Path) -> tuple[str | None, float]:
    """(failure or None, seconds) of one case."""
    folder.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    try:
        with environment(case.env), time_limit(TIME_LIMIT_S):
            outcome: object = load_case(case, folder)
    except (Exception, CaseTimeout) as exc:  # what the loaders raise is what is judged
        outcome = exc
        if not isinstance(exc, (MTLLabError, CaseTimeout)):
            outcome.trace = traceback.format_exc(limit=-3)  # type: ignore[attr-defined]
    return judge(case, outcome), time.perf_counter() - start


def run(workdir: Path, quick: bool = False, cases: list[Case] | None = None,
        progress: Callable[[str], None] | None = None) -> dict:
    """Run every case in ``workdir``; the section dict of the reliability report.

    ``quick`` changes nothing: the whole corpus runs in a few seconds."""
    cases = all_cases() if cases is None else cases
    failures, slowest, families = [], (0.0, ""), {}
    for i, case in enumerate(cases):
        failure, seconds = run_case(case, Path(workdir) / f"case{i:04d}")
        family = case.name.split(" / ")[0].split(" on line")[0]
        families[family] = families.get(family, 0) + 1
        slowest = max(slowest, (seconds, case.name))
        if failure:
            failures.append(f"{case.name}: {failure}")
        if progress:
            progress(f"{case.name}: {'FAIL ' + failure if failure else 'ok'}")
    return {"name": NAME, "tried": len(cases), "ok": len(cases) - len(failures), "failures": failures,
            "details": {"distinct_cases": len({c.name for c in cases}), "kinds": len(families),
                        "slowest": f"{slowest[1]} ({slowest[0]:.2f} s)"}}

"""The upload path, the row and token limits, and a separate ``--test`` file."""
from __future__ import annotations

from typing import Iterator

from mtl_core.selftest.bad_inputs.cases import (
    BIG,
    FORMATS,
    Case,
    files_for,
    good_lines,
    join,
)


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

"""Plain text: UCI ``sentence<TAB>label`` lines, and one file of lines per label."""
from __future__ import annotations

from typing import Iterator

from mtl_core.selftest.bad_inputs.cases import (
    Case,
    files_for,
    good_lines,
    join,
    replace_line,
)


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
               "error", text="only the label '1'")


def lines_cases() -> Iterator[Case]:
    yield Case("one file only / lines", (("pos.txt", join(good_lines("lines"))),), "lines", "error",
               text="only the label 'pos'")
    yield Case("one file only, label in the extension / lines", (("rt-polarity.pos", join(good_lines("lines"))),),
               "auto", "error", text="one file per label")
    yield Case("two files differing only by extension / lines",
               (("rt-polarity.pos", join(good_lines("lines"))),
                ("rt-polarity.neg", join([f"review {i} says the soup was cold" for i in range(12)]))), "auto", "load",
               text="review 3 says the soup was great")
    yield Case("duplicate lines / lines", files_for("lines", "lines", join(good_lines("lines") * 2)), "lines",
               "warning", text="repeat")
    yield Case("one line / lines", files_for("lines", "lines", b"only this\n"), "lines", "warning",
               text="fewer than")

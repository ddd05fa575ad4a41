"""CSV and TSV: missing and extra fields, unclosed quotes, wrong delimiters, NaN labels, column options."""
from __future__ import annotations

from typing import Iterator

from mtl_core.selftest.bad_inputs.cases import (
    Case,
    files_for,
    good_lines,
    join,
    replace_line,
)


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
            yield case("one class beside another label column",
                       [r.replace(f"{d}neg{d}", f"{d}pos{d}") for r in good_lines(fmt)], "warning", text="holds only")
            yield case("one class, the only label column",
                       [r.rsplit(d, 1)[0].replace(f"{d}neg", f"{d}pos") for r in good_lines(fmt)],
                       text="only the label 'pos'")
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

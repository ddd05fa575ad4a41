"""CoNLL columns: wrong column counts, a single column, only -DOCSTART-, one tag, no sentence breaks."""
from __future__ import annotations

from typing import Iterator

from mtl_core.selftest.bad_inputs.cases import (
    Case,
    files_for,
    good_lines,
    join,
    replace_line,
)


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
               "conll", "error", text="only the label 'O'")
    yield Case("no blank lines / conll", (("data.conll", join(["w O", "x B-LOC"] * 300)),), "conll", "warning",
               text="blank lines missing")

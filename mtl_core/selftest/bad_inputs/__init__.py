"""Bad inputs: a generated corpus of broken, hostile and odd data files fed to every loader and the upload path.

Each case is a set of files plus how they are loaded (a format named, the format detected from the file
name, an upload through ``library.save_upload``, or a separate ``--test`` file). A case passes when the
real code either refuses it with an ``MTLLabError`` whose message names the file (and the line, where
the case knows it) and says what to do ("Fix:"), or loads it and says what was odd in the validation
report. Any other exception, a vague message, a missing warning or a case over the time limit fails.

One module per family of cases (``bad_bytes``, ``bad_csv``, ``bad_text``, ``bad_conll``, ``bad_xml``,
``bad_uploads``), the shared ``Case`` and well-formed files in ``cases``, and ``runner`` to run and judge one.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from mtl_core.selftest.bad_inputs import (
    bad_bytes,
    bad_conll,
    bad_csv,
    bad_text,
    bad_uploads,
    bad_xml,
)
from mtl_core.selftest.bad_inputs.cases import Case
from mtl_core.selftest.bad_inputs.runner import run_case

NAME = "bad inputs"
FAMILIES = (bad_bytes.byte_level_cases, bad_bytes.encoding_cases, bad_bytes.big_line_cases, bad_csv.csv_cases,
            bad_text.uci_cases, bad_text.lines_cases, bad_conll.conll_cases, bad_xml.xml_cases,
            bad_uploads.upload_cases, bad_uploads.limit_cases, bad_uploads.test_file_cases)


def all_cases() -> list[Case]:
    cases = [c for family in FAMILIES for c in family()]
    names = [c.name for c in cases]
    assert len(set(names)) == len(names), "case names must be distinct"
    return cases


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

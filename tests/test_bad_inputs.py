"""Bad input never crashes a loader: every refusal is an MTLLabError naming the file, the line and the fix."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mtl_core.data.corpus import Corpus
from mtl_core.data.library import save_upload
from mtl_core.data.loaders import load_files
from mtl_core.errors import DataError, MTLLabError
from mtl_core.selftest import bad_inputs

REPO = Path(__file__).resolve().parents[1]
SUFFIXES = (".csv", ".tsv", ".txt", ".xml", ".conll")
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def load_or_refuse(path: Path) -> None:
    try:
        corpus = load_files(path)
    except MTLLabError as exc:
        assert path.name in str(exc) and "Fix:" in str(exc), str(exc)
    else:
        assert isinstance(corpus, Corpus) and len(corpus) >= 1 and corpus.tasks


@FUZZ
@given(data=st.binary(max_size=2000), suffix=st.sampled_from(SUFFIXES))
def test_arbitrary_bytes_load_or_give_a_clear_error(tmp_path, data, suffix):
    path = tmp_path / f"fuzz{suffix}"
    path.write_bytes(data)
    load_or_refuse(path)


# Text made of the characters that matter to the parsers: delimiters, quotes, markup, line ends.
MARKUP = st.lists(st.sampled_from(list(",;\t|\"' \n\r<>/&=!?-_x0aéB") + [
    "<sentence>", "</sentence>", "<text>", "</text>", "<sentences>", "</sentences>", "\n\n", "B-LOC", "O",
    '<aspectCategory category="food" polarity="positive"/>', "<!DOCTYPE x>", '<!ENTITY a "b">', "&a;"]),
    max_size=120).map("".join)


@FUZZ
@given(text=st.one_of(st.text(max_size=400), MARKUP), suffix=st.sampled_from(SUFFIXES))
def test_arbitrary_text_loads_or_gives_a_clear_error(tmp_path, text, suffix):
    path = tmp_path / f"fuzz{suffix}"
    path.write_text(text, encoding="utf-8")
    load_or_refuse(path)


@pytest.mark.parametrize("name, content, line, words", [
    ("reviews.csv", b"text,label\ngood soup,pos\ncold,soup,neg,x\nfine,neg\n", 3, "4 field(s)"),
    ("reviews.csv", b'text,label\ngood soup,pos\n"never closed,neg\nfine,neg\n', 3, "double quote"),
    ("yelp_labelled.txt", b"good soup\t1\nno label here\n" + b"".join(b"fine %d\t0\n" % i for i in range(12)), 2,
     "no TAB"),
    ("ner.conll", b"Madrid B-LOC\nes O\n\ngrande O extra\n", 4, "3 column(s)"),
    ("absa.xml", b'<?xml version="1.0"?>\n<!DOCTYPE s [<!ENTITY a "aa">]>\n<sentences/>', 2, "billion laughs"),
    ("absa.xml", b"<sentences>\n<sentence id='1'><text>a & b</text></sentence>\n</sentences>", 2, "&amp;"),
    ("reviews.tsv", b"text\tlabel\ngood\x00soup\tpos\n", 2, "NUL bytes"),
])
def test_bad_file_message_names_file_line_and_fix(tmp_path, name, content, line, words):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DataError) as caught:
        load_files(path)
    message = str(caught.value)
    assert name in message and f"line {line}" in message and "Fix:" in message and words in message, message


def test_odd_but_acceptable_files_load_with_a_warning(tmp_path):
    rows = ["text,label"] + [f"review {i},{'pos' if i % 2 else 'neg'}" for i in range(10)]
    rows[4] = "review 3,NaN"
    path = tmp_path / "reviews.csv"
    path.write_text("\n".join(rows + rows[1:]) + "\n", encoding="latin-1")
    report = load_files(path).report
    assert any("no label on 2 row(s)" in w and "line 5" in w for w in report.warnings), report.warnings
    assert any("repeat an earlier text" in w for w in report.warnings), report.warnings


def test_limits_are_configurable(tmp_path, monkeypatch):
    path = tmp_path / "reviews.csv"
    path.write_text("text,label\n" + "".join(f"word {i} " * 20 + f",{i % 2}\n" for i in range(8)))
    monkeypatch.setenv("MTL_LAB_MAX_TOKENS", "5")
    corpus = load_files(path)
    assert max(len(t.split()) for t in corpus.texts) == 5
    assert any("MTL_LAB_MAX_TOKENS" in w for w in corpus.report.warnings)
    monkeypatch.setenv("MTL_LAB_MAX_ROWS", "7")
    with pytest.raises(DataError, match=r"8 examples, over the limit of 7 \(MTL_LAB_MAX_ROWS\)"):
        load_files(path)
    with pytest.raises(DataError, match="at most 200 bytes"):
        save_upload("x" * 300 + ".csv", b"text,label\na,1\n")


def test_bad_input_corpus_is_all_clear_errors_or_warnings(tmp_path):
    section = bad_inputs.run(tmp_path)
    assert section["tried"] >= 200 and section["details"]["distinct_cases"] == section["tried"]
    assert section["failures"] == [] and section["ok"] == section["tried"]


def test_the_corpus_holds_the_one_label_and_extension_label_cases():
    cases = {c.name: c for c in bad_inputs.all_cases()}
    assert cases["one file only / lines"].expect == "error"
    assert cases["one file only, label in the extension / lines"].expect == "error"
    assert cases["two files differing only by extension / lines"].expect == "load"
    assert cases["one class, the only label column / csv / upload"].expect == "error"


@pytest.mark.parametrize("command", ["study", "submit"])
def test_a_one_label_task_is_refused_by_the_cli_before_anything_is_stored(tmp_path, command):
    pos = tmp_path / "rt-polarity.pos"
    pos.write_text("simply a masterpiece\nthe rock is destined to be great\n", encoding="utf-8")
    home = tmp_path / "home"
    done = subprocess.run([sys.executable, "-m", "mtl_core", command, "--data", str(pos), "--out", str(tmp_path / "o")],
                          cwd=REPO, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "MTL_LAB_HOME": str(home), "MTL_LAB_AUTOSTART_WORKER": "0"})
    assert done.returncode == 2, done.stdout[-2000:] + done.stderr[-2000:]
    assert "rt-polarity.pos" in done.stderr and "only the label 'rt-polarity'" in done.stderr
    assert "Fix:" in done.stderr and "Traceback" not in done.stderr
    assert not (home / "mtl_lab.sqlite").exists()  # nothing stored, nothing queued


def test_selftest_cli_prints_the_report_and_exits_0(tmp_path):
    # --only keeps this test under a minute; the faults and concurrency sections test themselves
    done = subprocess.run([sys.executable, "-m", "mtl_core", "selftest", "--reliability", "--quick",
                           "--only", "bad_inputs", "--workdir", str(tmp_path)], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "results lost: 0" in done.stdout and "failures: 0" in done.stdout and "verdict: PASS" in done.stdout
    tried = int(done.stdout.split("total tried: ")[1].split()[0])
    assert tried >= 200

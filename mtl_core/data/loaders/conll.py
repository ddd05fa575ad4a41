"""CoNLL column files: one token per line, a blank line between sentences, one tagging task per column."""
from __future__ import annotations

import re
from pathlib import Path

from mtl_core.data.corpus import Corpus, make_corpus
from mtl_core.data.loaders.text_io import read_text
from mtl_core.errors import ConfigError, DataError
from mtl_core.tasks import TAGGING

DEFAULT_COLUMNS = {2: ["word", "tag"], 3: ["word", "pos", "ner"]}
MAX_SENTENCE_TOKENS = 500  # longer "sentences" usually mean missing blank lines
SPACES = re.compile(r"[ \t\r\f\v]+")  # ASCII only: U+00A0 and U+0085 can be part of a Latin-1 token


def column_names(n: int, columns: list[str] | None, path: str | Path) -> list[str]:
    """Names of the n columns: ``columns`` if given, else word + pos/ner, tag, or tag1..tagK."""
    if columns is None:
        return DEFAULT_COLUMNS.get(n, ["word"] + [f"tag{k}" for k in range(1, n)])
    if len(columns) != n:
        raise DataError(path, f"the file has {n} columns but columns={columns} names {len(columns)}.",
                        f"Pass {n} column names, the word column first.")
    if len(set(columns)) != n:
        raise ConfigError(f"The 'columns' parameter of load_conll must hold unique names. Got {columns} instead.")
    return list(columns)


def load_conll(path: str | Path, columns: list[str] | None = None, *, max_bytes: int | None = None,
               language_hint: str | None = None) -> Corpus:
    """Sentences of a CoNLL file; the first column is the word, each further column a tagging task.

    Columns are split on spaces, or on TABs when the first token line has one (then a token may
    hold spaces); ``-DOCSTART-`` lines are skipped. ``texts`` are the tokens joined by spaces.
    """
    text, warnings = read_text(path, max_bytes, language_hint)
    sentences: list[list[list[str]]] = []
    starts: list[int] = []  # line number of each sentence's first token
    current: list[list[str]] = []
    width = first = 0
    split = SPACES.split
    for number, raw in enumerate(text.split("\n"), 1):
        line = raw.strip(" \t\r\f\v")
        if not line or line.startswith("-DOCSTART-"):
            if current:
                sentences.append(current)
                current = []
            continue
        if not width:
            if "\t" in line:
                split = re.compile(r"\t").split
            width, first = len(split(line)), number
            if width < 2:
                raise DataError(path, f"only one column in {line[:60]!r}: a CoNLL file needs the word and "
                                "at least one tag column.",
                                "Write 'word TAG' on each token line (e.g. 'Madrid B-LOC'), or load the "
                                "file with format='lines' if it holds one sentence per line.", line=number)
        fields = split(line)
        if len(fields) != width:
            raise DataError(path, f"{len(fields)} column(s) in {line[:60]!r}, but the first token line "
                            f"(line {first}) has {width}.",
                            f"Give every token line the same {width} columns; a blank line must separate "
                            "sentences.", line=number)
        if not current:
            starts.append(number)
        current.append(fields)
    if current:
        sentences.append(current)
    if not sentences:
        raise DataError(path, "no token lines found (only blank or -DOCSTART- lines).",
                        "Add token lines 'word TAG', one per line, with a blank line between sentences.")
    longest = max(range(len(sentences)), key=lambda i: len(sentences[i]))
    if len(sentences[longest]) > MAX_SENTENCE_TOKENS:
        warnings.append(f"{Path(path).name}: the sentence starting on line {starts[longest]} has "
                        f"{len(sentences[longest])} tokens; are blank lines missing between sentences?")
    names = column_names(width, columns, path)
    tokens = [[fields[0] for fields in sentence] for sentence in sentences]
    annotations = {names[j]: [[fields[j] for fields in sentence] for sentence in sentences]
                   for j in range(1, width)}
    corpus = make_corpus([" ".join(t) for t in tokens], annotations, [str(path)], tokens=tokens,
                         kinds={n: TAGGING for n in annotations})
    corpus.report.warnings += warnings
    return corpus

"""CSV / TSV files: a text column and one task per label column (empty cells = absent)."""
from __future__ import annotations

import csv
import io
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from mtl_core.data.corpus import Corpus, make_corpus
from mtl_core.data.loaders.text_io import SAMPLE_BYTES, read_text
from mtl_core.data.loaders.text_loader import duplicate_warning
from mtl_core.errors import DataError

MAX_LABEL_VALUES = 50  # a column with more distinct values is not taken as a label column by default
NA_VALUES = frozenset({"", "nan", "NaN", "NA", "N/A", "n/a", "NULL", "null", "<NA>", "#N/A", "-nan", "-NaN"})
DELIMITERS = (",", "\t", ";", "|")


@contextmanager
def _big_fields() -> Iterator[None]:
    """Lift csv's 128 kB field limit while reading (the file size is already capped)."""
    old = csv.field_size_limit()
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    try:
        yield
    finally:
        csv.field_size_limit(old)


def _records(text: str, delimiter: str, path: str | Path | None) -> list[tuple[int, list[str]]]:
    """(first line number, fields) of each non-blank record; csv errors become DataErrors."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    out, start = [], 1
    with _big_fields():
        try:
            for row in reader:
                if any(cell.strip() for cell in row):
                    out.append((start, row))
                start = reader.line_num + 1
        except csv.Error as e:
            raise DataError(path, f"cannot parse this row as delimited text ({e}).",
                            "Check the quotes on this row: a field that contains the delimiter or a "
                            "line break must be enclosed in double quotes, and its own quotes doubled.",
                            line=reader.line_num) from None
    return out


def sniff_delimiter(text: str, format: str | None, path: str | Path) -> str:
    """TAB for .tsv / format 'tsv'; otherwise the delimiter giving every sampled row the same width."""
    if format == "tsv" or (format is None and Path(path).suffix.lower() in (".tsv", ".tab")):
        return "\t"
    sample = text[:SAMPLE_BYTES]
    for delimiter in DELIMITERS:
        rows = [r for _, r in _records(sample, delimiter, None)]
        if len(text) > len(sample):
            rows = rows[:-1]  # the sample may cut the last record
        widths = {len(r) for r in rows[:50]}
        if len(widths) == 1 and widths.pop() >= 2:
            return delimiter
    try:
        return csv.Sniffer().sniff(sample, delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        return ","


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def looks_like_header(rows: list[list[str]]) -> bool:
    """Whether the first row names the columns: short unique non-numeric names not seen as values."""
    first = [c.strip() for c in rows[0]]
    rest = [r for r in rows[1:] if len(r) == len(first)]
    if not all(first):
        return False  # repeated names still make a header: read_table then says which names repeat
    if any(_is_number(c) or len(c) > 64 or len(c.split()) > 4 for c in first):
        return False
    if not rest:
        return True
    columns = [[r[j].strip() for r in rest] for j in range(len(first))]
    if any(col and all(_is_number(v) for v in col if v) for col in columns):
        return True  # a column of numbers under a name
    label_like = [j for j, col in enumerate(columns) if len(rest) >= 2 and len(set(col)) <= MAX_LABEL_VALUES]
    if label_like:  # a header's names are not values of its label columns
        return all(first[j] not in set(columns[j]) for j in label_like)
    longest = max(range(len(first)), key=lambda j: sum(map(len, columns[j])))
    return len(first[longest]) < 0.5 * sum(map(len, columns[longest])) / len(rest)


def _pick_columns(names: list[str], columns: list[list[str]], text_column: str | None,
                  label_columns: list[str] | None, path: str | Path) -> tuple[str, list[str], list[str]]:
    """(text column, label columns, warnings), defaults inferred from the values."""
    for option, wanted in (("text_column", [text_column] if text_column else []),
                           ("label_columns", label_columns or [])):
        missing = [c for c in wanted if c not in names]
        if missing:
            raise DataError(path, f"the {option} {missing} {'is' if len(missing) == 1 else 'are'} not among "
                            f"this file's columns {names}.", f"Pass {option} naming one of {names}.")
    lengths = {n: sum(map(len, col)) / len(col) for n, col in zip(names, columns)}
    text = text_column or max(names, key=lambda n: lengths[n])
    warnings = []
    if label_columns is not None:
        labels = list(label_columns)
        if text in labels:
            raise DataError(path, f"column '{text}' is both the text column and a label column.",
                            "Pass label_columns without the text column.")
    else:
        labels, constant = [], []
        for name, col in zip(names, columns):
            values = [v.strip() for v in col if v.strip() not in NA_VALUES]
            distinct = len(set(values))
            if name == text:
                continue
            if not values:
                warnings.append(f"{Path(path).name}: column '{name}' has no labels (every cell empty or NaN); "
                                "not used as a task.")
                continue
            if distinct > MAX_LABEL_VALUES or (distinct == len(values) > 5):
                warnings.append(f"{Path(path).name}: column '{name}' not used as a task ({distinct} distinct "
                                "values, an identifier or free text); pass label_columns to use it.")
            elif distinct == 1:
                constant.append((name, values[0]))
            else:
                labels.append(name)
        if labels:  # a column with one value is metadata (e.g. a split name) beside real labels
            warnings += [f"{Path(path).name}: column '{name}' holds only {value!r}; not used as a task (nothing "
                         "to learn)." for name, value in constant]
        else:
            labels = [name for name, _ in constant]  # the only candidates: load_files refuses them by name
    if not labels:
        raise DataError(path, f"no label column found; the text column is '{text}' and the columns are {names}.",
                        f"Pass label_columns naming the column(s) that hold labels (at most "
                        f"{MAX_LABEL_VALUES} distinct values each are detected automatically).")
    return text, labels, warnings


def read_table(path: str | Path, format: str | None = None, header: bool | None = None,
               max_bytes: int | None = None, language_hint: str | None = None
               ) -> tuple[list[str], list[tuple[int, list[str]]], list[str]]:
    """(column names, (line, fields) of each data row, reading warnings) of a CSV or TSV file, checked.

    The delimiter is sniffed (TAB for .tsv); the header is detected unless ``header`` is given
    (without one, columns are named col0, col1, ...).
    """
    text, warnings = read_text(path, max_bytes, language_hint)
    delimiter = sniff_delimiter(text, format, path)
    records = _records(text, delimiter, path)
    if not records:
        raise DataError(path, "no rows found.", "Add rows: a text column and at least one label column.")
    has_header = looks_like_header([r for _, r in records]) if header is None else header
    if has_header:
        names = [c.strip() or f"col{j}" for j, c in enumerate(records[0][1])]
        doubled = sorted({n for n in names if names.count(n) > 1})
        if doubled:
            raise DataError(path, f"the header names column(s) {doubled} more than once.",
                            "Give every column a unique name.", line=records[0][0])
        records = records[1:]
        if not records:
            raise DataError(path, f"the file has a header ({names}) but no data rows.",
                            "Add the examples below the header line.")
    else:
        names = [f"col{j}" for j in range(len(records[0][1]))]
    for line, row in records:
        if len(row) != len(names):
            quote = (" A double quote opened on this line is never closed, so the lines after it were read "
                     "into this field." if any("\n" in cell for cell in row) else "")
            raise DataError(path, f"this row has {len(row)} field(s) but the file has {len(names)} columns "
                            f"{names} (delimiter {delimiter!r}).{quote}",
                            f"Give every row {len(names)} fields; enclose a field that contains {delimiter!r} "
                            "in double quotes.", line=line)
    return names, records, warnings


def missing_label_warnings(annotations: dict[str, list], lines: list[int], name: str) -> list[str]:
    """A warning per label column with empty or NaN cells (those rows are absent for that task)."""
    out = []
    for task, column in annotations.items():
        missing = [line for line, label in zip(lines, column) if label is None]
        if missing:
            out.append(f"{name}: column '{task}' has no label on {len(missing)} row(s) (empty or NaN, first on line "
                       f"{missing[0]}); those rows are absent for task '{task}' (not trained or scored on it).")
    return out


def split_by_domain(annotations: dict[str, list], domains: list[str], lines: list[int],
                    path: str | Path) -> dict[str, list]:
    """One task per (label column, domain value): the label where the row is in that domain, else absent."""
    empty = next((line for line, d in zip(lines, domains) if d in NA_VALUES), None)
    if empty is not None:
        raise DataError(path, "the domain column is empty on this row.",
                        "Give every row a domain, or map no domain column.", line=empty)
    values = list(dict.fromkeys(domains))
    if len(values) > MAX_LABEL_VALUES:
        raise DataError(path, f"the domain column has {len(values)} distinct values (at most "
                        f"{MAX_LABEL_VALUES} make sense as tasks).", "Map a column that names a few domains.")
    out = {}
    for name, column in annotations.items():
        for value in values:
            task = value if len(annotations) == 1 else f"{name}/{value}"
            out[task] = [label if d == value else None for label, d in zip(column, domains)]
    return out


def load_csv(path: str | Path, format: str | None = None, *, text_column: str | None = None,
             label_columns: list[str] | str | None = None, header: bool | None = None,
             max_bytes: int | None = None, language_hint: str | None = None,
             domain_column: str | None = None) -> Corpus:
    """A CSV or TSV file: one text column, one classification task per label column.

    The delimiter is sniffed (TAB for .tsv); the header is detected unless ``header`` is given
    (without one, columns are named col0, col1, ...). By default the text column is the one with the
    longest texts and every other column with at most 50 distinct values is a task. Empty or NaN
    label cells are absent (``None``) for that task. With ``domain_column``, each domain value makes
    its own task per label column (named after the value, or ``label/value`` for several columns).
    """
    names, records, warnings = read_table(path, format, header, max_bytes, language_hint)
    if domain_column is not None and domain_column not in names:
        raise DataError(path, f"the domain_column '{domain_column}' is not among this file's columns {names}.",
                        f"Pass domain_column naming one of {names}.")
    columns = [[row[j] for _, row in records] for j in range(len(names))]
    if isinstance(label_columns, str):
        label_columns = [label_columns]
    usable = [n for n in names if n != domain_column]
    text_name, label_names, pick_warnings = _pick_columns(
        usable, [c for n, c in zip(names, columns) if n != domain_column], text_column, label_columns, path)
    texts = [cell.strip() for cell in columns[names.index(text_name)]]
    annotations = {name: [None if c.strip() in NA_VALUES else c.strip() for c in columns[names.index(name)]]
                   for name in label_names}
    warnings += missing_label_warnings(annotations, [line for line, _ in records], Path(path).name)
    if domain_column is not None:
        domains = [c.strip() for c in columns[names.index(domain_column)]]
        annotations = split_by_domain(annotations, domains, [line for line, _ in records], path)
    corpus = make_corpus(texts, annotations, [str(path)])
    corpus.report.warnings += warnings + pick_warnings + duplicate_warning(texts, Path(path).name)
    return corpus

"""Loaders: data files -> Corpus with a validation report; every problem is a DataError (file, line, fix).

``load_files`` is the entry point; it detects each file's format and joins the files:

- several UCI or single-label CSV files: each file is its own task, named after the file
  (``yelp_labelled.txt`` -> ``yelp``); the other tasks are absent on its rows;
- ``lines`` files (``pos.txt``, ``neg.txt``): each file is one label of one task;
- SemEval XML: one task per aspect category; CoNLL: one tagging task per tag column.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

from mtl_core.data.corpus import Corpus, concat, rename_tasks
from mtl_core.data.loaders.conll import load_conll
from mtl_core.data.loaders.csv_loader import load_csv
from mtl_core.data.loaders.semeval import load_semeval
from mtl_core.data.loaders.text_io import SAMPLE_BYTES, read_sample, read_text
from mtl_core.data.loaders.text_loader import (
    MAX_LABEL_CHARS,
    load_lines,
    load_uci,
    task_name_from_file,
)
from mtl_core.errors import ConfigError, DataError

FORMATS = ("csv", "tsv", "uci", "lines", "semeval", "conll")
EXTENSIONS = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".xml": "semeval", ".conll": "conll",
              ".iob": "conll", ".bio": "conll"}
__all__ = ["FORMATS", "detect_format", "load_files", "load_csv", "load_uci", "load_lines",
           "load_semeval", "load_conll", "read_text"]


def _is_conll(lines: list[str]) -> bool:
    """Token lines of 2-12 columns (the first one a single token), in blocks between blank lines."""
    blocks, current, widths = [], 0, Counter()
    for line in lines + [""]:
        if not line.strip() or line.startswith("-DOCSTART-"):
            if current:
                blocks.append(current)
            current = 0
            continue
        fields = line.strip().split("\t") if "\t" in line else line.split()
        if " " in fields[0].strip():
            return False  # a sentence in the first column: UCI or TSV, not CoNLL
        widths[len(fields)] += 1
        current += 1
    if not widths or len(blocks) < 2:
        return False
    width, count = widths.most_common(1)[0]
    return 2 <= width <= 12 and count >= 0.9 * sum(widths.values()) and sum(blocks) / len(blocks) >= 2


def _is_uci(lines: list[str]) -> bool:
    """Most lines are 'text<TAB>short label' with one TAB."""
    rows = [line for line in lines if line.strip()]
    good = 0
    for line in rows:
        head, tab, label = line.rpartition("\t")
        label = label.strip()
        good += bool(tab and head.strip() and "\t" not in head and label and " " not in label
                     and len(label) <= MAX_LABEL_CHARS)
    return bool(rows) and good >= 0.9 * len(rows)


def detect_format(path: str | Path) -> str:
    """One of FORMATS, from the extension (.csv .tsv .xml .conll) or by reading the first lines."""
    path = Path(path)
    sample = read_sample(path)  # also: missing, empty and binary files fail here, clearly
    by_extension = EXTENSIONS.get(path.suffix.lower())
    if by_extension:
        return by_extension
    if sample.lstrip().startswith(("<?xml", "<sentences")):
        return "semeval"
    lines = [line.rstrip("\r") for line in sample.split("\n")]
    if len(lines) > 1 and path.stat().st_size > SAMPLE_BYTES:
        lines = lines[:-1]  # the sample cut the last line
    if _is_conll(lines):
        return "conll"
    if _is_uci(lines):
        return "uci"
    tabs = {line.count("\t") for line in lines if line.strip()}
    if len(tabs) == 1 and tabs.pop() >= 1:
        return "tsv"
    return "lines"


def domain_task_names(paths: list[Path]) -> list[str]:
    """One task name per file: first word of the stem, the whole stem if those clash, then numbered."""
    names = [task_name_from_file(p) for p in paths]
    if len(set(names)) < len(names):
        names = [p.stem for p in paths]
    if len(set(names)) < len(names):
        names = [f"{n}_{i}" for i, n in enumerate(names, 1)]
    return names


def rename_task(corpus: Corpus, new: str) -> Corpus:
    """The one-task ``corpus`` with its task called ``new`` (report rebuilt, loader warnings kept)."""
    (old,) = corpus.tasks
    return rename_tasks(corpus, {old: new})


def load_files(paths: list[str | Path] | str | Path, format: str | None = None, *,
               text_column: str | None = None, label_columns: list[str] | None = None,
               domain_column: str | None = None,
               task_name: str | None = None, language_hint: str | None = None,
               max_bytes: int | None = None) -> Corpus:
    """Load one or several data files into one Corpus (format detected per file unless given).

    ``text_column`` / ``label_columns`` / ``domain_column`` apply to CSV and TSV files. ``task_name`` names
    the task of ``lines`` files (default "label") or of a single one-task file. ``language_hint`` (e.g. "ru")
    picks the legacy encoding tried for non-UTF-8 files before Latin-1. ``max_bytes`` caps each
    file (default 50 MB).
    """
    paths = [Path(paths)] if isinstance(paths, (str, Path)) else [Path(p) for p in paths]
    if not paths:
        raise ConfigError("The 'paths' parameter of load_files must name at least one file. Got [] instead.")
    if format is not None and format not in FORMATS:
        raise ConfigError(f"The 'format' parameter of load_files must be one of {FORMATS} or None. "
                          f"Got {format!r} instead.")
    formats = [format or detect_format(p) for p in paths]
    options = {"max_bytes": max_bytes, "language_hint": language_hint}
    parts: list[tuple[Path, str, Corpus]] = []
    line_files = [p for p, f in zip(paths, formats) if f == "lines"]
    for path, fmt in zip(paths, formats):
        if fmt == "uci":
            parts.append((path, fmt, load_uci(path, **options)))
        elif fmt in ("csv", "tsv"):
            parts.append((path, fmt, load_csv(path, fmt, text_column=text_column,
                                              label_columns=label_columns, domain_column=domain_column,
                                              **options)))
        elif fmt == "semeval":
            parts.append((path, fmt, load_semeval(path, max_bytes=max_bytes)))
        elif fmt == "conll":
            parts.append((path, fmt, load_conll(path, **options)))
        elif path == line_files[0]:
            parts.append((path, fmt, load_lines(line_files, task_name or "label", **options)))
    domains = [i for i, (_, fmt, c) in enumerate(parts) if fmt in ("uci", "csv", "tsv") and len(c.tasks) == 1]
    if len(domains) >= 2:  # one file per domain, each file one task
        for i, name in zip(domains, domain_task_names([parts[i][0] for i in domains])):
            parts[i] = (parts[i][0], parts[i][1], rename_task(parts[i][2], name))
        if task_name and not line_files:
            parts[domains[0]][2].report.warnings.append(
                f"task_name '{task_name}' not used: each of the {len(domains)} one-task files is its own "
                "task, named after the file.")
    elif len(domains) == 1 and task_name and not line_files:
        i = domains[0]
        parts[i] = (parts[i][0], parts[i][1], rename_task(parts[i][2], task_name))
    try:
        corpus = concat([c for _, _, c in parts])
    except ValueError as e:
        raise DataError(", ".join(p.name for p in paths), f"these files cannot be combined: {e}",
                        "Rename the task in one of the files, or load them separately.") from None
    refuse_single_label(corpus, [(fmt, line_files if fmt == "lines" else [p]) for p, fmt, _ in parts])
    return corpus


ONE_FILE_PER_LABEL = ("Labels come from the file names (pos.txt + neg.txt, or rt-polarity.pos + rt-polarity.neg): "
                      "give one file per label, at least two.")


def refuse_single_label(corpus: Corpus, parts: list[tuple[str, list[Path]]]) -> None:
    """A DataError for the first task with fewer than two labels: nothing to learn, and every prediction right.

    ``parts``: (format, the files read) of each loaded part; the error names the files that label the task."""
    for task, spec in corpus.tasks.items():
        if len(spec.labels) >= 2:
            continue
        mine = [(fmt, files) for fmt, files in parts if _labels_task(corpus, files, task)] or parts
        label = f"only the label {spec.labels[0]!r}" if spec.labels else "no label at all"
        fix = ONE_FILE_PER_LABEL if any(fmt == "lines" for fmt, _ in mine) else (
            f"Add examples of another label, or leave the task '{task}' out (for a CSV file: name only the other "
            "label columns).")
        raise DataError(", ".join(dict.fromkeys(str(f) for _, files in mine for f in files)),
                        f"task '{task}' has {label}: a model can learn nothing from it.", fix)


def _labels_task(corpus: Corpus, files: list[Path], task: str) -> bool:
    """Whether a row read from ``files`` (``corpus.origins``) has a label for ``task``."""
    names, column = {str(f) for f in files}, corpus.annotations[task]
    return any(column[i] is not None for i, origin in enumerate(corpus.origins) if origin in names)

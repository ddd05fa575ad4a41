"""Plain-text formats: UCI "sentence<TAB>label" lines, and one file of sentences per label."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

from mtl_core.data.corpus import Corpus, make_corpus
from mtl_core.data.loaders.text_io import read_text
from mtl_core.errors import DataError

MAX_LABEL_CHARS = 30  # longer text after the last TAB is a sentence, not a label
UCI_EXPECTED = "each line must be 'sentence<TAB>label' (e.g. 'Great food.\\t1')"


def task_name_from_file(path: str | Path) -> str:
    """Task name for a one-task file: the stem's first word (``amazon_cells_labelled.txt`` -> ``amazon``)."""
    stem = Path(path).stem.strip()
    return stem.split("_")[0] or stem


def duplicate_warning(texts: list[str], name: str) -> list[str]:
    """A warning when texts repeat: repeats are kept, but can land in both train and test."""
    repeats = sum(n - 1 for n in Counter(texts).values() if n > 1)
    if not repeats:
        return []
    return [f"{name}: {repeats} example(s) repeat an earlier text (kept); a repeated text can fall in "
            "both the training and the test split."]


def _lines(text: str) -> list[str]:
    # split on "\n" only: str.splitlines() would also break on U+0085 and other characters found in text
    return [line.rstrip("\r") for line in text.split("\n")]


def load_uci(path: str | Path, task_name: str | None = None, *, max_bytes: int | None = None,
             language_hint: str | None = None) -> Corpus:
    """UCI sentiment format: one ``sentence<TAB>label`` per line, no header, no quoting.

    Each line is split on its last TAB, so quotes are plain characters (imdb_labelled.txt has
    unbalanced quotes that a CSV reader would merge into fewer rows). The task is ``task_name``,
    by default the file's first word (``yelp_labelled.txt`` -> ``yelp``).
    """
    text, warnings = read_text(path, max_bytes, language_hint)
    name = Path(path).name
    texts, labels, blank = [], [], 0
    lines = _lines(text)
    while lines and not lines[-1].strip():
        lines.pop()  # trailing newlines are normal, not worth a warning
    for number, line in enumerate(lines, 1):
        if not line.strip():
            blank += 1
            continue
        sentence, tab, label = line.rpartition("\t")
        label = label.strip()
        shown = line if len(line) <= 80 else line[:77] + "..."
        if not tab:
            raise DataError(path, f"no TAB in {shown!r}; {UCI_EXPECTED}.",
                            "Separate each sentence from its label with a TAB, or load the file with "
                            "format='lines' (one file per label) or format='csv'.", line=number)
        if not label or len(label) > MAX_LABEL_CHARS or len(label.split()) > 1:
            what = "nothing" if not label else repr(label[:40])
            raise DataError(path, f"after the last TAB comes {what}, not a short label; {UCI_EXPECTED}.",
                            "Put the label (one word, e.g. 0 or 1) after the last TAB of every line.",
                            line=number)
        texts.append(sentence.strip())
        labels.append(label)
    if blank:
        warnings.append(f"{name}: skipped {blank} blank line(s).")
    warnings += duplicate_warning(texts, name)
    corpus = make_corpus(texts, {task_name or task_name_from_file(path): labels}, [str(path)])
    corpus.report.warnings += warnings
    return corpus


def line_file_labels(paths: list[str | Path]) -> list[str]:
    """Each ``lines`` file's label: its stem (``pos.txt`` -> pos), or its extension when the files differ only
    by extension (``rt-polarity.pos`` + ``rt-polarity.neg`` -> pos, neg)."""
    paths = [Path(p) for p in paths]
    stems, suffixes = [p.stem for p in paths], [p.suffix.lstrip(".") for p in paths]
    if len(paths) > 1 and len(set(stems)) == 1 and all(suffixes) and len(set(suffixes)) == len(paths):
        return suffixes
    return stems


def load_lines(paths: list[str | Path], task_name: str = "label", *, max_bytes: int | None = None,
               language_hint: str | None = None) -> Corpus:
    """One example per line; each file holds one label (``line_file_labels``): ``pos.txt`` + ``neg.txt``, or
    ``rt-polarity.pos`` + ``rt-polarity.neg``."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    texts, labels, origins, warnings = [], [], [], []
    for path, label in zip(paths, line_file_labels(paths)):
        text, file_warnings = read_text(path, max_bytes, language_hint)
        warnings += file_warnings
        rows = [line.strip() for line in _lines(text) if line.strip()]
        texts += rows
        labels += [label] * len(rows)
        origins += [str(path)] * len(rows)
    warnings += duplicate_warning(texts, ", ".join(Path(p).name for p in paths))
    corpus = make_corpus(texts, {task_name: labels}, [str(p) for p in paths], origins=origins)
    corpus.report.warnings += warnings
    return corpus

"""Seeded, stratified train/validation/test splits that a whole study shares.

One label column: stratified on it. Several label columns (ABSA aspects) or several tasks: iterative
stratification (Sechidis et al. 2011, via ``iterative-stratification``) over the (task, label) indicators,
so every aspect's label mix is kept in each part. Tagging-only corpora: a seeded shuffle.

A split depends only on the labels (which rows have which, in order), the sizes, the seed and the splitting
libraries' versions, so it is kept on disk (``<MTL_LAB_HOME>/splits``, ``disk_cache.JsonCache``): a later study on
the same data reads it, without importing scikit-learn (about a second of its start).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from importlib.metadata import version

import numpy as np

from mtl_core.data.corpus import Corpus
from mtl_core.disk_cache import JsonCache, digest
from mtl_core.tasks import CLASSIFICATION

METHOD_VERSION = 1  # raise whenever make_split changes which rows it picks
CACHE = JsonCache("splits", max_files=2000)


@dataclass
class Split:
    train: list[int]
    val: list[int]
    test: list[int]
    seed: int
    method: str

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "Split":
        return cls(**d)

    def fingerprint(self) -> str:
        """Short hash of the indices: two runs with the same fingerprint saw the same split."""
        blob = json.dumps([self.train, self.val, self.test]).encode()
        return hashlib.sha256(blob).hexdigest()[:12]


def _indicator_matrix(corpus: Corpus, rows: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Binary matrix [rows, (task,label) pairs] of the classification labels present on each row."""
    columns: list[str] = []
    cols = []
    for name, spec in corpus.tasks.items():
        if spec.kind != CLASSIFICATION:
            continue
        ann = corpus.annotations[name]
        for label in spec.labels:
            columns.append(f"{name}={label}")
            cols.append(np.array([ann[i] == label for i in rows], dtype=np.int8))
    if not cols:
        return np.zeros((len(rows), 0), dtype=np.int8), columns
    return np.stack(cols, axis=1), columns


def _split_rows(corpus: Corpus, rows: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray, str]:
    """Split ``rows`` into (rest, held_out) with ``fraction`` held out, stratified when possible."""
    if fraction <= 0:
        return rows, rows[:0], "none"
    from iterstrat.ml_stratifiers import MultilabelStratifiedShuffleSplit
    from sklearn.model_selection import train_test_split
    y, _ = _indicator_matrix(corpus, rows)
    per_row = y.sum(axis=1) if y.size else np.zeros(len(rows))
    if y.shape[1] == 0:
        rest, held = train_test_split(rows, test_size=fraction, random_state=seed, shuffle=True)
        return np.sort(rest), np.sort(held), "random"
    if per_row.max() <= 1:  # one label per row: ordinary stratification on a single key
        keys = np.where(per_row == 1, y.argmax(axis=1), -1)
        values, counts = np.unique(keys, return_counts=True)
        rare = set(values[counts < 2])
        keys = np.array([-2 if k in rare else k for k in keys])
        try:
            rest, held = train_test_split(rows, test_size=fraction, random_state=seed, stratify=keys)
            return np.sort(rest), np.sort(held), "stratified"
        except ValueError:
            rest, held = train_test_split(rows, test_size=fraction, random_state=seed, shuffle=True)
            return np.sort(rest), np.sort(held), "random"
    splitter = MultilabelStratifiedShuffleSplit(n_splits=1, test_size=fraction, random_state=seed)
    rest_i, held_i = next(splitter.split(np.zeros(len(rows)), y))
    return np.sort(rows[rest_i]), np.sort(rows[held_i]), "iterative-stratified"


def _rows_of_untested_tasks(corpus: Corpus, test: np.ndarray, rest: np.ndarray) -> np.ndarray:
    """Rows of ``rest`` labelled only for tasks that have no label on the ``test`` rows."""
    untested = [t for t, column in corpus.annotations.items() if all(column[i] is None for i in test)]
    if not untested:
        return rest[:0]
    tested = [t for t in corpus.annotations if t not in untested]
    return np.array([i for i in rest if any(corpus.annotations[t][i] is not None for t in untested)
                     and all(corpus.annotations[t][i] is None for t in tested)], dtype=int)


def split_key(corpus: Corpus, seed: int, test_size: float, val_size: float, test_rows: list[int] | None) -> str:
    """What ``compute_split`` depends on, hashed: its arguments, the libraries' versions, the number of rows and
    each task's kind, labels and column (a tagging column only by which rows have tags). Texts do not matter."""
    key = digest("split", METHOD_VERSION, version("scikit-learn"), version("iterative-stratification"), seed,
                 test_size, val_size, None if test_rows is None else sorted(test_rows), len(corpus))
    for name, spec in corpus.tasks.items():
        column = corpus.annotations[name]
        values = column if spec.kind == CLASSIFICATION else [value is not None for value in column]
        key.update(json.dumps([name, spec.kind, list(spec.labels), values]).encode())
    return key.hexdigest()


def make_split(corpus: Corpus, seed: int = 0, test_size: float = 0.2, val_size: float = 0.1,
               test_rows: list[int] | None = None) -> Split:
    """``compute_split``'s split, read from disk when the same data was split the same way before, else computed
    and kept."""
    key = split_key(corpus, seed, test_size, val_size, test_rows)
    kept = CACHE.get(key)
    if kept is not None:
        try:
            return Split.from_dict(kept)
        except TypeError:  # a file of another shape: compute it again
            pass
    split = compute_split(corpus, seed, test_size, val_size, test_rows)
    CACHE.put(key, split.to_dict())
    return split


def compute_split(corpus: Corpus, seed: int = 0, test_size: float = 0.2, val_size: float = 0.1,
                  test_rows: list[int] | None = None) -> Split:
    """Seeded split of the corpus. ``val_size`` is a fraction of the whole corpus.

    ``test_rows`` (e.g. the rows of an official test file given with ``--test``) replaces the test
    part; validation then comes out of the remaining rows. Tasks with no label on those rows (a dataset without
    a test file, in a study across datasets) get their test part split off their own rows, as usual.
    """
    all_rows = np.arange(len(corpus))
    if test_rows is not None:
        test = np.array(sorted(test_rows), dtype=int)
        rest = np.setdiff1d(all_rows, test)
        untested = _rows_of_untested_tasks(corpus, test, rest)
        if len(untested):  # e.g. a study across datasets where only some datasets came with a test file
            _, held, _ = _split_rows(corpus, untested, test_size, seed)
            test, rest = np.union1d(test, held), np.setdiff1d(rest, held)
        method_test = "given"
        val_fraction = val_size
    else:
        rest, test, method_test = _split_rows(corpus, all_rows, test_size, seed)
        val_fraction = val_size / max(1e-9, 1 - test_size)
    train, val, method_val = _split_rows(corpus, rest, min(val_fraction, 0.5), seed + 1)
    method = method_val if method_test == "given" else method_test
    return Split(train=train.tolist(), val=val.tolist(), test=test.tolist(), seed=seed, method=method)

"""Where a study's corpus comes from: a preset, data files (plus an optional test file), or the generator."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mtl_core.data.combine import combine_parts, part_names
from mtl_core.data.corpus import Corpus, concat
from mtl_core.data.loaders import load_files, rename_task
from mtl_core.data.synthetic import SyntheticConfig, generate
from mtl_core.data.topics import one_vs_rest
from mtl_core.errors import ConfigError, DataError, MTLLabError


@dataclass
class LoadedData:
    corpus: Corpus
    test_rows: list[int] | None  # rows of a separate test file, if one was given


def load_source(source: dict, data_dir: str | None = None) -> LoadedData:
    """Load what a ``source`` names: ``{"files": [...], "format": f, "test": FILE, "text_column": c,
    "label_columns": [...], "domain_column": d}``, ``{"synthetic": {...generator config...}}``, or several of
    these in one study (``{"combine": [source, ...]}``, each task on its own dataset's rows: see ``data.combine``).
    A preset's source (``{"preset": NAME}``) is made concrete first by ``studies.presets.resolve_source``."""
    if "preset" in source:
        raise ConfigError(f"The source {source!r} names a preset: load it with studies.presets.load_study_source.")
    if "synthetic" in source:
        return LoadedData(generate(SyntheticConfig.from_dict(source["synthetic"])), None)
    if "combine" in source:
        return _load_combined(source["combine"], data_dir)
    if not source.get("files"):
        raise ConfigError("A study needs data: a preset (--preset NAME) or data files (--data FILE...).")
    options = {k: source[k] for k in ("text_column", "label_columns", "domain_column", "task_name")
               if source.get(k)}
    corpus = load_files(source["files"], source.get("format"), **options)
    if source.get("one_vs_rest"):  # {"column": c, "topics": [...]}: one yes/no task per topic
        corpus = one_vs_rest(corpus, source["one_vs_rest"]["column"], source["one_vs_rest"]["topics"])
    if not source.get("test"):
        return LoadedData(corpus, None)
    test = load_files([source["test"]], source.get("format"), **options)
    if len(corpus.tasks) == len(test.tasks) == 1 and set(corpus.tasks) != set(test.tasks):
        test = rename_task(test, next(iter(corpus.tasks)))  # one-task files are named after the file
    _check_test_tasks(corpus, test, source["test"])
    n = len(corpus)
    merged = concat([corpus, test])
    merged.report.warnings += _unseen_label_warnings(corpus, test, source["test"])
    return LoadedData(merged, list(range(n, n + len(test))))


def _load_combined(parts: list[dict], data_dir: str | None) -> LoadedData:
    """Each part loaded on its own (an error names the part), then joined by ``combine.combine_parts``."""
    if not isinstance(parts, list) or not all(isinstance(p, dict) for p in parts):
        raise ConfigError(f"The 'combine' source must be a list of sources (dicts). Got {parts!r} instead.")
    loaded = []
    for name, part in zip(part_names(parts), parts):
        try:
            data = load_source(part, data_dir)
        except MTLLabError as exc:
            raise DataError(f"dataset '{name}'", f"could not be loaded for this study across datasets: {exc}",
                            f"Fix that dataset (or save it again on the Data page), or leave '{name}' out of the "
                            "study.") from None
        loaded.append((name, data.corpus, data.test_rows))
    corpus, test_rows = combine_parts(loaded)
    return LoadedData(corpus, test_rows)


def _unseen_label_warnings(train: Corpus, test: Corpus, test_file: str) -> list[str]:
    """A warning per task whose test file holds labels the training files never show (never predicted)."""
    out = []
    for task, spec in test.tasks.items():
        unseen = sorted(set(spec.labels) - set(train.tasks[task].labels)) if task in train.tasks else []
        if unseen:
            out.append(f"{Path(test_file).name}: task '{task}' has label(s) {', '.join(map(repr, unseen[:10]))} "
                       "only in the test file; the model never sees them in training, so it cannot predict them.")
    return out


def _check_test_tasks(train: Corpus, test: Corpus, test_file: str) -> None:
    missing = [t for t in train.tasks if t not in test.tasks]
    if missing and len(missing) == len(train.tasks):
        raise ConfigError(f"{test_file}: the test file has none of the training tasks {list(train.tasks)} "
                          f"(it has {list(test.tasks)}). Fix: give a test file in the same format and columns.")





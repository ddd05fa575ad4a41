"""Studies across datasets: one corpus from several sources, each task labelled only on its own dataset's rows.

A combined source is ``{"combine": [part, part, ...]}``. Each part is any source ``sources.load_source`` accepts
(data files with their format, options and test file; a saved dataset's source; a catalog dataset's files; the
generator), plus an optional ``"name"`` (default: see ``part_name``). The rules:

- Rows: every part's rows, in order. A task is labelled only on its own part's rows; on every other part's rows it
  is None: masked out of the loss, and never counted in a score.
- Task names: a name only one part gives is kept ('food', 'ner'); a name several parts give is prefixed by each
  part's name ('uci_sentiment/label', 'reviews/label'), so two datasets' tasks never merge.
- Test files: a part's own test file stays its test rows; the parts without one are split as usual
  (``splits.make_split``).
- ``origins``: the file each row came from (the domain-adversarial auxiliary task uses it).
"""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from mtl_core.data.corpus import Corpus, concat, rename_tasks
from mtl_core.errors import ConfigError

SEPARATOR = "/"  # between a dataset's name and its task's name, for names several datasets give
UPLOAD_FOLDER = re.compile(r"[0-9a-f]{16}")  # library.save_upload's folders: a hash, not a name


def part_name(part: dict) -> str:
    """A part's name: its ``name``, its preset, the dataset folder of its first file (the file's name for an
    upload), else 'synthetic'."""
    if part.get("name"):
        return str(part["name"])
    if part.get("preset"):
        return str(part["preset"])
    if part.get("files"):
        first = Path(part["files"][0])
        return first.stem if UPLOAD_FOLDER.fullmatch(first.parent.name) or not first.parent.name else first.parent.name
    return "synthetic" if "synthetic" in part else "data"


def part_names(parts: list[dict]) -> list[str]:
    """Each part's name, numbered when two parts would share one ('uci_sentiment', 'uci_sentiment_2')."""
    names = [part_name(p) for p in parts]
    seen: Counter = Counter()
    unique = []
    for name in names:
        seen[name] += 1
        unique.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    return unique


def combined_task_names(tasks_by_part: dict[str, list[str]]) -> dict[str, dict[str, str]]:
    """part -> {its task -> the task's name in the combined corpus}: kept, or 'part/task' when several parts
    give that name."""
    given = Counter(t for tasks in tasks_by_part.values() for t in set(tasks))
    return {part: {t: f"{part}{SEPARATOR}{t}" if given[t] > 1 else t for t in tasks}
            for part, tasks in tasks_by_part.items()}


def combine_parts(parts: list[tuple[str, Corpus, list[int] | None]]) -> tuple[Corpus, list[int] | None]:
    """One corpus from named parts (name, corpus, its test rows or None), and the combined test rows (None when no
    part has a test file)."""
    if not parts:
        raise ConfigError("The 'combine' source must list at least one dataset. Got [] instead.")
    names = combined_task_names({name: list(corpus.tasks) for name, corpus, _ in parts})
    renamed = [rename_tasks(corpus, names[name]) for name, corpus, _ in parts]
    test_rows: list[int] | None = None
    offset = 0
    for (_, corpus, rows) in parts:
        if rows is not None:
            test_rows = (test_rows or []) + [offset + i for i in rows]
        offset += len(corpus)
    return concat(renamed), test_rows


def task_row_counts(corpus: Corpus) -> dict[str, int]:
    """How many rows label each task (the rows a task trains and is scored on)."""
    return {task: len(corpus.present(task)) for task in corpus.tasks}

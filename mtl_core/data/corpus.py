"""Corpus: texts + one annotation column per task (absent = None), and its validation report."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any

from mtl_core.data.limits import cut_text, max_rows, max_tokens
from mtl_core.errors import DataError
from mtl_core.tasks import CLASSIFICATION, TAGGING, TaskSpec

RARE_LABEL_COUNT = 5  # labels seen fewer times than this get a warning: too few to learn or to score


@dataclass
class ValidationReport:
    """What a loader found: sizes, label counts per task, and warnings a user should read."""

    files: list[str] = field(default_factory=list)
    rows: int = 0
    label_counts: dict[str, dict[str, int]] = field(default_factory=dict)
    absent_counts: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"files": self.files, "rows": self.rows, "label_counts": self.label_counts,
                "absent_counts": self.absent_counts, "warnings": self.warnings}

    def summary(self) -> str:
        lines = [f"{self.rows} examples from {', '.join(self.files) or 'generated data'}"]
        for task, counts in self.label_counts.items():
            shown = ", ".join(f"{k}={v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1])[:8])
            absent = self.absent_counts.get(task, 0)
            lines.append(f"  {task}: {shown}" + (f" (absent: {absent})" if absent else ""))
        lines += [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)


@dataclass
class Corpus:
    """Examples and their tasks.

    ``annotations[task][i]`` is example i's label (str) for a classification task, its list of tags
    (one per token) for a tagging task, or ``None`` when the task has no label for that example.
    Tasks built from label columns share examples (ABSA aspects); tasks built from one file each
    (Yelp vs Amazon) have disjoint examples: the other tasks are ``None`` there. ``origins[i]``
    names the file example i came from.
    """

    texts: list[str]
    annotations: dict[str, list[Any]]
    tasks: dict[str, TaskSpec]
    # Given by the file (CoNLL) or filled by tokenization; in a corpus joined from several datasets, a row whose
    # file gave no tokens holds None (spaCy tokenizes only those rows).
    tokens: list[list[str] | None] | None = None
    origins: list[str] = field(default_factory=list)
    report: ValidationReport = field(default_factory=ValidationReport)

    def __len__(self) -> int:
        return len(self.texts)

    def present(self, task: str) -> list[int]:
        """Indices of examples that carry a label for ``task``."""
        return [i for i, a in enumerate(self.annotations[task]) if a is not None]

    def subset(self, tasks: list[str]) -> "Corpus":
        """The same examples restricted to ``tasks`` (examples with none of them are kept, unlabeled)."""
        unknown = [t for t in tasks if t not in self.tasks]
        if unknown:
            raise KeyError(f"Unknown task(s) {unknown}; this corpus has {list(self.tasks)}.")
        return Corpus(self.texts, {t: self.annotations[t] for t in tasks},
                      {t: self.tasks[t] for t in tasks}, self.tokens, self.origins, self.report)


def build_report(corpus: Corpus, files: list[str]) -> ValidationReport:
    """Count labels per task and collect warnings (one-class task, rare labels, empty texts)."""
    report = ValidationReport(files=list(files), rows=len(corpus))
    for name, spec in corpus.tasks.items():
        column = corpus.annotations[name]
        if spec.kind == TAGGING:
            counts = Counter(tag for tags in column if tags is not None for tag in tags)
        else:
            counts = Counter(label for label in column if label is not None)
        report.label_counts[name] = dict(counts)
        report.absent_counts[name] = sum(a is None for a in column)
        if len(counts) < 2:
            report.warnings.append(
                f"task '{name}' has only one label ({', '.join(counts) or 'none'}): nothing to learn; "
                "drop the task or add examples of another label.")
        rare = [label for label, n in counts.items() if n < RARE_LABEL_COUNT]
        if rare and len(counts) >= 2:
            report.warnings.append(
                f"task '{name}': label(s) {', '.join(sorted(rare))} seen fewer than {RARE_LABEL_COUNT} "
                "times; their scores will be unreliable.")
    empty = sum(1 for t in corpus.texts if not t.strip())
    if empty:
        report.warnings.append(f"{empty} example(s) have empty text.")
    return report


def make_corpus(texts: list[str], annotations: dict[str, list[Any]], files: list[str],
                tokens: list[list[str]] | None = None, origins: list[str] | None = None,
                kinds: dict[str, str] | None = None, absent_label: str | None = None) -> Corpus:
    """Build a Corpus, infer each task's label vocabulary (sorted, stable) and its report.

    Refuses more than ``MTL_LAB_MAX_ROWS`` examples; cuts texts over ``MTL_LAB_MAX_TOKENS`` tokens (with a
    warning) unless the file gave its own tokens (see ``mtl_core.data.limits``).
    """
    if len(texts) > max_rows():
        raise DataError(", ".join(files) or None, f"{len(texts):,} examples, over the limit of {max_rows():,} "
                        "(MTL_LAB_MAX_ROWS).", "Load a sample of the rows, or raise MTL_LAB_MAX_ROWS if the "
                        "server has the memory for it.")
    cut = 0
    if tokens is None:
        limit = max_tokens()
        for i, text in enumerate(texts):
            shorter = cut_text(text, limit)
            if shorter is not None:
                texts = texts if cut else list(texts)  # never change the caller's list
                texts[i], cut = shorter, cut + 1
    kinds = kinds or {}
    tasks = {}
    for name, column in annotations.items():
        kind = kinds.get(name, CLASSIFICATION)
        if kind == TAGGING:
            labels = sorted({t for tags in column if tags is not None for t in tags})
        else:
            labels = sorted({a for a in column if a is not None})
        tasks[name] = TaskSpec(name=name, kind=kind, labels=labels, absent_label=absent_label)
    corpus = Corpus(texts=texts, annotations=annotations, tasks=tasks, tokens=tokens,
                    origins=origins or [files[0] if files else ""] * len(texts))
    corpus.report = build_report(corpus, files)
    if cut:
        corpus.report.warnings.append(
            f"{cut} text(s) longer than {limit:,} tokens were cut to their first {limit:,} (MTL_LAB_MAX_TOKENS); "
            "training keeps at most max_len tokens of each text anyway.")
    return corpus


def rename_tasks(corpus: Corpus, names: dict[str, str]) -> Corpus:
    """``corpus`` with its tasks renamed by ``names`` (old -> new; others kept), report rebuilt, loader warnings
    kept."""
    new = {old: names.get(old, old) for old in corpus.tasks}
    built = set(build_report(corpus, corpus.report.files).warnings)
    kept = [w for w in corpus.report.warnings if w not in built]
    renamed = Corpus(corpus.texts, {new[t]: column for t, column in corpus.annotations.items()},
                     {new[t]: replace(spec, name=new[t]) for t, spec in corpus.tasks.items()},
                     corpus.tokens, corpus.origins)
    renamed.report = build_report(renamed, corpus.report.files)
    renamed.report.warnings += kept
    return renamed


def concat(corpora: list[Corpus]) -> Corpus:
    """Join corpora example-wise; a task missing from a part is absent (None) on that part's rows."""
    if len(corpora) == 1:
        return corpora[0]
    task_names: list[str] = []
    kinds: dict[str, str] = {}
    for c in corpora:
        for name, spec in c.tasks.items():
            if name in kinds and kinds[name] != spec.kind:
                raise ValueError(f"Task '{name}' is {kinds[name]} in one file and {spec.kind} in another.")
            if name not in kinds:
                task_names.append(name)
                kinds[name] = spec.kind
    texts, origins, annotations = [], [], {t: [] for t in task_names}
    all_tokens: list[list[str] | None] | None = [] if any(c.tokens is not None for c in corpora) else None
    for c in corpora:
        texts += c.texts
        origins += c.origins
        if all_tokens is not None:  # a part without its own tokens: None per row, tokenized later
            all_tokens += c.tokens if c.tokens is not None else [None] * len(c)
        for t in task_names:
            annotations[t] += c.annotations.get(t, [None] * len(c))
    files = [f for c in corpora for f in c.report.files]
    merged = make_corpus(texts, annotations, files, all_tokens, origins, kinds)
    absent = {name: spec.absent_label for c in reversed(corpora) for name, spec in c.tasks.items()}
    merged.tasks = {name: replace(spec, absent_label=absent[name]) for name, spec in merged.tasks.items()}
    merged.report.warnings = [w for c in corpora for w in c.report.warnings] + [
        w for w in merged.report.warnings if w not in {x for c in corpora for x in c.report.warnings}]
    return merged

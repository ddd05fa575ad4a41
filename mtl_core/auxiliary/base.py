"""What every auxiliary task shares: its input, its abstract base, and the word-list helpers."""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from mtl_core.tasks import TaskSpec

AUX_PREFIX = "aux:"  # auxiliary task names are 'aux:<name>', never clashing with a user's column
OTHER = "<other>"    # a word outside the frequent-word list
END = "</s>"         # "there is no next token"
RESERVED = (OTHER, END)


@dataclass(frozen=True)
class AuxiliaryData:
    """Everything an auxiliary task may read. Statistics come from ``train_rows`` only."""

    tokens: list[list[str]]
    train_rows: list[int]
    domains: list[str | None] | None = None
    language: str = "en"
    top_words: int = 500


class AuxiliaryTask(ABC):
    """A task whose labels are computed from the raw text; subclasses set the class attributes."""

    name: str         # registry key; the TaskSpec is named AUX_PREFIX + name
    kind: str         # CLASSIFICATION or TAGGING
    description: str  # one sentence for the CLI help and the app
    adversarial = False  # train behind a gradient-reversal layer (features should NOT predict it)
    dynamic = False      # targets are made per batch by the trainer; the annotation column is all None
    predicts_next = False  # the target of token t is about token t+1 (TaskSpec.predicts_next)

    @property
    def task_name(self) -> str:
        return AUX_PREFIX + self.name

    def spec(self, labels: list[str]) -> TaskSpec:
        return TaskSpec(name=self.task_name, kind=self.kind, labels=list(labels), auxiliary=True,
                        predicts_next=self.predicts_next)

    @abstractmethod
    def build(self, data: AuxiliaryData) -> tuple[TaskSpec, list]:
        """The TaskSpec and its annotation column (one entry per row of ``data.tokens``)."""


def frequent_words(data: AuxiliaryData) -> list[str]:
    """The ``data.top_words`` most frequent lower-cased words of the training rows (ties alphabetical)."""
    counts = Counter(t.lower() for i in data.train_rows for t in data.tokens[i])
    for label in RESERVED:
        counts.pop(label, None)
    return sorted(counts, key=lambda w: (-counts[w], w))[: data.top_words]


def next_targets(tokens: list[str], label_of: Callable[[str], str]) -> list[str]:
    """Each token's target is ``label_of(next token)``; the last token's is END."""
    return [label_of(t) for t in tokens[1:]] + [END] if tokens else []

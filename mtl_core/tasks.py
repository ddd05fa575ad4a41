"""TaskSpec: what one task is, independent of any model."""
from __future__ import annotations

from dataclasses import dataclass, field

CLASSIFICATION = "classification"  # one label per text
TAGGING = "tagging"                # one tag per token
TASK_KINDS = (CLASSIFICATION, TAGGING)


@dataclass
class TaskSpec:
    """One task of a corpus.

    ``labels`` lists the label vocabulary in a stable order (index = class id). Examples whose
    label is ``None`` are *absent* for this task: masked out of the loss and of every metric.
    ``absent_label`` records the raw value in the source that meant "absent" (e.g. SemEval aspects
    a sentence does not mention), for display only. ``predicts_next`` marks tagging tasks whose target at
    token t is a property of the token after it (next word, next character): their heads read only states
    computed from tokens <= t, else a bidirectional encoder would hand them the answer.
    """

    name: str
    kind: str = CLASSIFICATION
    labels: list[str] = field(default_factory=list)
    absent_label: str | None = None
    auxiliary: bool = False
    predicts_next: bool = False  # the tag of token t is about token t+1: its head reads no state that saw t+1

    def __post_init__(self) -> None:
        if self.kind not in TASK_KINDS:
            raise ValueError(f"TaskSpec.kind must be one of {TASK_KINDS}. Got {self.kind!r} instead.")

    @property
    def metrics(self) -> tuple[str, ...]:
        """Metric names reported for this task; the first is the one used for model selection."""
        if self.kind == TAGGING:
            entity = any(label.startswith(("B-", "I-")) for label in self.labels)
            return ("span_f1", "token_accuracy") if entity else ("token_accuracy",)
        return ("accuracy", "macro_f1")

    @property
    def selection_metric(self) -> str:
        """The metric that early stopping and the summary table lead with."""
        return self.metrics[0]

    @property
    def num_classes(self) -> int:
        return len(self.labels)

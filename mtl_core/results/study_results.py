"""One study's results, read from the store once: the study row, its runs, their scores, the baselines and the
curve rows of its finished runs.

Every analysis in ``mtl_core.results`` is a pure function over a ``StudyResults``; a page render or a CLI command
loads one (``StudyResults.load``) and passes it down, so the store is read a fixed number of times per study.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from mtl_core.errors import ConfigError
from mtl_core.status import Status
from mtl_core.store import Store
from mtl_core.tasks import TaskSpec


# Metrics a reader can pick (Compare's metric picker, the exports), in the order offered; "lead" = each task's own
# selection metric (accuracy for classification, span-F1 for entity tagging, else token accuracy).
METRIC_LABELS = {"lead": "each task's lead metric", "accuracy": "accuracy", "macro_f1": "macro-F1",
                 "span_f1": "span-F1 (tagging)", "token_accuracy": "token accuracy (tagging)"}


def lead_metrics(tasks: dict[str, dict]) -> dict[str, str]:
    """Each task's lead metric (the one model selection uses), from a study's stored task specs."""
    return {name: TaskSpec(**spec).selection_metric for name, spec in tasks.items()}


def setting_label(setting: str, run_tasks: list[str], task: str) -> str:
    """How a run's score for ``task`` is labelled: a pair run as 'with:<partner>', a group as 'group:a+b', a
    sampled subset (plan "subsets") as 'subset:a+b+c'."""
    if setting == "pair":
        return "with:" + next(t for t in run_tasks if t != task)
    if setting in ("group", "subset"):
        return setting + ":" + "+".join(run_tasks)
    return setting


@dataclass(frozen=True)
class StudyResults:
    """What the store holds about one study, as read at one moment (a later read may hold more)."""

    study: dict                               # the study row: id, name, status, spec (with config), tasks, ...
    runs: list[dict]                          # every run, any status, in id order
    scores: list[dict]                        # finished runs' test scores, setting labelled per task (setting_label)
    aux_scores: list[dict]                    # the automatic auxiliary tasks' test scores, settings as stored
    baselines: list[dict]                     # majority class and TF-IDF + LR on the test split
    curves: dict[int, list[dict]] | None = None  # finished run id -> its curve rows; None: loaded without them

    @classmethod
    def load(cls, store: Store, study_id: str, curves: bool = True) -> StudyResults:
        """Read the study: 5 store reads, plus one for the finished runs' curve rows when ``curves``.

        ``curves=False`` suits pages that show no curves, gradients or affinities (and polls of running studies).
        """
        study = store.study(study_id)
        if study is None:
            raise ConfigError(f"No study {study_id!r} in {store.path}.")
        runs = store.runs(study_id)
        run_tasks = {r["id"]: r["tasks"] for r in runs}
        scores = [{**s, "setting": setting_label(s["setting"], run_tasks[s["run_id"]], s["task"])}
                  for s in store.scores(study_id) if s["run_id"] in run_tasks]
        aux = store.scores(study_id, split="aux")
        baselines = store.baselines(study_id)
        if curves:  # every finished run has an entry, also one without curve rows
            found = store.study_curves(study_id)
            rows = {r["id"]: found.get(r["id"], []) for r in runs if r["status"] == Status.DONE}
        else:
            rows = None
        return cls(study=study, runs=runs, scores=scores, aux_scores=aux, baselines=baselines, curves=rows)

    @property
    def id(self) -> str:
        return self.study["id"]

    @property
    def name(self) -> str:
        return self.study["name"]

    @property
    def status(self) -> str:
        return self.study["status"]

    @property
    def spec(self) -> dict:
        return self.study.get("spec") or {}

    @property
    def config(self) -> dict:
        """The study's RunConfig overrides (its multitask method)."""
        return self.spec.get("config") or {}

    @property
    def tasks(self) -> dict[str, dict]:
        """Task name -> stored task spec, in study order (empty before the data was prepared)."""
        return self.study.get("tasks") or {}

    @cached_property
    def lead(self) -> dict[str, str]:
        """Task -> its lead metric, in study order."""
        return lead_metrics(self.tasks)

    def metric_choices(self) -> list[str]:
        """"lead", then every metric at least one task reports, in METRIC_LABELS order."""
        found = {m for spec in self.tasks.values() for m in TaskSpec(**spec).metrics}
        return ["lead"] + [m for m in METRIC_LABELS if m in found]

    def metrics_for(self, chosen: str = "lead") -> dict[str, str]:
        """Task -> the metric to show: ``chosen`` where the task reports it, else the task's lead metric
        (macro-F1 is not defined for a tagging task, span-F1 not for a classification task)."""
        return {t: chosen if chosen in TaskSpec(**spec).metrics else self.lead[t] for t, spec in self.tasks.items()}

    @property
    def finished_runs(self) -> list[dict]:
        return [r for r in self.runs if r["status"] == Status.DONE]

    def run_curves(self, run_id: int) -> list[dict]:
        """A finished run's curve rows (epoch, task, name, value); empty for a run that had not finished."""
        if self.curves is None:
            raise ValueError("These results were loaded without curves: StudyResults.load(..., curves=True).")
        return self.curves.get(run_id, [])

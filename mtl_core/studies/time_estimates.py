"""How long a study will take here, from what similar finished runs in the store measured.

estimate = preparation + sum over planned runs of (RUN_SECONDS + training rows x expected epochs x seconds per
training example), the runs shared out over the runs trained at once (``parallel.parallel_runs``).

- seconds per training example: wall-clock seconds of a finished run (its validation and test included) over the
  examples it trained on, the median over the most similar finished runs: the same backbone and every other
  setting that changes the cost of a step (``NO_SPEED_EFFECT`` lists those that do not), on the same data and
  in the same setting (alone / together) when there are such runs, else on the nearest data size; without any,
  runs of the same backbone; without those, ``default_speed``.
- expected epochs: early stopping ends most runs before ``epochs``, ``patience`` epochs after their best one. The
  median of min(``epochs``, best epoch + ``patience``) over finished runs of the same data and setting (any
  limits); else the median share of their maximum that runs with the same maximum and patience used, times
  ``epochs``; else ``epochs`` (an upper bound).
- preparation: starting, loading, splitting and encoding the data (study created -> its first run started, plus
  the first run's time over its study's speed), the shortest measured on the same data, else the median over
  other data, else PREPARE_SECONDS; plus PER_TASK_BASELINE_SECONDS a task for the two baselines.

Before this, estimates took every run to its maximum epochs at a fixed speed and came out 2-3x too high;
RESULTS.md ("Issue 19: time estimates") lists estimated vs measured for studies run here.
"""
from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from functools import lru_cache

from mtl_core.status import Status
from mtl_core.store import Store
from mtl_core.studies.parallel import parallel_runs

DEFAULT_EXAMPLES_PER_SECOND = 100.0  # before any run was measured here: a slow CPU, BiLSTM of hidden 128
PREPARE_SECONDS = 5.0                # loading, tokenizing and the classical baselines, once per study
PER_TASK_BASELINE_SECONDS = 1.0      # majority + TF-IDF + LR of one task, after the runs (not in the store's times)
RUN_SECONDS = 1.0                    # per run: model build, checkpoint
HISTORY_STUDIES = 60                 # the newest studies read for measured runs
# Config keys that do not change the cost of a training step; runs differing only in these are "similar".
NO_SPEED_EFFECT = {"lr", "weight_decay", "epochs", "patience", "selection", "dropout", "word_dropout", "clip",
                   "class_weights", "min_freq", "language", "use_vectors", "seed", "lr_schedule", "warmup",
                   "pretrained_lr", "device"}


@dataclass(frozen=True)
class Measured:
    """One finished run, as the estimates read it."""

    config: dict
    source: str            # the study's data source (JSON): runs on the same data
    setting: str           # single, all, pair, group
    rows: float            # training examples per epoch
    epochs_run: int
    best_epoch: int        # the epoch early stopping kept
    seconds_per_example: float  # wall seconds / examples trained (validation and test included)


@dataclass(frozen=True)
class History:
    runs: list[Measured]
    prepare: dict[str, float]  # data source -> the shortest preparation measured (study created -> first run)


def read_history(store: Store) -> History:
    """The finished runs (with their speed) and the preparation times of the newest HISTORY_STUDIES studies.

    A study's first run also pays for what the process does once (imports, first use of the model code): that
    extra time, over what its speed elsewhere in the study predicts, counts as preparation, not as speed."""
    runs, prepare = [], {}
    for study in store.studies()[:HISTORY_STUDIES]:
        source = json.dumps((study.get("spec") or {}).get("source"), sort_keys=True)
        measured = sorted(((r["started"], m) for r in store.runs(study["id"]) if (m := _measured(r, source))),
                          key=lambda pair: pair[0])
        if not measured:
            continue
        (first_start, first), later = measured[0], [m for _, m in measured[1:]]
        typical = statistics.median(m.seconds_per_example for m in later) if later else first.seconds_per_example
        once = (first_start - study["created"]) + first.rows * first.epochs_run * max(
            first.seconds_per_example - typical, 0.0)
        prepare[source] = min(prepare.get(source, float("inf")), max(once, 0.0))
        runs += later or [first]
    return History(runs, prepare)


def preparation(history: History, source: str) -> float:
    """The shortest preparation measured on this data; else the median over other data (the same machine and
    process start); else PREPARE_SECONDS."""
    if source in history.prepare:
        return history.prepare[source]
    return statistics.median(history.prepare.values()) if history.prepare else PREPARE_SECONDS


def _measured(run: dict, source: str) -> Measured | None:
    eps, train, epochs = run.get("examples_per_second"), run.get("train_seconds"), run.get("epochs_run")
    if run["status"] != Status.DONE or not (eps and train and epochs and run.get("started") and run.get("finished")):
        return None
    seen = eps * train
    wall = max(run["finished"] - run["started"] - RUN_SECONDS, train)
    return Measured(run.get("config") or {}, source, run["setting"], seen / epochs, epochs,
                    run.get("best_epoch") or epochs, wall / seen)


def _same_cost(config: dict, other: dict) -> bool:
    keys = (set(config) | set(other)) - NO_SPEED_EFFECT
    return all(config.get(k) == other.get(k) for k in keys)


def seconds_per_example(config: dict, source: str, setting: str, rows: float, history: list[Measured]) -> float:
    """Median wall seconds per training example of the most similar measured runs (see the module docstring)."""
    same = [m for m in history if _same_cost(config, m.config)]
    for group in ([m for m in same if m.source == source and m.setting == setting],
                  [m for m in same if m.source == source], _nearest_size(same, rows),
                  [m for m in history if m.config.get("backbone") == config["backbone"]
                   and m.config.get("tune_pretrained") == config["tune_pretrained"]]):
        if group:
            return statistics.median(m.seconds_per_example for m in group)
    return 1.0 / default_speed(config)


def _nearest_size(runs: list[Measured], rows: float, k: int = 5) -> list[Measured]:
    """The ``k`` runs whose training set size is closest to ``rows`` (by ratio)."""
    return sorted(runs, key=lambda m: max(m.rows, rows) / max(min(m.rows, rows), 1.0))[:k]


def expected_epochs(config: dict, source: str, setting: str, history: list[Measured]) -> float:
    """Epochs a run is expected to train before early stopping ends it (see the module docstring)."""
    same = [m for m in history if m.source == source and m.setting == setting] or \
        [m for m in history if m.source == source]
    if same:  # early stopping ends a run `patience` epochs after its best one
        return float(statistics.median(min(config["epochs"], m.best_epoch + config["patience"]) for m in same))
    limit = (config["epochs"], config["patience"])
    alike = [m for m in history if (m.config.get("epochs"), m.config.get("patience")) == limit]
    if alike:
        return config["epochs"] * statistics.median(min(m.epochs_run / config["epochs"], 1.0) for m in alike)
    return float(config["epochs"])


def default_speed(config: dict) -> float:
    """Examples per second to assume for ``config`` before any similar run was measured on this machine: a
    fine-tuned pretrained encoder's own (far slower) speed, else DEFAULT_EXAMPLES_PER_SECOND."""
    from mtl_core.models.pretrained import PRETRAINED_ENCODERS
    if config["tune_pretrained"] and config["backbone"] in PRETRAINED_ENCODERS:
        return PRETRAINED_ENCODERS[config["backbone"]].fine_tune_speed
    return DEFAULT_EXAMPLES_PER_SECOND


def has_measured_runs(store: Store | None = None) -> bool:
    """Whether any finished run here measured its speed (else every estimate rests on ``default_speed``)."""
    return bool(read_history(store or Store()).runs)


def measured_speed(config: dict, store: Store | None = None) -> float | None:
    """Median examples per wall-clock second of finished runs here with the same cost per step as ``config``."""
    same = [m for m in read_history(store or Store()).runs if _same_cost(config, m.config)]
    return 1.0 / statistics.median(m.seconds_per_example for m in same) if same else None


def estimate_seconds(spec, store: Store | None = None) -> float:
    """Seconds to train ``spec`` here (see the module docstring). Loads the data once per source (cached) to
    count labelled rows; raises the loader's MTLLabError if it cannot."""
    return sum(estimate_parts(spec, store))


def estimate_parts(spec, store: Store | None = None) -> tuple[float, float]:
    """(preparation and baselines, training shared out over the runs trained at once), in seconds."""
    from mtl_core.training.config import RunConfig

    store = store or Store()
    config = RunConfig.from_dict(spec.config).to_dict()
    source = json.dumps(spec.source, sort_keys=True)
    n_rows, labelled, n_test = _labelled_rows(source, spec.data_dir)
    tasks = spec.tasks or list(labelled)
    test_share = spec.split.get("test_size", 0.2) if n_test == 0 else n_test / max(n_rows, 1)
    train_share = max(0.0, 1 - test_share - spec.split.get("val_size", 0.1))
    history = read_history(store)
    runs = spec.planned_runs(tasks)
    training = 0.0
    for setting, run_tasks, _ in runs:
        rows = len(set().union(*(labelled.get(t, frozenset()) for t in run_tasks))) * train_share
        epochs = expected_epochs(config, source, setting, history.runs)
        training += RUN_SECONDS + rows * epochs * seconds_per_example(config, source, setting, rows, history.runs)
    prepare = preparation(history, source) + PER_TASK_BASELINE_SECONDS * len(tasks)
    return prepare, training / max(1, min(parallel_runs(), len(runs)))


@lru_cache(maxsize=8)
def _labelled_rows(source_json: str, data_dir: str | None) -> tuple[int, dict[str, frozenset], int]:
    from mtl_core.studies.presets import load_study_source

    loaded = load_study_source(json.loads(source_json), data_dir)
    corpus = loaded.corpus
    labelled = {t: frozenset(i for i, a in enumerate(corpus.annotations[t]) if a is not None) for t in corpus.tasks}
    return len(corpus), labelled, len(loaded.test_rows or [])

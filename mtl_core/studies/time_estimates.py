"""How long a study will take here: measured speed of similar finished runs (or a per-backbone default),
times the rows and epochs its planned runs train, shared over the runs trained at once."""
from __future__ import annotations

import json
import statistics
from functools import lru_cache

from mtl_core.store import Store
from mtl_core.studies.parallel import parallel_runs

# Time estimates -------------------------------------------------------------------------------
DEFAULT_EXAMPLES_PER_SECOND = 100.0  # before any run was measured here: a slow CPU, BiLSTM of hidden 128


PREPARE_SECONDS = 5.0                # loading, tokenizing and the classical baselines, once per study


RUN_SECONDS = 1.0                    # per run: model build, test scoring, checkpoint


# Config keys that do not change the cost of a training step; runs differing only in these are "similar".
NO_SPEED_EFFECT = {"lr", "weight_decay", "epochs", "patience", "selection", "dropout", "word_dropout", "clip",
                   "class_weights", "min_freq", "language", "use_vectors", "seed"}


def measured_speed(config: dict, store: Store | None = None) -> float | None:
    """Median wall-clock training speed (examples per second, evaluation included) of finished runs on
    this machine whose config matches ``config`` on every key that changes the cost of a step."""
    store = store or Store()
    key = {k: v for k, v in config.items() if k not in NO_SPEED_EFFECT}
    speeds = []
    for s in store.speed_samples():
        cfg = s.get("config") or {}
        if all(cfg.get(k) == v for k, v in key.items()) and set(cfg) - NO_SPEED_EFFECT <= set(key):
            wall, train = s.get("wall"), s.get("train_seconds")
            share = train / wall if wall and train and wall > train else 1.0  # time spent training, not scoring
            speeds.append(s["examples_per_second"] * share)
    return statistics.median(speeds) if speeds else None


def default_speed(config: dict) -> float:
    """Examples per second to assume for ``config`` before any similar run was measured on this machine: a
    fine-tuned pretrained encoder's own (far slower) speed, else DEFAULT_EXAMPLES_PER_SECOND."""
    from mtl_core.models.pretrained import PRETRAINED_ENCODERS
    if config["tune_pretrained"] and config["backbone"] in PRETRAINED_ENCODERS:
        return PRETRAINED_ENCODERS[config["backbone"]].fine_tune_speed
    return DEFAULT_EXAMPLES_PER_SECOND


def estimate_seconds(spec, store: Store | None = None) -> float:
    """Upper-bound seconds to train ``spec`` here.

    Sum over planned runs of (training examples of the run's tasks x max epochs / speed) + RUN_SECONDS,
    shared out over the runs trained at once (``parallel.parallel_runs``), plus PREPARE_SECONDS.
    Speed: ``measured_speed`` of similar finished runs, else ``default_speed``. Early stopping
    makes real runs shorter. Loads the data once per source (cached) to count labelled rows; raises the
    loader's MTLLabError if it cannot."""
    from mtl_core.training.config import RunConfig

    config = RunConfig.from_dict(spec.config).to_dict()
    n_rows, labelled, n_test = _labelled_rows(json.dumps(spec.source, sort_keys=True), spec.data_dir)
    tasks = spec.tasks or list(labelled)
    test_share = spec.split.get("test_size", 0.2) if n_test == 0 else n_test / max(n_rows, 1)
    train_share = max(0.0, 1 - test_share - spec.split.get("val_size", 0.1))
    speed = measured_speed(config, store) or default_speed(config)
    runs = spec.planned_runs(tasks)
    training = 0.0
    for _, run_tasks, _ in runs:
        rows = set().union(*(labelled.get(t, frozenset()) for t in run_tasks))
        training += len(rows) * train_share * config["epochs"] / speed + RUN_SECONDS
    return PREPARE_SECONDS + training / max(1, min(parallel_runs(), len(runs)))  # runs spread over the workers


@lru_cache(maxsize=8)
def _labelled_rows(source_json: str, data_dir: str | None) -> tuple[int, dict[str, frozenset], int]:
    from mtl_core.studies.presets import load_study_source

    loaded = load_study_source(json.loads(source_json), data_dir)
    corpus = loaded.corpus
    labelled = {t: frozenset(i for i, a in enumerate(corpus.annotations[t]) if a is not None) for t in corpus.tasks}
    return len(corpus), labelled, len(loaded.test_rows or [])

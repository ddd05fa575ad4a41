"""A study: the planned runs (each task alone + all tasks together) x seeds, all on one saved split.

Data is loaded, split, tokenized, given a vocabulary (from training rows only) and encoded once; every
run of the study reuses exactly those tensors and that split.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch

from .baselines import majority_baseline, tfidf_lr_baseline
from .config import RunConfig
from .data.encode import EncodedData, encode
from .data.splits import Split, make_split
from .data.tokenize import ensure_tokens, installed_vectors, vectors_for
from .data.vocab import Vocabulary
from .errors import ConfigError
from .paths import mtl_home
from .sources import get_preset, load_source
from .store import Store
from .train import RunResult, train_run

log = logging.getLogger(__name__)
PLANS = ("singles+all", "singles", "all")


@dataclass
class StudySpec:
    name: str
    source: dict                       # see sources.load_source
    tasks: list[str] | None = None     # None: every task of the corpus
    seeds: int = 3
    plan: str = "singles+all"
    config: dict = field(default_factory=dict)
    split: dict = field(default_factory=lambda: {"test_size": 0.2, "val_size": 0.1, "seed": 0})
    data_dir: str | None = None

    @classmethod
    def from_preset(cls, preset: str, **overrides) -> "StudySpec":
        p = get_preset(preset)
        spec = cls(name=preset, source={"preset": preset}, tasks=p.get("tasks"), config=dict(p.get("config", {})),
                   split={"seed": 0, **p.get("split", {})})
        for key, value in overrides.items():
            if value is not None:
                setattr(spec, key, value)
        return spec

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class PreparedStudy:
    """Everything runs share: the corpus' tasks, the split, the vocabulary and the encoded tensors."""
    corpus: object
    specs: dict
    split: Split
    vocab: Vocabulary
    data: EncodedData
    vectors: torch.Tensor | None
    vectors_name: str | None


def prepare(spec: StudySpec, config: RunConfig) -> PreparedStudy:
    loaded = load_source(spec.source, spec.data_dir)
    corpus = loaded.corpus
    tasks = spec.tasks or list(corpus.tasks)
    unknown = [t for t in tasks if t not in corpus.tasks]
    if unknown:
        raise ConfigError(f"Unknown task(s) {unknown}. The data has tasks {list(corpus.tasks)}.")
    corpus = corpus.subset(tasks)
    s = spec.split
    split = make_split(corpus, seed=s.get("seed", 0), test_size=s.get("test_size", 0.2),
                       val_size=s.get("val_size", 0.1), test_rows=loaded.test_rows)
    tokens = ensure_tokens(corpus, config.language)
    vocab = Vocabulary.build([tokens[i] for i in split.train], min_freq=config.min_freq)
    data = encode(tokens, corpus.annotations, corpus.tasks, vocab, config.max_len)
    vectors, name = None, None
    found = installed_vectors() if config.use_vectors else None
    if found is not None:
        name, table = found
        matrix, _ = vectors_for(vocab.itos, table)
        vectors = torch.from_numpy(matrix)
    return PreparedStudy(corpus, dict(corpus.tasks), split, vocab, data, vectors, name)


def plan_runs(tasks: list[str], plan: str, seeds: int) -> list[tuple[str, list[str], int]]:
    """(setting, tasks, seed) for every run: 'single' per task, 'all' for all tasks together."""
    if plan not in PLANS:
        raise ConfigError(f"The 'plan' option must be one of {set(PLANS)}. Got {plan!r} instead.")
    groups = []
    if plan in ("singles+all", "singles"):
        groups += [("single", [t]) for t in tasks]
    if plan in ("singles+all", "all") and (len(tasks) > 1 or plan == "all"):
        groups.append(("all", list(tasks)))
    return [(setting, group, seed) for seed in range(seeds) for setting, group in groups]


def run_baselines(store: Store, study_id: str, prepared: PreparedStudy) -> None:
    corpus, split = prepared.corpus, prepared.split
    for task in prepared.specs:
        n = sum(corpus.annotations[task][i] is not None for i in split.test)
        store.add_baseline(study_id, task, "majority", majority_baseline(corpus, task, split), n)
        tfidf = tfidf_lr_baseline(corpus, task, split)
        if tfidf is not None:
            store.add_baseline(study_id, task, "tfidf-lr", tfidf, n)


def run_study(spec: StudySpec, store: Store | None = None, echo: Callable[[str], None] = print,
              save_models: bool = True) -> tuple[str, dict[int, RunResult]]:
    """Run every planned run of ``spec`` now (in this process); returns the study id and results."""
    store = store or Store()
    config = RunConfig.from_dict(spec.config)
    study_id = store.create_study(spec.name, spec.to_dict())
    try:
        prepared = prepare(spec, config)
    except Exception as exc:
        store.update_study(study_id, status="failed", error=str(exc))
        raise
    store.update_study(study_id, status="running", split_json=prepared.split.to_dict(),
                       vocab_json=prepared.vocab.itos, report_json=prepared.corpus.report.to_dict(),
                       tasks_json={t: s.__dict__ for t, s in prepared.specs.items()})
    echo(f"study {study_id}: {len(prepared.corpus)} examples, split {len(prepared.split.train)}/"
         f"{len(prepared.split.val)}/{len(prepared.split.test)} ({prepared.split.method}), "
         f"vocabulary {len(prepared.vocab)}" + (f", vectors from {prepared.vectors_name}" if prepared.vectors_name else ""))
    run_baselines(store, study_id, prepared)
    planned = plan_runs(list(prepared.specs), spec.plan, spec.seeds)
    run_ids = [store.add_run(study_id, setting, tasks, seed, config.to_dict()) for setting, tasks, seed in planned]
    results = {}
    for k, (run_id, (setting, tasks, seed)) in enumerate(zip(run_ids, planned), 1):
        results[run_id] = execute_run(store, study_id, run_id, prepared, tasks, config, seed, save_models)
        r = results[run_id]
        echo(f"  run {k}/{len(planned)} {setting:<6} seed {seed} " + ", ".join(
            f"{t}={r.test_scores[t][prepared.specs[t].selection_metric]:.3f}" for t in tasks)
             + f"  ({r.epochs_run} epochs, {r.train_seconds:.1f}s, {r.examples_per_second:.0f} ex/s)")
    store.update_study(study_id, status="done")
    return study_id, results


def execute_run(store: Store, study_id: str, run_id: int, prepared: PreparedStudy, tasks: list[str],
                config: RunConfig, seed: int, save_model: bool = True) -> RunResult:
    """Train one planned run, writing progress and, at the end, its results in one transaction."""
    store.update_run(run_id, status="running", started=time.time())
    specs = {t: prepared.specs[t] for t in tasks}
    try:
        result = train_run(prepared.data, specs, prepared.split, config, seed, len(prepared.vocab),
                           prepared.vectors, progress=lambda p: store.update_run(run_id, progress_json=p),
                           keep_model=save_model)
    except Exception as exc:
        store.update_run(run_id, status="failed", error=f"{type(exc).__name__}: {exc}", finished=time.time())
        raise
    checkpoint = None
    if save_model and result.state_dict is not None:
        path = mtl_home() / "checkpoints" / study_id / f"run{run_id}.pt"
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        torch.save(result.state_dict, tmp)
        tmp.replace(path)
        checkpoint = str(path)
    store.finish_run(run_id, result, checkpoint)
    return result


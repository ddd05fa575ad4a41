"""A study: the planned runs (each task alone + all tasks together) x seeds, all on one saved split.

Data is prepared once (``prepared.prepare``); every run of the study reuses exactly those tensors and that split.
"""
from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from typing import Callable

import torch

from mtl_core.data.splits import Split
from mtl_core.errors import ConfigError, DataError
from mtl_core.models.pretrained import missing_weights
from mtl_core.status import ACTIVE, Status
from mtl_core.store import Store
from mtl_core.studies.prepare import PreparedStudy, prepare
from mtl_core.studies.processes import process_identity
from mtl_core.studies.processes import stopping as worker_stopping
from mtl_core.studies.run_outputs import RunProgress, describe_error, store_result
from mtl_core.studies.spec import StudySpec, spec_from_dict, task_names
from mtl_core.training.baseline_cache import cached_tfidf_lr_baseline
from mtl_core.training.baselines import majority_baseline
from mtl_core.training.config import RunConfig
from mtl_core.training.trainer import RunResult, train_run

log = logging.getLogger(__name__)


def run_baselines(store: Store, study_id: str, prepared: PreparedStudy) -> None:
    """The majority and TF-IDF + LR baselines of every task that has none yet (a peer working on the same
    study, or an interrupted earlier attempt, may have scored some: the same split gives the same values). The
    TF-IDF + LR scores of a task and split scored before, in any study, are read from disk (``baseline_cache``)."""
    corpus, split = prepared.corpus, prepared.split
    tasks = list(prepared.specs)
    start = os.getpid() % len(tasks)  # peers finishing together start on different tasks
    for task in tasks[start:] + tasks[:start]:
        scored = {b["method"] for b in store.baselines(study_id) if b["task"] == task}
        n = sum(corpus.annotations[task][i] is not None for i in split.test)
        if "majority" not in scored:
            store.add_baseline(study_id, task, "majority", majority_baseline(corpus, task, split), n)
        tfidf = None if "tfidf-lr" in scored else cached_tfidf_lr_baseline(corpus, task, split)  # None: tagging
        if tfidf is not None:
            store.add_baseline(study_id, task, "tfidf-lr", tfidf, n)


# A pairs or subsets study's all-tasks run measures the cheap relatedness estimates (unless the user set the
# intervals): with two tasks, gradient cosines every 25 optimizer steps, lookahead affinity every 50. A probe
# backpropagates once per task (the affinity one also steps and re-scores once per task), so with k tasks the
# intervals grow k/2 times: the probes' share of a run's time stays about what it is for a pair.
MEASURE_EVERY = {"grad_every": 25, "affinity_every": 50}


def measure_every(n_tasks: int) -> dict[str, int]:
    """The probe intervals of an all-tasks run of ``n_tasks`` tasks (see MEASURE_EVERY)."""
    return {name: every * max(2, n_tasks) // 2 for name, every in MEASURE_EVERY.items()}


OOM_RETRIES = 3  # a run that does not fit in GPU memory is tried again with half the batch, this many times


def run_config(config: RunConfig, setting: str, plan: str, n_tasks: int = 0, n_study_tasks: int = 0) -> RunConfig:
    """The config one run trains with: the study's, plus relatedness probes on a pairs or subsets study's run of
    all its tasks (setting 'all'; with two tasks that run is their one 'pair'), to compare with what they measure."""
    every_task = setting == "all" or (setting == "pair" and n_tasks == n_study_tasks)
    if every_task and plan in ("pairs", "subsets") and not (config.grad_every or config.affinity_every):
        return config.replace(**measure_every(n_tasks))
    return config


def train_fitting_memory(train: Callable[[RunConfig], RunResult], config: RunConfig,
                         on_retry: Callable[[int], None] = lambda size: None) -> RunResult:
    """``train(config)``; after a GPU out-of-memory error, the cache is freed and the run trained again from the
    start with half the batch size (at most ``OOM_RETRIES`` times), so one large run does not cost the study."""
    for attempt in range(OOM_RETRIES + 1):
        try:
            return train(config)
        except torch.OutOfMemoryError:
            if attempt == OOM_RETRIES or config.batch_size < 2:
                raise
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
            config = config.replace(batch_size=config.batch_size // 2)
            log.warning("GPU out of memory: training again with batch size %d", config.batch_size)
            on_retry(config.batch_size)
    raise AssertionError("unreachable")


def create_study(spec: StudySpec, store: Store, backend: str = "inline", executor: dict | None = None) -> str:
    """The study row and its planned runs, all "queued". Loads no data: with unknown tasks (``spec.tasks``
    None and data from files) the runs are planned by ``execute_study`` once the data is loaded. ``executor``:
    where its runs train (``backends.Executor.to_dict``; None: here, or on the local workers)."""
    config = RunConfig.from_dict(spec.config)  # unknown keys fail here, before anything is stored
    if problem := missing_weights(config.backbone):
        raise ConfigError(problem)  # before anything is queued: every run would fail the same way
    tasks = task_names(spec)
    runs = spec.planned_runs(tasks) if tasks else []
    return store.create_study(spec.name, spec.to_dict(), runs, config.to_dict(), backend, executor)


def run_study(spec: StudySpec, store: Store | None = None, echo: Callable[[str], None] = print,
              save_models: bool = True) -> tuple[str, dict[int, RunResult]]:
    """Run every planned run of ``spec`` now, in this process (the CLI's path); the first error is raised."""
    store = store or Store()
    study_id = create_study(spec, store)
    return study_id, execute_study(study_id, store, echo, save_models, raise_errors=True)


class RunTaken(RuntimeError):
    """The run to start was no longer queued: another process had claimed it."""


class WorkerStopping(RuntimeError):
    """The worker process is shutting down; the interrupted run was queued again."""


@dataclass
class StudyRun:
    """One process executing one study: what a loop over its queued runs needs (``train_here``, or the Ray
    backend's ``ray_backend.train_on_ray``), and the results it collects."""
    store: Store
    study_id: str
    spec: StudySpec
    config: RunConfig
    prepared: PreparedStudy
    echo: Callable[[str], None]
    save_models: bool
    raise_errors: bool
    results: dict[int, RunResult] = field(default_factory=dict)

    def run_config(self, run: dict) -> RunConfig:
        """The config ``run`` trains with (``run_config``: relatedness probes on a pairs or subsets study's
        all-tasks run)."""
        return run_config(self.config, run["setting"], self.spec.plan, len(run["tasks"]), len(self.prepared.specs))

    def done(self, run: dict, result: RunResult, total: int) -> None:
        """Keep a finished run's result and print its line."""
        self.results[run["id"]] = result
        done = sum(x["status"] == Status.DONE for x in self.store.runs(self.study_id))
        specs = self.prepared.specs
        self.echo(f"  run {done}/{total} {run['setting']:<6} seed {run['seed']} " + ", ".join(
            f"{t}={result.test_scores[t][specs[t].selection_metric]:.3f}" for t in run["tasks"])
            + f"  ({result.epochs_run} epochs, {result.train_seconds:.1f}s, {result.examples_per_second:.0f} ex/s)")


RunLoop = Callable[[StudyRun], bool]  # trains the queued runs; False: this process stops, the study stays running


def train_here(job: StudyRun) -> bool:
    """Train the study's queued runs one by one in this process (the local backend); False when the worker
    stops (the interrupted run went back to the queue)."""
    store, study_id = job.store, job.study_id
    total = len(store.runs(study_id))
    while not store.cancel_requested(study_id) and (run := store.next_queued_run(study_id)) is not None:
        if worker_stopping():
            return False  # the worker is shutting down: the study stays "running", the next worker resumes it
        try:
            result = execute_run(store, study_id, run["id"], job.prepared, run["tasks"], job.run_config(run),
                                 run["seed"], job.save_models)
        except WorkerStopping:
            return False  # the run went back to the queue; the next worker resumes the study
        except (InterruptedError, RunTaken):
            continue  # cancelled (execute_run marked it), or another process claimed the run first
        except Exception:
            if job.raise_errors:
                raise
            log.exception("study %s: run %s failed", study_id, run["id"])
            continue
        job.done(run, result, total)
    return True


def execute_study(study_id: str, store: Store | None = None, echo: Callable[[str], None] = log.info,
                  save_models: bool = True, raise_errors: bool = False,
                  train_runs: RunLoop = train_here) -> dict[int, RunResult]:
    """Train the study's queued runs (``train_runs``: here, one by one, by default); returns their results.
    The worker's task; resumable.

    The data is prepared again from the stored spec; on a resumed study it must give the same split
    (fingerprint) and vocabulary. Baselines run once; done runs are kept. A failing run is marked failed
    with its error (traceback in the log) and the study goes on, unless ``raise_errors``. The study
    ends "done" (every run done), "cancelled" (cancel asked) or "failed"."""
    store = store or Store()
    study = store.study(study_id)
    if study is None:
        raise ConfigError(f"No study {study_id!r} in {store.path}.")
    if not store.start_study(study_id, process_identity()):
        return {}  # cancelled before it started, or a duplicate queue message of a finished study
    if store.runs(study_id) and store.next_queued_run(study_id) is None:
        _finish_study(store, study_id)  # a duplicate message: nothing left to train; settle it if nobody else will
        return {}
    spec = spec_from_dict(study["spec"])
    try:
        config = RunConfig.from_dict(spec.config)
        prepared = prepare(spec, config)
        _check_same_data(study, prepared)
    except Exception as exc:
        if not raise_errors:  # the caller reports what it raises; the worker's log keeps the traceback
            log.exception("study %s: preparing the data failed", study_id)
        store.close_queued_runs(study_id, Status.FAILED, describe_error(exc))
        _finish_study(store, study_id, error=describe_error(exc))
        if raise_errors:
            raise
        return {}
    if study.get("split") is None:
        store.update_study(study_id, split_json=prepared.split.to_dict(), vocab_json=prepared.vocab.itos,
                           report_json=prepared.corpus.report.to_dict(),
                           tasks_json={t: s.__dict__ for t, s in prepared.specs.items()})
        echo(f"study {study_id}: {len(prepared.corpus)} examples, split {len(prepared.split.train)}/"
             f"{len(prepared.split.val)}/{len(prepared.split.test)} ({prepared.split.method}), "
             f"vocabulary {len(prepared.vocab)}"
             + (f", vectors from {prepared.vectors_name}" if prepared.vectors_name else ""))
    if not store.runs(study_id):  # tasks were unknown at creation (planned once, even by two workers at once)
        store.add_runs_once(study_id, spec.planned_runs(list(prepared.specs)), config.to_dict())
    job = StudyRun(store, study_id, spec, config, prepared, echo, save_models, raise_errors)
    try:
        finished = train_runs(job)
    except Exception:  # only with raise_errors (or a backend that cannot go on: the study stops here)
        _finish_study(store, study_id, given_up=True)
        raise
    results = job.results
    if not finished:
        return results  # this process stops: the study stays "running", the next worker resumes it
    # After the runs, so that workers sharing the study all start training at once; before settling it, so that
    # a study is never done without its baselines (whichever worker settles it has checked them itself).
    if not store.cancel_requested(study_id):
        try:
            run_baselines(store, study_id, prepared)
        except Exception:
            if raise_errors:
                _finish_study(store, study_id, given_up=True)
                raise
            log.exception("study %s: the baselines failed", study_id)  # the runs' results stand
    _finish_study(store, study_id)
    return results


def _check_same_data(study: dict, prepared: PreparedStudy) -> None:
    """A resumed study must see exactly the split and vocabulary its finished runs saw."""
    if study.get("split") is None:
        return
    before, now = Split.from_dict(study["split"]).fingerprint(), prepared.split.fingerprint()
    if before != now or study.get("vocab") != prepared.vocab.itos:
        raise DataError(None, f"The data no longer gives this study's split (fingerprint {now}, the study's "
                              f"is {before}) or vocabulary.", "Restore the original data, or start a new study.")


def _finish_study(store: Store, study_id: str, error: str | None = None, given_up: bool = False) -> None:
    """Settle the study once no run of it is queued or training (whichever worker ends last does it).

    ``error``: the study failed as a whole; ``given_up``: this process stops on an error, queued runs stay."""
    def verdict(runs: list[dict], cancelled: bool) -> tuple[Status, str | None]:
        failed = [r for r in runs if r["status"] == Status.FAILED]
        if error:
            return Status.FAILED, error
        if cancelled:
            return Status.CANCELLED, None
        if all(r["status"] == Status.DONE for r in runs):
            return Status.DONE, None
        first = f"; the first: {failed[0]['error']}" if failed else ""
        return Status.FAILED, f"{len(failed)} of {len(runs)} runs failed{first}"

    store.settle_study(study_id, verdict, blocking=(Status.RUNNING,) if given_up else ACTIVE)


def train_prepared(prepared: PreparedStudy, tasks: list[str], config: RunConfig, seed: int, save_model: bool,
                   report: Callable[[dict], None], should_stop: Callable[[], bool],
                   restart: Callable[[str], None]) -> RunResult:
    """Train one run of ``tasks`` on the study's prepared data (its auxiliary tasks too), trained again with a
    smaller batch after a GPU out-of-memory error (``restart(note)`` then). Here or in a Ray task."""
    specs = {**{t: prepared.specs[t] for t in tasks}, **prepared.aux_specs}

    def train(cfg: RunConfig) -> RunResult:
        return train_run(prepared.data, specs, prepared.split, cfg, seed, len(prepared.vocab), prepared.vectors,
                         progress=report, keep_model=save_model, itos=prepared.vocab.itos,
                         known_words=prepared.known_words, should_stop=should_stop)

    return train_fitting_memory(train, config, lambda size: restart(
        f"GPU out of memory: training again from the start with batch size {size}"))


def execute_run(store: Store, study_id: str, run_id: int, prepared: PreparedStudy, tasks: list[str],
                config: RunConfig, seed: int, save_model: bool = True) -> RunResult:
    """Train one planned run: progress and each epoch's curves written live, results in one transaction.

    Raises what training raised (InterruptedError when cancelled), after marking the run."""
    if not store.claim_run(run_id, process_identity()):
        raise RunTaken(f"Run {run_id} is no longer queued: another process took it.")
    progress = RunProgress(store, run_id)
    try:
        result = train_prepared(prepared, tasks, config, seed, save_model, progress,
                                lambda: worker_stopping() or store.cancel_requested(study_id), progress.restart)
    except InterruptedError:
        if worker_stopping():  # SIGTERM: not cancelled, only interrupted; run it again, whole, later
            store.reset_run(run_id)
            raise WorkerStopping(f"Run {run_id} was stopped by the worker's shutdown and queued again.") from None
        store.update_run(run_id, status=Status.CANCELLED, error="Cancelled.", finished=time.time())
        raise
    except Exception as exc:
        store.update_run(run_id, status=Status.FAILED, error=describe_error(exc), finished=time.time())
        raise
    store_result(store, study_id, run_id, result, save_model)
    return result

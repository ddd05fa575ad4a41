"""Runs trained at once: one study through the background queue with 1 worker process, then with N.

What is measured
    Wall-clock seconds from queueing a study (``jobs.submit_study``) until its last run is done, and runs
    per minute, with one worker and with N workers serving the same store (``worker --workers N``; the study
    is queued once per worker, ``jobs.fan_out``, and its runs are claimed one by one by whichever worker is
    free). Both clocks include starting the processes and preparing the data in each worker, which is what
    a user waits for.

The two contenders get the same input
    The same preset and config, the same seeds and split (a fresh store each, so nothing is reused), on the
    same device. CPU threads: the one worker gets T threads, the N workers T // N each (T = the cores but one,
    or ``--threads``), so neither side gets more of the machine. On a GPU every worker shares the card.

Reading the result
    ratio = runs/min with N workers / runs/min with 1. Small models leave a GPU mostly idle between kernel
    launches, so several processes fill it; on a CPU the ratio shows how much a single run's threads leave
    unused. The mean test score of each side is printed too: the same runs, the same seeds, so they agree up
    to floating-point order (threads differ).

``--backend ray`` (issue 18) times the same study three ways instead, side by side in one run: the local backend
(N workers), the Ray backend on a local Ray instance that the worker starts (N runs at once, one CPU each, as the N
local workers), and the Ray backend over a local two-node cluster (``ray.cluster_utils.Cluster``, N / 2 CPUs per
node, started before the clock: a cluster is there before its users). Every clock includes the owner worker's
start, data preparation and baselines; the local Ray's start-up is part of its cost. Both nodes of the "cluster"
are processes on this one machine: that row simulates scale-out, it does not measure it.

This is a benchmark, not a test: nothing asserts a timing. ``BENCH_WORKER_LOG=FILE`` keeps the workers' logs.

    .venv/bin/python bench/parallel_runs.py                               # synthetic-demo, 2 workers
    MTL_LAB_DATA_DIR=../shared/datasets .venv/bin/python bench/parallel_runs.py --preset absa --seeds 1 --workers 4
    .venv/bin/python bench/parallel_runs.py --device cuda --workers 4     # on a machine with a GPU
    MTL_LAB_DATA_DIR=../shared/datasets .venv/bin/python bench/parallel_runs.py --preset absa --seeds 3 --backend ray

On a GPU (``--device cuda``) every worker trains on the same card (with several cards, each worker takes one:
``studies.parallel``); ``--device cuda`` on a machine without one stops at once with a message. Frozen pretrained
encoders (absa) keep their states in each fresh store's home (``models.state_cache``): a sentence that another
worker already wrote there is read, not encoded again.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from mtl_core.studies.spec import StudySpec  # noqa: E402

LOG = os.environ.get("BENCH_WORKER_LOG", os.devnull)


def timed_study(spec: StudySpec, workers: int, threads: int, timeout: float, executor=None) -> dict:
    """Queue ``spec`` in a fresh store, serve it with ``workers`` processes; seconds until done, runs, score.
    ``executor`` (the Ray backend): one worker owns the study, its runs train as Ray tasks, ``workers`` at once."""
    with tempfile.TemporaryDirectory(prefix="mtl-parallel-") as home:
        processes = 1 if executor is not None else workers
        env = dict(os.environ, MTL_LAB_HOME=home, MTL_LAB_PARALLEL_RUNS=str(workers),
                   MTL_LAB_THREADS=str(max(1, threads // processes)), PYTHONPATH=str(ROOT))
        os.environ.update(MTL_LAB_HOME=home, MTL_LAB_PARALLEL_RUNS=str(workers))
        from mtl_core.store import Store
        from mtl_core.studies.queue import submit_study

        store = Store()
        started = time.perf_counter()
        study_id = submit_study(spec, store, executor)
        with open(LOG, "ab") as log:
            worker = subprocess.Popen([sys.executable, "-m", "mtl_core", "worker", "--workers", str(processes)],
                                      cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
        try:
            while store.study(study_id)["status"] in ("queued", "running"):
                if time.perf_counter() - started > timeout:
                    raise SystemExit(f"{workers} worker(s): the study did not finish within {timeout:.0f} s")
                time.sleep(0.2)
            seconds = time.perf_counter() - started
        finally:
            worker.terminate()
            worker.wait(60)
        runs = store.runs(study_id)
        if store.study(study_id)["status"] != "done":
            raise SystemExit(f"{workers} worker(s): study ended {store.study(study_id)['status']}: "
                             f"{store.study(study_id).get('error')}")
        scores = [row["value"] for row in store.scores(study_id) if row["metric"] == "accuracy"]
        owners = {r["owner"] for r in runs}
        return {"seconds": seconds, "runs": len(runs), "processes": len(owners),
                "score": statistics.fmean(scores) if scores else float("nan")}


def ray_side_by_side(spec: StudySpec, args) -> int:
    """The local backend, Ray on one machine, Ray over a local 2-node cluster: the same study, in one run."""
    from ray.cluster_utils import Cluster

    from mtl_core.studies.backends import Executor

    load_before = os.getloadavg()
    rows = [("local backend", timed_study(spec, args.workers, args.threads, args.timeout)),
            ("Ray, local instance", timed_study(spec, args.workers, args.threads, args.timeout, Executor("ray")))]
    per_node = max(1, args.workers // 2)
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": per_node})
    try:
        cluster.add_node(num_cpus=per_node)
        cluster.wait_for_nodes()
        rows.append(("Ray, 2-node local cluster", timed_study(spec, args.workers, args.threads, args.timeout,
                                                              Executor("ray", cluster.address))))
    finally:
        cluster.shutdown()
    print(f"preset {args.preset}, {args.seeds} seed(s), device {args.device}, {args.workers} runs at once, "
          f"{args.threads} CPU thread(s) in all; load average before {load_before[0]:.1f}, "
          f"after {os.getloadavg()[0]:.1f} ({os.cpu_count()} cores)")
    print(f"{'backend':<27} {'runs':>5} {'wall s':>8} {'runs/min':>9} {'x local time':>13} {'mean test score':>16}")
    for name, row in rows:
        print(f"{name:<27} {row['runs']:>5} {row['seconds']:>8.1f} {60 * row['runs'] / row['seconds']:>9.2f} "
              f"{row['seconds'] / rows[0][1]['seconds']:>13.3f} {row['score']:>16.4f}")
    print(f"Ray on one machine costs {100 * (rows[1][1]['seconds'] / rows[0][1]['seconds'] - 1):+.1f}% wall time "
          "against the local backend.")
    print("Note: the 2-node cluster's nodes are processes on this one machine: a simulation of scale-out (Ray's "
          "scheduling, object transfer between node stores, retries), not a measurement of more hardware.")
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--preset", default="synthetic-demo")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--epochs", type=int, default=None, help="override the preset's epochs")
    p.add_argument("--workers", type=int, default=2, help="worker processes to compare with one (default 2)")
    p.add_argument("--threads", type=int, default=max(1, (os.cpu_count() or 1) - 1),
                   help="CPU threads in all, shared out between the workers (default: the cores but one)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                   help="where the workers train (default auto: a GPU if there is one)")
    p.add_argument("--timeout", type=float, default=3600)
    p.add_argument("--backend", choices=("local", "ray"), default="local",
                   help="local: 1 worker vs N (default); ray: the local backend vs Ray here vs a 2-node local cluster")
    args = p.parse_args(argv)
    if args.device == "cuda":
        import torch
        if not torch.cuda.is_available():
            p.error("--device cuda: this torch build sees no CUDA device")

    spec = StudySpec.from_preset(args.preset, seeds=args.seeds)
    spec.config = {**spec.config, "device": args.device, **({"epochs": args.epochs} if args.epochs else {})}
    if args.backend == "ray":
        return ray_side_by_side(spec, args)
    rows = [timed_study(spec, n, args.threads, args.timeout) for n in (1, args.workers)]
    print(f"preset {args.preset}, {args.seeds} seed(s), device {args.device}, {args.threads} CPU thread(s) in all")
    print(f"{'workers':>8} {'runs':>5} {'processes used':>15} {'wall s':>8} {'runs/min':>9} {'mean test score':>16}")
    for n, row in zip((1, args.workers), rows):
        print(f"{n:>8} {row['runs']:>5} {row['processes']:>15} {row['seconds']:>8.1f} "
              f"{60 * row['runs'] / row['seconds']:>9.2f} {row['score']:>16.4f}")
    print(f"ratio ({args.workers} workers / 1): {rows[0]['seconds'] / rows[1]['seconds']:.2f}x runs per minute")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

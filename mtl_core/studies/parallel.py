"""How many runs this machine trains at once, and how worker processes share out its GPUs and cores.

Our models are small (a BiLSTM of a few hundred thousand weights, batches of 32 sentences): one run keeps an
H100 busy a few percent of the time, its kernels too small to fill the card. So on a GPU several worker
processes train runs side by side, each its own CUDA context and stream, and one study's runs are spread
over them (``queue.submit_study`` queues a study once per worker; every run is claimed in one statement, so
none is trained twice). On a CPU, one worker per 4 cores shares them out; ``MTL_LAB_PARALLEL_RUNS``
overrides both. ``bench/parallel_runs.py`` measures runs per minute with one worker and with several.
"""
from __future__ import annotations

import os

RUNS_PER_GPU = 4  # worker processes per CUDA device by default (each needs ~0.5 GB for its CUDA context)
# CPU: a small run gains little from more threads (2 cores: two 1-thread workers train a study 1.60x faster than
# one 2-thread worker, bench/parallel_runs.py), so a machine with many cores trains several runs at once.
CORES_PER_RUN = 4


def spare_cores() -> int:
    """CPU cores for training: all but one, which the web app keeps (at least one)."""
    return max(1, (os.cpu_count() or 1) - 1)


def gpu_count() -> int:
    """CUDA devices visible here (0 without torch's CUDA build); does not create a CUDA context."""
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def parallel_runs() -> int:
    """Runs trained at once on this machine: ``MTL_LAB_PARALLEL_RUNS``, else RUNS_PER_GPU per GPU, else one per
    CORES_PER_RUN cores (the app keeps one core)."""
    wanted = os.environ.get("MTL_LAB_PARALLEL_RUNS", "")
    if wanted.isdigit() and int(wanted) > 0:
        return int(wanted)
    return RUNS_PER_GPU * gpu_count() or max(1, spare_cores() // CORES_PER_RUN)


def child_env(env: dict, index: int, workers: int, gpus: int | None = None) -> dict:
    """The environment of worker ``index`` of ``workers``: with several GPUs, each worker sees one of them
    (round robin); without MTL_LAB_THREADS set, the CPU cores but one (the app's) are shared out."""
    env = dict(env)
    gpus = gpu_count() if gpus is None else gpus
    if gpus > 1 and "CUDA_VISIBLE_DEVICES" not in env:
        env["CUDA_VISIBLE_DEVICES"] = str(index % gpus)
    if workers > 1 and not env.get("MTL_LAB_THREADS"):
        env["MTL_LAB_THREADS"] = str(max(1, spare_cores() // workers))
    return env

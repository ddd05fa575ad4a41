"""The background worker process: `python -m mtl_core worker [--workers N]` serves the study queue of one store.

Several worker processes may serve one store at once: huey hands each queued study to one of them, and
every run is claimed in one statement (``Store.claim_run``), so no run is trained twice. Each worker beats a
heartbeat row into the store every few seconds (pid, process start time, last beat), puts back on the
queue whatever a dead process left unfinished (see ``queue.recover``: at its start, whenever it sees the
heartbeat row of a dead peer, and as it stops), and runs a huey consumer with one worker thread.

A process is named by its *identity*, ``"pid:start"``, where start is the kernel's start time of the
process (Linux ``/proc/PID/stat``), so a pid reused by another program is never mistaken for the worker.
"""
from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from mtl_core.store import Store
from mtl_core.studies.processes import (
    ROOT,
    identity_alive,
    process_identity,
    request_stop,
    worker_command,
    worker_env,
)

log = logging.getLogger(__name__)
BEAT_SECONDS = 2.0
STOP_SECONDS = 30.0  # after SIGTERM: how long the running run may take to notice and put itself back


def training_threads() -> int:
    """Set and return this process' CPU threads (torch, BLAS): ``MTL_LAB_THREADS`` if set, else all cores but one.

    The worker shares the machine with the web app: leaving it a core keeps pages responsive and avoids
    oversubscription, where torch's spinning threads and another busy process slow each other down many-fold
    (measured on 2 cores: 7,000 examples/s alone vs 240 beside a busy Streamlit server with 2 threads).
    """
    import torch
    from threadpoolctl import threadpool_limits

    from mtl_core.studies.parallel import spare_cores

    wanted = os.environ.get("MTL_LAB_THREADS")
    threads = int(wanted) if wanted and wanted.isdigit() and int(wanted) > 0 else spare_cores()
    torch.set_num_threads(threads)
    threadpool_limits(threads)  # BLAS / OpenMP pools (scikit-learn's baselines) too: several workers each took
    return threads              # every core for them and slowed each other many-fold


def run_workers(store_path: str | Path | None = None, workers: int = 1) -> int:
    """Serve the queue with ``workers`` processes: this one alone, or that many children it waits for (each
    with its share of the GPUs and cores, ``parallel.child_env``), passing SIGINT and SIGTERM on to them;
    the exit status is the worst of theirs."""
    if workers == 1:
        return run_worker(store_path)
    from mtl_core.studies.parallel import child_env

    children = [subprocess.Popen(worker_command(store_path), cwd=ROOT, env=child_env(worker_env(), i, workers),
                                 start_new_session=True) for i in range(workers)]

    def pass_on(signum, frame) -> None:
        for child in children:
            if child.poll() is None:
                child.send_signal(signum)

    signal.signal(signal.SIGINT, pass_on)
    signal.signal(signal.SIGTERM, pass_on)
    return max(abs(child.wait()) for child in children)


def run_worker(store_path: str | Path | None = None, beat_seconds: float = BEAT_SECONDS) -> int:
    """Serve the queue until SIGINT (graceful: the running run finishes) or SIGTERM (stop now: the running
    run stops within about a second and is queued again, whole, for a peer or the next worker)."""
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s")
    store = Store(store_path)
    threads = training_threads()
    identity, host, started = process_identity(), socket.gethostname(), time.time()
    store.beat(identity, os.getpid(), host, started)
    log.info("training with %d CPU thread(s)", threads)
    stop = threading.Event()
    from mtl_core.studies.queue import get_queue, recover

    def beat() -> None:
        while not stop.wait(beat_seconds):
            try:
                store.beat(identity, os.getpid(), host, started)
                if any(not identity_alive(w["identity"]) for w in store.workers()):  # a peer died: take over
                    log.info("a worker died; put back on the queue: %s", recover(store) or "nothing")
            except Exception:  # a locked or busy store must not kill the heartbeat
                log.exception("heartbeat failed")

    threading.Thread(target=beat, name="heartbeat", daemon=True).start()
    log.info("worker %s serving %s; put back on the queue: %s", identity, store.path, recover(store) or "nothing")
    consumer = get_queue(store).create_consumer(workers=1, worker_type="thread", periodic=False,
                                                initial_delay=0.1, backoff=1.15, max_delay=1.0)
    try:
        consumer.run()
    finally:
        # huey does not stop its worker threads on SIGTERM; a thread still inside torch when the interpreter
        # exits aborts the process. So the running run is asked to stop (study.execute_run puts it back on
        # the queue) and waited for.
        request_stop()
        for _, thread in consumer.worker_threads:
            thread.join(STOP_SECONDS)
        stop.set()
        if not any(thread.is_alive() for _, thread in consumer.worker_threads):
            # Hand back the study it was training (its message), for a peer or the next worker. A run still
            # training keeps this worker's heartbeat row, so a peer sees it dead after exit and takes over.
            try:
                log.info("stopping; put back on the queue: %s", recover(store) or "nothing")
                store.remove_worker(identity)
            except Exception:  # a busy store: the row stays, and a peer or the next worker recovers instead
                log.exception("handing back the queue failed")
    return 0

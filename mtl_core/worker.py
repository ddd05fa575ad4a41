"""The background worker process: `python -m mtl_core worker` serves the study queue of one store.

It holds a lock beside the store (one worker per store), beats a heartbeat row into the store every few
seconds (pid, process start time, last beat), puts back on the queue whatever a dead worker left
unfinished (see ``jobs.recover``), then runs a huey consumer with one worker thread.

A process is named by its *identity*, ``"pid:start"``, where start is the kernel's start time of the
process (Linux ``/proc/PID/stat``), so a pid reused by another program is never mistaken for the worker.
"""
from __future__ import annotations

import logging
import os
import socket
import sys
import threading
import time
from pathlib import Path

from .store import Store

log = logging.getLogger(__name__)
BEAT_SECONDS = 2.0
LOCKED = 3  # exit status: another worker already serves this store
STOP_SECONDS = 30.0  # after SIGTERM: how long the running run may take to notice and put itself back
_stopping = threading.Event()  # set once this process is stopping: the training run stops and is re-queued


def stopping() -> bool:
    """Whether this worker process is shutting down (SIGTERM): a run in progress should stop and be re-queued."""
    return _stopping.is_set()


def _start_ticks(pid: int) -> str | None:
    """The process' start time in clock ticks since boot, or None if it is gone (or a zombie)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
    return None if fields[0] in ("Z", "X") else fields[19]  # fields[0]: state (field 3); [19]: starttime (22)


def process_identity(pid: int | None = None) -> str:
    """``"pid:start"`` for a live process (this one by default); start is '?' where /proc is missing."""
    pid = pid or os.getpid()
    return f"{pid}:{_start_ticks(pid) or '?'}"


def identity_alive(identity: str | None) -> bool:
    """Whether the process named by ``identity`` still runs: same pid AND the same start time."""
    if not identity:
        return False
    pid_text, _, start = identity.partition(":")
    pid = int(pid_text)
    if Path("/proc/self/stat").exists():
        return _start_ticks(pid) == start
    try:  # no /proc (macOS, Windows): the pid's existence is all we can check
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def _take_lock(path: Path):
    """An exclusive lock held for the life of this process (released by the OS even on kill -9)."""
    try:
        import fcntl
    except ImportError:  # Windows: no lock; the heartbeat check in ensure_worker is the only guard
        return object()
    fh = open(path, "a+")
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        fh.close()
        return None
    return fh


def training_threads() -> int:
    """Set and return torch's CPU threads for training: ``MTL_LAB_THREADS`` if set, else all cores but one.

    The worker shares the machine with the web app: leaving it a core keeps pages responsive and avoids
    oversubscription, where torch's spinning threads and another busy process slow each other down many-fold
    (measured on 2 cores: 7,000 examples/s alone vs 240 beside a busy Streamlit server with 2 threads).
    """
    import torch

    wanted = os.environ.get("MTL_LAB_THREADS")
    threads = int(wanted) if wanted and wanted.isdigit() and int(wanted) > 0 else max(1, (os.cpu_count() or 1) - 1)
    torch.set_num_threads(threads)
    return threads


def run_worker(store_path: str | Path | None = None, beat_seconds: float = BEAT_SECONDS) -> int:
    """Serve the queue until SIGINT (graceful: the running run finishes) or SIGTERM (stop now: the running
    run stops within about a second and is queued again, whole, for the next worker)."""
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s")
    store = Store(store_path)
    lock = _take_lock(store.path.with_name("worker.lock"))
    if lock is None:
        log.info("another worker already serves %s; exiting", store.path)
        return LOCKED
    threads = training_threads()
    identity, host, started = process_identity(), socket.gethostname(), time.time()
    store.beat(identity, os.getpid(), host, started)
    log.info("training with %d CPU thread(s)", threads)
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(beat_seconds):
            try:
                store.beat(identity, os.getpid(), host, started)
            except Exception:  # a locked or busy store must not kill the heartbeat
                log.exception("heartbeat failed")

    threading.Thread(target=beat, name="heartbeat", daemon=True).start()
    from .jobs import get_queue, recover

    log.info("worker %s serving %s; put back on the queue: %s", identity, store.path, recover(store) or "nothing")
    consumer = get_queue(store).create_consumer(workers=1, worker_type="thread", periodic=False,
                                                initial_delay=0.1, backoff=1.15, max_delay=1.0)
    try:
        consumer.run()
    finally:
        # huey does not stop its worker threads on SIGTERM; a thread still inside torch when the interpreter
        # exits aborts the process. So the running run is asked to stop (study.execute_run puts it back on
        # the queue) and waited for.
        _stopping.set()
        for _, thread in consumer.worker_threads:
            thread.join(STOP_SECONDS)
        stop.set()
        store.remove_worker(identity)
    return 0

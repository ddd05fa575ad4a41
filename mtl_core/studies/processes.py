"""Worker processes, named so a reused pid is never mistaken for one: a process' *identity* is ``"pid:start"``,
start being the kernel's start time of the process (Linux ``/proc/PID/stat``). Also the command line that
starts a worker, and this process' "stopping" flag, which a run in progress polls to put itself back on the
queue when its worker shuts down. The lowest part of a study's lifecycle: the queue, the executor and the
worker all read it; it imports none of them."""
from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


_stopping = threading.Event()  # set once this process is stopping: the training run stops and is re-queued


def request_stop() -> None:
    """Mark this process as stopping: the run in progress stops within about a second and is queued again."""
    _stopping.set()


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


def worker_command(store_path: str | Path | None = None, workers: int = 1) -> list[str]:
    """The command line that starts ``workers`` worker processes on ``store_path`` (default: this home's store)."""
    return ([sys.executable, "-m", "mtl_core", "worker"] + (["--store", str(store_path)] if store_path else [])
            + (["--workers", str(workers)] if workers > 1 else []))


def worker_env() -> dict:
    """This environment (MTL_LAB_HOME, data folder, settings) for a worker process, with this code importable."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return env

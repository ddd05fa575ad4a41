"""Real worker processes for the fault and concurrency self-tests: start, wait, kill, and always clean up.

Every process started here gets the section's own MTL Lab home (``MTL_LAB_HOME``) and one CPU thread;
``Processes.close`` kills whatever is still alive, so a failing check never leaves a worker behind.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from mtl_core.store import Store
from mtl_core.studies.spec import StudySpec

ROOT = Path(__file__).resolve().parents[2]


class SelfTestTimeout(RuntimeError):
    """A condition the self-test waited for did not come in time."""


def tiny_source(n_examples: int = 120, seed: int = 0) -> dict:
    """A small generated corpus with two related tasks (trains in well under a second per epoch)."""
    return {"synthetic": {"seed": seed, "filler_words": 60, "min_length": 5, "max_length": 9, "tasks": [
        {"name": "base", "private_cues": 6, "n_examples": n_examples},
        {"name": "related", "shared_cues": 4, "private_cues": 2, "n_examples": n_examples}]}}


def tiny_spec(name: str, seeds: int = 1, epochs: int = 1, plan: str = "singles+all", tasks=("base", "related"),
              n_examples: int = 120, **config) -> StudySpec:
    return StudySpec(name=name, source=tiny_source(n_examples), tasks=list(tasks), seeds=seeds, plan=plan,
                     config={"epochs": epochs, "hidden": 8, "emb_dim": 8, "patience": 50, **config})


def child_env(home: Path) -> dict:
    env = dict(os.environ)
    env.update(MTL_LAB_HOME=str(home), OMP_NUM_THREADS="1", MTL_LAB_THREADS="1", PYTHONUNBUFFERED="1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    return env


def wait_for(condition, timeout: float, what: str, poll: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(poll)
    raise SelfTestTimeout(f"timed out after {timeout:.0f} s waiting for {what}")


def integrity(store: Store) -> str:
    """SQLite's own check of the whole store file: 'ok' when nothing is corrupt."""
    return store.integrity_check()


class Processes:
    """The child processes of one self-test section, all started in ``home``; ``close`` kills the living."""

    def __init__(self, home: Path):
        self.home = Path(home)
        self.home.mkdir(parents=True, exist_ok=True)
        self.started: list[subprocess.Popen] = []

    def start(self, args: list[str], log_name: str = "worker.log") -> subprocess.Popen:
        with open(self.home / log_name, "ab") as log:
            proc = subprocess.Popen([sys.executable, *args], cwd=ROOT, env=child_env(self.home),
                                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        self.started.append(proc)
        return proc

    def worker(self, store: Store) -> subprocess.Popen:
        return self.start(["-m", "mtl_core", "worker", "--store", str(store.path)])

    def log_tail(self, log_name: str = "worker.log", chars: int = 1500) -> str:
        path = self.home / log_name
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""

    @staticmethod
    def kill(proc: subprocess.Popen, sig: int = signal.SIGKILL, timeout: float = 20.0) -> int:
        """Send ``sig`` and wait for the process to end; returns its exit status."""
        if proc.poll() is None:
            os.kill(proc.pid, sig)
        return proc.wait(timeout=timeout)

    def close(self) -> None:
        for proc in self.started:
            if proc.poll() is None:
                proc.kill()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    pass


class Checks:
    """A section's tally: each check tried, passed or failed with what failed and why."""

    def __init__(self):
        self.tried = self.ok = 0
        self.failures: list[str] = []

    def check(self, what: str, passed: bool, detail: str = "") -> bool:
        self.tried += 1
        if passed:
            self.ok += 1
        else:
            self.failures.append(f"{what}" + (f": {detail}" if detail else ""))
        return passed

    def section(self, name: str, details: dict) -> dict:
        """The section's entry in the reliability report."""
        return {"name": name, "tried": self.tried, "ok": self.ok, "failures": self.failures, "details": details}

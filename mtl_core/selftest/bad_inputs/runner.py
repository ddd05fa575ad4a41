"""Running one bad input: write its files, load them as the case says, and judge what came back."""
from __future__ import annotations

import os
import signal
import time
import traceback
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from mtl_core.errors import MTLLabError
from mtl_core.selftest.bad_inputs.cases import Case

TIME_LIMIT_S = 30  # per case; the slowest (10 MB files) take about a second


class CaseTimeout(Exception):
    """A case ran past TIME_LIMIT_S (a hang)."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise CaseTimeout after ``seconds`` (SIGALRM: main thread on POSIX; elsewhere no limit)."""
    usable = hasattr(signal, "setitimer") and _main_thread()
    if not usable:
        yield
        return

    def _alarm(signum, frame):
        raise CaseTimeout(f"over {seconds} s")

    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


@contextmanager
def environment(pairs: tuple[tuple[str, str], ...]) -> Iterator[None]:
    old = {k: os.environ.get(k) for k, _ in pairs}
    os.environ.update(dict(pairs))
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def load_case(case: Case, folder: Path):
    """Write the case's files and load them the way ``case.how`` says; returns the Corpus."""
    from mtl_core.data.library import save_upload
    from mtl_core.data.loaders import load_files
    from mtl_core.data.sources import load_source

    options = dict(case.options)
    if case.how == "upload":
        (name, data), = case.files[:1]
        path = save_upload(name, data)
        return load_files([path] + [_write(folder, n, d) for n, d in case.files[1:]], **options)
    paths = [_write(folder, n, d) for n, d in case.files]
    if case.how == "test":
        return load_source({"files": [str(p) for p in paths[:-1]], "test": str(paths[-1]), **options}).corpus
    return load_files(paths, None if case.how == "auto" else case.how, **options)


def _write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def judge(case: Case, outcome: object) -> str | None:
    """Why the outcome is not acceptable for ``case``, or None when it is."""
    if isinstance(outcome, CaseTimeout):
        return f"hung ({outcome})"
    if isinstance(outcome, MTLLabError):
        message = str(outcome)
        if case.expect != "error":
            return f"refused a file that should load ({case.expect}): {message[:300]}"
        bad = case.files[-1 if case.how == "test" else 0][0]
        if case.env and case.text:  # a bad setting: the message must name the setting, not a file
            bad = case.text
        shown = [Path(bad).name, repr(bad)] if bad.strip() and "\x00" not in bad else [repr(bad)]
        if not any(s in message for s in shown) and not (case.how == "upload" and bad[:20] in message):
            return f"message does not name the file {bad[:40]!r}: {message[:300]}"
        if "Fix:" not in message and not ("must" in message and "Got" in message):  # or sklearn's shape
            return f"message says no fix: {message[:300]}"
        if case.line is not None and f"line {case.line}" not in message:
            return f"message does not name line {case.line}: {message[:300]}"
        if case.text and case.text not in message:
            return f"message does not say {case.text!r}: {message[:300]}"
        return None
    if isinstance(outcome, BaseException):
        return f"crashed with {type(outcome).__name__}: {str(outcome)[:200]}"
    if case.expect == "error":
        return "loaded a file that should be refused"
    if case.expect == "warning":
        warnings = outcome.report.warnings  # type: ignore[attr-defined]
        if not any(case.text in w for w in warnings):
            return f"no warning mentioning {case.text!r} (warnings: {warnings})"
        return None
    if not any(case.text in t for t in outcome.texts):  # type: ignore[attr-defined]
        return f"texts do not hold {case.text!r} (first: {outcome.texts[:2]})"  # type: ignore[attr-defined]
    return None


def run_case(case: Case, folder: Path) -> tuple[str | None, float]:
    """(failure or None, seconds) of one case."""
    folder.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    try:
        with environment(case.env), time_limit(TIME_LIMIT_S):
            outcome: object = load_case(case, folder)
    except (Exception, CaseTimeout) as exc:  # what the loaders raise is what is judged
        outcome = exc
        if not isinstance(exc, (MTLLabError, CaseTimeout)):
            outcome.trace = traceback.format_exc(limit=-3)  # type: ignore[attr-defined]
    return judge(case, outcome), time.perf_counter() - start

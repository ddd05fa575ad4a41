"""The reliability report: ``python -m mtl_core selftest --reliability [--quick]``.

Each section is a module here with ``run(workdir: Path) -> dict`` returning
``{"name", "tried", "ok", "failures": [str], "details": {...}}`` (``details["results_lost"]`` is summed
into the report's "results lost"; a section may accept ``quick=True`` to stay within CI's minute).
Each section runs in its own temporary folder with its own ``MTL_LAB_HOME``.
"""
from __future__ import annotations

import importlib
import inspect
import os
import tempfile
import time
from pathlib import Path

from mtl_core.errors import ConfigError

SECTIONS = ("bad_inputs", "faults", "concurrency", "ray_cluster")


def run_reliability(workdir: str | Path | None = None, quick: bool = False,
                    only: list[str] | None = None) -> list[dict]:
    """Run every section that exists (or those in ``only``); a missing one is reported as a note, not a failure."""
    unknown = sorted(set(only or []) - set(SECTIONS))
    if unknown:
        raise ConfigError(f"The 'only' option must name sections among {list(SECTIONS)}. Got {unknown} instead.")
    root = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="mtl_selftest_"))
    results = []
    for name in only or SECTIONS:
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise  # the section exists but something it imports is missing: a real problem
            results.append({"name": name, "tried": 0, "ok": 0, "failures": [],
                            "details": {"note": "section not installed"}})
            continue
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        kwargs = {"quick": quick} if "quick" in inspect.signature(module.run).parameters else {}
        old = os.environ.get("MTL_LAB_HOME")
        os.environ["MTL_LAB_HOME"] = str(folder / "home")
        start = time.perf_counter()
        try:
            section = module.run(folder, **kwargs)
        except Exception as exc:  # a section that crashes is a failure of the report, shown, not raised
            section = {"name": name, "tried": 1, "ok": 0, "failures": [f"section crashed: {exc!r}"], "details": {}}
        finally:
            if old is None:
                os.environ.pop("MTL_LAB_HOME", None)
            else:
                os.environ["MTL_LAB_HOME"] = old
        section.setdefault("details", {})["seconds"] = round(time.perf_counter() - start, 1)
        results.append(section)
    return results


def format_report(sections: list[dict]) -> str:
    """The report as text: one block per section, then the totals (results lost must be 0)."""
    lines = ["MTL Lab reliability report", ""]
    for s in sections:
        lines.append(f"{s['name']}: {s['ok']}/{s['tried']} ok, {len(s['failures'])} failure(s)")
        for key, value in s.get("details", {}).items():
            lines.append(f"    {key}: {value}")
        lines += [f"    FAIL {f}" for f in s["failures"][:50]]
        if len(s["failures"]) > 50:
            lines.append(f"    ... and {len(s['failures']) - 50} more")
    lost = sum(int(s.get("details", {}).get("results_lost", 0)) for s in sections)
    failures = sum(len(s["failures"]) for s in sections)
    lines += ["", f"total tried: {sum(s['tried'] for s in sections)}", f"total ok: {sum(s['ok'] for s in sections)}",
              f"failures: {failures}", f"results lost: {lost}",
              "verdict: " + ("PASS" if passed(sections) else "FAIL")]
    return "\n".join(lines)


def passed(sections: list[dict]) -> bool:
    """No section failed and no result was lost."""
    return all(not s["failures"] and not s.get("details", {}).get("results_lost") for s in sections)

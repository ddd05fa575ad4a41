"""Two studies' settings side by side: the data, the split, the tasks, the plan, the seeds and every run setting
(method and its options, backbone, epochs...), as text rows; by default only the rows that differ. The CLI's
``studies diff`` and the Studies page both print these rows."""
from __future__ import annotations

import json
from dataclasses import MISSING, fields
from pathlib import PurePath

from mtl_core.store import Store
from mtl_core.training.config import RunConfig


def study_settings(store: Store, study_id: str) -> dict[str, str]:
    """The study's settings, each as one line of text, in a fixed order (data first, run settings last)."""
    study = store.study(study_id)
    if study is None:
        raise store.no_such_study(study_id)
    spec, runs = study["spec"], store.runs(study_id)
    tasks = spec.get("tasks") or sorted({t for r in runs for t in r["tasks"]})
    rows = {"data": describe_source(spec.get("source") or {}), "split": _text(spec.get("split")),
            "tasks": _text(tasks) or "(every task of the data)", "plan": _text(spec.get("plan")),
            "groups": _text(spec.get("groups")), "seeds": _text(spec.get("seeds")), "runs": str(len(runs))}
    config = run_defaults() | (spec.get("config") or {})  # what every run got: this version's defaults, then the
    return rows | {key: _text(value) for key, value in config.items()}  # study's own values over them


def run_defaults() -> dict:
    """RunConfig's default values, read from its fields (building one would validate it against the registries,
    which imports torch: seconds for a table of text)."""
    return {f.name: f.default if f.default is not MISSING else f.default_factory() for f in fields(RunConfig)}


def settings_diff(store: Store, first: str, second: str, every_row: bool = False) -> list[dict]:
    """Rows {setting, first, second, differs} of the two studies' settings; only those that differ unless
    ``every_row``."""
    a, b = study_settings(store, first), study_settings(store, second)
    rows = [{"setting": key, "first": a.get(key, "—"), "second": b.get(key, "—"),
             "differs": a.get(key, "—") != b.get(key, "—")} for key in dict.fromkeys([*a, *b])]
    return rows if every_row else [r for r in rows if r["differs"]]


def describe_source(source: dict) -> str:
    """Where a study's data comes from, in a user's words: a preset, generated tasks, or file names (an upload's
    content hash beside its name, not the server's folder)."""
    if "preset" in source:
        return f"preset {source['preset']}"
    if "synthetic" in source:
        return "generated: " + _text(source["synthetic"])
    if isinstance(source.get("combine"), list):  # a study across datasets: each dataset, named
        return " + ".join(f"[{part['name']}: {describe_source(part)}]" if part.get("name") else
                          f"[{describe_source(part)}]" for part in source["combine"] if isinstance(part, dict))
    parts = [", ".join(_file(f) for f in source.get("files") or [])]
    parts += [f"{key} {_text(source[key])}" for key in ("test", "format", "text_column", "label_columns",
                                                          "domain_column", "task_name", "one_vs_rest")
              if source.get(key)]
    return "; ".join(p for p in parts if p) or "(none)"


def _file(path: str) -> str:
    path = PurePath(str(path))
    return f"{path.name} (upload {path.parent.name})" if path.parent.parent.name == "uploads" else path.name


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(_text(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, separators=(", ", ": "))
    if isinstance(value, str) and value.endswith((".csv", ".tsv", ".txt", ".xml", ".conll")):
        return _file(value)
    return str(value)

"""The commands that run a stored study again: the CLI line, and its full spec as JSON for what the CLI cannot
say (a generated corpus from the Playground or the Data page, a split other than the preset's)."""
from __future__ import annotations

import json
import shlex

from mtl_core.errors import ConfigError
from mtl_core.studies.presets import get_preset

SPLIT_DEFAULT = {"test_size": 0.2, "val_size": 0.1, "seed": 0}  # StudySpec's; a preset may set its own


def _preset(source: dict) -> dict:
    try:
        return get_preset(source["preset"]) if "preset" in source else {}
    except ConfigError:
        return {}  # a preset this version no longer has: every setting is spelled out below


def _source_args(source: dict) -> list[str]:
    if "preset" in source:
        return ["--preset", source["preset"]]
    args = ["--data", *(source.get("files") or [])]
    for key, flag in (("format", "--format"), ("test", "--test"), ("text_column", "--text-column")):
        if source.get(key):
            args += [flag, str(source[key])]
    if source.get("label_columns"):
        args += ["--label-columns", ",".join(source["label_columns"])]
    return args


def _config_args(config: dict, preset: dict) -> list[str]:
    """``--set KEY=VALUE`` for every setting the preset does not already give (values as JSON)."""
    given = preset.get("config", {})
    return [arg for key, value in sorted(config.items()) if given.get(key) != value
            for arg in ("--set", f"{key}={json.dumps(value, separators=(',', ':'))}")]


def cli_command(spec: dict) -> str | None:
    """``python -m mtl_core study ...`` that runs ``spec`` (a stored study spec) again, or None when the CLI cannot
    say it: generated data (no file), or a split other than the default (run the spec JSON instead). A verification
    (``studies.verify``) is said as ``--verify PARENT --max-groups K``: the parent study fixes everything else."""
    if spec.get("verifies"):
        return _verify_command(spec)
    source = spec.get("source") or {}
    preset = _preset(source)
    split = {**SPLIT_DEFAULT, **preset.get("split", {})}
    if "synthetic" in source or not (source.get("preset") or source.get("files")) or \
            {**split, **(spec.get("split") or {})} != split:
        return None
    args = ["python", "-m", "mtl_core", "study", *_source_args(source)]
    if spec.get("tasks") and spec["tasks"] != preset.get("tasks"):
        args += ["--tasks", ",".join(spec["tasks"])]
    args += ["--plan", spec.get("plan") or "singles+all", "--seeds", str(spec.get("seeds", 3))]
    if spec.get("groups"):
        args += ["--groups", ",".join("+".join(g) for g in spec["groups"])]
    if spec.get("plan") == "subsets" and spec.get("budget"):
        args += ["--budget", str(spec["budget"])]
    if spec.get("data_dir"):
        args += ["--data-dir", spec["data_dir"]]
    args += _config_args(spec.get("config") or {}, preset) + ["--name", spec.get("name") or "study", "--out", "results"]
    return shlex.join(args)


def _verify_command(spec: dict) -> str:
    """``python -m mtl_core study --verify PARENT --max-groups K --seeds N``: the parent's data, tasks, split and
    method, its predicted grouping under K groups trained again (the parent must be in the store)."""
    verifies = spec["verifies"]
    return shlex.join(["python", "-m", "mtl_core", "study", "--verify", str(verifies["study"]),
                       "--max-groups", str(verifies["max_groups"]), "--seeds", str(spec.get("seeds", 3)),
                       "--name", spec.get("name") or "verification", "--out", "results"])


# Runs exactly a stored spec (saved as spec.json beside it), whatever its source.
SPEC_COMMAND = ("python -c 'import json; from mtl_core.studies.spec import spec_from_dict; "
                "from mtl_core.studies.execute import run_study; "
                "print(run_study(spec_from_dict(json.load(open(\"spec.json\"))))[0])'")


def spec_json(spec: dict) -> str:
    return json.dumps(spec, indent=2, sort_keys=True)

"""Presets: named studies that reproduce the literature's experiments (assets/presets.json), and whether one
can start here now (its dataset found, its pretrained encoder installed)."""
from __future__ import annotations

import json
from pathlib import Path

from mtl_core.data.catalog import find_dataset
from mtl_core.data.combine import part_names
from mtl_core.data.sources import LoadedData, load_source
from mtl_core.errors import ConfigError, MTLLabError
from mtl_core.models.pretrained import missing_weights

ASSETS = Path(__file__).resolve().parents[2] / "assets"


def load_presets() -> dict[str, dict]:
    return json.loads((ASSETS / "presets.json").read_text())


def get_preset(name: str) -> dict:
    presets = load_presets()
    if name not in presets:
        raise ConfigError(f"The 'preset' option must be one of {sorted(presets)}. Got {name!r} instead.")
    return presets[name]


def preset_problem(name: str, data_dir: str | None = None) -> str | None:
    """Why preset ``name`` cannot start now (its dataset is not found locally, or its pretrained encoder's weights
    are not installed; and how to get them), or None."""
    preset = get_preset(name)
    if problem := missing_weights(preset.get("config", {}).get("backbone", "")):
        return problem
    if "dataset" not in preset:
        return None
    try:
        find_dataset(preset["dataset"], data_dir)
    except MTLLabError as exc:
        return str(exc)
    return None


def preset_tasks(name: str) -> list[str]:
    """The tasks preset ``name`` offers (its own list, or its generator's tasks)."""
    preset = get_preset(name)
    if preset.get("tasks"):
        return list(preset["tasks"])
    return [t["name"] for t in preset.get("synthetic", {}).get("tasks", [])]


def resolve_source(source: dict, data_dir: str | None = None) -> dict:
    """A study's ``source`` with a preset (``{"preset": NAME}``) replaced by the files or generator it names (in
    each part of a study across datasets too, which keeps the preset's name)."""
    parts = source.get("combine")
    if isinstance(parts, list) and all(isinstance(part, dict) for part in parts):  # else load_source says why not
        return {**source, "combine": [{**resolve_source(part, data_dir), "name": name}
                                      for name, part in zip(part_names(parts), parts)]}
    if "preset" not in source:
        return source
    preset = get_preset(source["preset"])
    if "synthetic" in preset:
        return {"synthetic": preset["synthetic"]}
    folder = find_dataset(preset["dataset"], data_dir)
    files = [str(folder / f) for f in preset["files"]]
    rest = {k: v for k, v in source.items() if k != "preset"}
    return {**preset.get("source", {}), **rest, "files": files, "format": preset.get("format")}


def load_study_source(source: dict, data_dir: str | None = None) -> LoadedData:
    """Load a study's data, whether its source is a preset, files or the generator."""
    return load_source(resolve_source(source, data_dir), data_dir)

"""The example study a fresh install shows: the classroom demo (a generated base task with a partner that helps
and one that hurts, the pairs plan), trained once and then reused.

``make app`` runs ``python -m mtl_core.studies.example`` before ``streamlit run app.py``, so training never
happens inside the Streamlit script thread.
"""
from __future__ import annotations

from typing import Callable

from mtl_core.status import Status
from mtl_core.store import Store
from mtl_core.studies.execute import run_study
from mtl_core.studies.presets import get_preset
from mtl_core.studies.spec import StudySpec

EXAMPLE_PRESET = "classroom-demo"
EXAMPLE_NAME = f"example: {EXAMPLE_PRESET}"


def ensure_example_study(store: Store | None = None, echo: Callable[[str], None] = print) -> str:
    """The id of the newest finished example study in ``store``; runs one first if there is none."""
    store = store or Store()
    for study in store.studies():  # newest first
        if study["name"] == EXAMPLE_NAME and study["status"] == Status.DONE:
            echo(f"example study {study['id']} already in {store.path}")
            return study["id"]
    preset = get_preset(EXAMPLE_PRESET)
    echo(f"training the example study into {store.path} ({preset['time']})")
    spec = StudySpec.from_preset(EXAMPLE_PRESET, name=EXAMPLE_NAME, seeds=preset["seeds"])
    study_id, _ = run_study(spec, store, echo=echo)
    return study_id


if __name__ == "__main__":
    ensure_example_study()

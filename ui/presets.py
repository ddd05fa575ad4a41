"""One-click presets on the home page: start a small study now, or say how to get the data first."""
from __future__ import annotations

import streamlit as st

from mtl_core.errors import MTLLabError
from mtl_core.store import Store
from mtl_core.studies.presets import load_presets, preset_problem
from mtl_core.studies.spec import StudySpec

ONE_CLICK = ("classroom-demo", "synthetic-demo", "absa", "yelp-amazon")
DEFAULT_SEEDS = 3  # a preset that names no seed count


def submit(spec: StudySpec, store: Store) -> str:
    """Queue ``spec`` for the background workers (starting one unless MTL_LAB_AUTOSTART_WORKER=0, see
    ``studies.submit``); the study id goes into the URL."""
    from mtl_core.studies.submit import queue_study  # the queue (huey) only once a study is queued

    study_id = queue_study(spec, store)
    st.query_params["study"] = study_id
    return study_id


def presets_ui(store: Store) -> None:
    st.subheader("Start a study in one click")
    presets = load_presets()
    columns = st.columns(len(ONE_CLICK))
    for column, name in zip(columns, ONE_CLICK):
        preset = presets[name]
        with column.container(border=True):
            st.markdown(f"**{preset['title']}**")
            st.caption(preset["description"] + (f" Measured: {preset['time']}." if preset.get("time") else ""))
            problem = preset_problem(name)
            if problem:
                st.warning(f"Needs the {preset['dataset']} dataset, which is not on this machine yet.")
                with st.expander("How to get it"):
                    st.caption(problem)
                st.page_link("pages/1_Data.py", label="Fetch or import it on the Data page", icon=":material/upload_file:")
                continue
            seeds = preset.get("seeds", DEFAULT_SEEDS)
            if st.button(f"Start ({seeds} seeds)", key=f"preset_{name}", type="primary"):
                try:
                    study_id = submit(StudySpec.from_preset(name, seeds=seeds), store)
                except MTLLabError as exc:
                    st.error(str(exc))
                else:
                    st.success(f"Queued study {study_id}; the background worker trains it now.")
                    st.page_link("pages/3_Train.py", label="Watch it train", icon="⏱️")

"""What every page needs: the store, the sidebar (device, queue, current study), the study picker (and the picked
study's results, read once per render)."""
from __future__ import annotations

import re

import pandas as pd
import streamlit as st

from mtl_core.paths import store_path
from mtl_core.results.study_results import StudyResults
from mtl_core.status import ACTIVE, Status
from mtl_core.store import Store
from mtl_core.training.device import describe_device

NUM = st.column_config.NumberColumn(format="%.3f")


@st.cache_resource
def _store(path: str) -> Store:
    return Store(path)  # keyed by path, so a changed MTL_LAB_HOME gets its own store


def get_store() -> Store:
    return _store(str(store_path()))


@st.cache_resource
def device_name() -> str:
    return describe_device()


def plain(text: str) -> str:
    """User text (names, URL values, file content) shown literally: Markdown characters escaped."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~$:])", r"\\\1", str(text))


def study_label(s: dict) -> str:
    return f"{s['name']} · {pd.Timestamp(s['created'], unit='s'):%Y-%m-%d %H:%M} · {s['id']} · {s['status']}"


def sidebar(store: Store) -> None:
    """Device in use, queue status and a link to the current study, on every page."""
    st.sidebar.caption(f"Device in use: {device_name()}")
    studies = store.studies()
    active = [s for s in studies if s["status"] in ACTIVE]
    st.sidebar.caption(f"Queue: {len(active)} stud{'y' if len(active) == 1 else 'ies'} waiting or running"
                       if active else "Queue: empty")
    current = st.query_params.get("study")
    if current:
        st.sidebar.page_link("pages/4_Compare.py", label=f"Current study: {current}", icon="📊",
                             query_params={"study": current})


def pick_study(store: Store, key: str, finished_only: bool = True) -> dict | None:
    """A study picker that follows and writes ``?study=`` in the URL, so links can be shared.

    Returns None (after telling the user what to do) when there is no study to pick.
    """
    studies = store.studies()  # newest first
    choices = [s for s in studies if s["status"] == Status.DONE] if finished_only else studies
    if not choices:
        st.info("No finished study yet. Start one from the home page (one-click presets) or the Tasks page, "
                "or run `python -m mtl_core study --preset synthetic-demo --seeds 3 --out r`.")
        return None
    ids = [s["id"] for s in choices]
    wanted = st.query_params.get("study")
    if wanted and wanted not in ids:
        st.warning(f"No {'finished ' if finished_only else ''}study with id {plain(wanted)}; "
                   "showing the newest one instead.")
    index = ids.index(wanted) if wanted in ids else 0
    chosen = st.sidebar.selectbox("Study", choices, index=index, format_func=study_label, key=key)
    st.query_params["study"] = chosen["id"]
    return chosen


def pick_results(store: Store, key: str, curves: bool = True) -> StudyResults | None:
    """``pick_study`` (finished studies), then the picked study's results read once for this render; None when
    there is no study to pick. ``curves=False``: without curve rows, for pages that show none."""
    study = pick_study(store, key)
    return StudyResults.load(store, study["id"], curves=curves) if study else None

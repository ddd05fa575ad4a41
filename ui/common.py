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
from mtl_core.studies.backends import describe_backend
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


def interval_text(low, high, fmt: str = "+.2f") -> str:
    """" [low, high]" in ``fmt``, or "" when there is no interval (one seed, too few points)."""
    return "" if low is None or high is None else f" [{low:{fmt}}, {high:{fmt}}]"


def plain(text: str) -> str:
    """User text (names, URL values, file content) shown literally: Markdown characters escaped."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~$:])", r"\\\1", str(text))


def study_label(s: dict) -> str:
    return f"{s['name']} · {pd.Timestamp(s['created'], unit='s'):%Y-%m-%d %H:%M} · {s['id']} · {s['status']}"


STATUS_SECONDS = 5  # how often the sidebar reads the queue and the current study's status (two small queries);
# every fragment run makes the browser redraw the page: on a chart-heavy page that is what it costs (RESULTS.md)


def sidebar(store: Store, live: bool = True) -> None:
    """Device in use, queue status and a link to the current study, on every page; the last two refresh every
    STATUS_SECONDS seconds without a rerun of the page. ``live=False``: drawn once, for a page that polls the store
    itself and reruns when the queue changes (each fragment run makes the browser redraw the whole page)."""
    st.sidebar.caption(f"Device in use: {device_name()} · runs train on: {describe_backend()}")
    with st.sidebar:
        (st.fragment(run_every=STATUS_SECONDS)(status_ui) if live else status_ui)(store)


def status_ui(store: Store) -> None:
    active = store.active_count()
    st.caption(f"Queue: {active} stud{'y' if active == 1 else 'ies'} waiting or running" if active else
               "Queue: empty")
    current = store.study_state(st.query_params.get("study") or "")
    if current:
        label = f"Current study: {current['id']} · {plain(current['name'])} ({current['status']})"
        done = current["status"] == Status.DONE
        page, icon = ("pages/4_Compare.py", ":material/bar_chart:") if done else ("pages/3_Train.py", ":material/timer:")
        st.page_link(page, label=label, icon=icon, query_params={"study": current["id"]})


def pending_ui(study: dict) -> None:
    """Say that ``study`` is queued or running (not finished yet), with a link to watch it on the Train page."""
    st.info(f"Study {plain(study['name'])} ({study['id']}) is {study['status']}: its results appear here once it "
            "has finished.")
    st.page_link("pages/3_Train.py", label="Watch it train on the Train page", icon=":material/timer:",
                 query_params={"study": study["id"]})


def pick_study(store: Store, key: str, finished_only: bool = True) -> dict | None:
    """A study picker that follows and writes ``?study=`` in the URL, so links can be shared.

    Returns None (after telling the user what to do) when there is no study to pick. A study named in the URL
    that has not finished yet is announced (queued or running, with a link to Train), never called missing.
    """
    studies = store.study_overview()  # newest first; no vocabularies or splits read
    choices = [s for s in studies if s["status"] == Status.DONE] if finished_only else studies
    wanted = st.query_params.get("study")
    pending = next((s for s in studies if s["id"] == wanted and s not in choices), None)
    pending = pending or next((s for s in studies if s["status"] in ACTIVE and not choices), None)
    if pending and pending["status"] in ACTIVE:
        pending_ui(pending)
    if not choices:
        if not pending or pending["status"] not in ACTIVE:
            st.info("No finished study yet. Start one from the home page (one-click presets) or the Tasks page, "
                    "or run `python -m mtl_core study --preset synthetic-demo --seeds 3 --out r`.")
        return None
    ids = [s["id"] for s in choices]
    if wanted and wanted not in ids and not (pending and pending["status"] in ACTIVE):
        st.warning(f"No {'finished ' if finished_only else ''}study with id {plain(wanted)}; "
                   "showing the newest one instead.")
    index = ids.index(wanted) if wanted in ids else 0
    chosen = st.sidebar.selectbox("Study", choices, index=index, format_func=study_label, key=key)
    if not (pending and pending["id"] == wanted and chosen["id"] == ids[0]):  # keep a queued study in the URL
        st.query_params["study"] = chosen["id"]
    return chosen


def pick_results(store: Store, key: str, curves: bool = True) -> StudyResults | None:
    """``pick_study`` (finished studies), then the picked study's results read once for this render; None when
    there is no study to pick. ``curves=False``: without curve rows, for pages that show none."""
    study = pick_study(store, key)
    return StudyResults.load(store, study["id"], curves=curves) if study else None

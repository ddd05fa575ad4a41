"""Train: the queue, live progress and learning curves of the running study, cancel and retry."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from mtl_core.errors import MTLLabError
from mtl_core.results.study_results import lead_metrics
from mtl_core.status import ACTIVE, Status
from mtl_core.studies.backends import executor_from_env
from mtl_core.studies.queue import (
    cancel_study,
    ensure_worker,
    live_workers,
)
from mtl_core.studies.submit import requeue_study
from mtl_core.charts.scores import curves_chart
from ui.common import get_store, pick_study, plain, sidebar

st.set_page_config(page_title="Train · MTL Lab", page_icon=":material/science:", layout="wide")
# What an open Train page costs the training it shows (bench/ui_overhead.py, RESULTS.md): the progress table is two
# small reads; the learning curves change once an epoch, so they are read less often and their figures built again
# only when rows were added; and they are drawn without Plotly's hover and zoom layers: the browser redraws them
# after any fragment's run (the sidebar's too), and interactive they cost it 17x the script time (Chrome's
# Performance metrics over 20 s of an open page: 10.5 s against 0.6 s).
PROGRESS_SECONDS = 5
CURVES_SECONDS = 15
st.title("Train")
store = get_store()


def queue_ui() -> None:
    active = store.active_count()
    alive = len(live_workers(store))
    if active and not alive:
        st.warning("Studies are waiting but no background worker is running.")
        if st.button("Start a worker", key="train_start_worker"):
            ensure_worker(store)
            st.rerun()
    if not alive:
        workers = "Worker: not running. "
    elif training_on_ray():
        workers = f"Workers: {alive} running, each handing its study's runs to Ray (several at a time). "
    else:
        workers = f"Workers: {alive} running, each training one run at a time. "
    st.caption(workers + f"{active} stud{'y' if active == 1 else 'ies'} queued or running.")


def training_on_ray() -> bool:
    """Whether studies queued from the app train on Ray (MTL_LAB_BACKEND); a bad setting is the sidebar's to show."""
    try:
        return executor_from_env().ray
    except MTLLabError:
        return False


def runs_table(runs: list[dict]) -> pd.DataFrame:
    rows = []
    for r in runs:
        p = r.get("progress") or {}
        rows.append({"run": r["id"], "setting": r["setting"], "tasks": ", ".join(r["tasks"]), "seed": r["seed"],
                     "status": r["status"], "epoch": f"{p.get('epoch', 0)}/{p.get('epochs', '?')}" if p else "",
                     "best epoch": number(p.get("best_epoch"), 0), "val score": number(p.get("val_score"), 3),
                     "ex/s": number(p.get("examples_per_second"), 0), "ETA s": number(p.get("eta_seconds"), 0),
                     "error": r.get("error") or ""})
    return pd.DataFrame(rows)


def number(value, digits: int) -> str:
    """A progress number as the table shows it; blank while there is none (a queued run): a missing number in a
    st.dataframe column would read "None"."""
    try:
        return "" if value is None or value != value else f"{float(value):.{digits}f}"
    except (TypeError, ValueError):
        return ""


def controls_ui(study: dict, runs: list[dict]) -> None:
    c1, c2, _ = st.columns([1, 1, 4])
    if study["status"] in ACTIVE and c1.button("Cancel study", key="train_cancel"):
        cancel_study(study["id"], store)
        st.rerun()
    if any(r["status"] in (Status.FAILED, Status.CANCELLED) for r in runs) and c2.button("Retry failed runs", key="train_retry"):
        requeue_study(study["id"], store)  # and a worker, unless MTL_LAB_AUTOSTART_WORKER=0
        st.rerun()


queue_ui()
study = pick_study(store, key="train_study", finished_only=False)
sidebar(store, live=study is None or study["status"] not in ACTIVE)  # while polling, progress_ui keeps it fresh
if study is None:
    st.stop()
queued_at_start = store.active_count()


def live(draw, seconds: float):
    """``draw`` as a fragment that runs again every ``seconds`` while the study is queued or running; once it has
    ended, ``draw`` itself, drawn once with the page."""
    return st.fragment(run_every=seconds)(draw) if study["status"] in ACTIVE else draw


def progress_ui() -> None:
    current, runs = store.study_state(study["id"]), store.runs(study["id"])  # two small reads per tick
    if current is None:
        st.warning("This study was deleted.")
        return
    if current["status"] != study["status"] or store.active_count() != queued_at_start:
        st.rerun()  # it started or ended, or the queue changed: draw the page (and its sidebar) again
    done = sum(r["status"] == Status.DONE for r in runs)
    st.subheader(f"{plain(current['name'])}: {current['status']}")
    st.progress(done / max(len(runs), 1), text=f"{done} of {len(runs)} runs finished")
    if current.get("error"):
        st.error(current["error"])
    controls_ui(current, runs)
    st.dataframe(runs_table(runs), hide_index=True)


def curves_ui() -> None:
    runs = store.runs(study["id"])
    lead = lead_metrics((store.study_state(study["id"]) or {}).get("tasks") or {})
    shown = next((r for r in runs if r["status"] == Status.RUNNING), None) or next(
        (r for r in reversed(runs) if r["status"] == Status.DONE), None)
    if not (shown and lead):
        return
    st.markdown(f"**Learning curves — run {shown['id']}** ({shown['setting']}, "
                f"{', '.join(shown['tasks'])}, seed {shown['seed']}, {shown['status']}; to hover and zoom: Compare)")
    best = (shown.get("progress") or {}).get("best_epoch") or shown.get("best_epoch")
    key = (shown["id"], store.curve_count(shown["id"]), best)
    if st.session_state.get("train_curves_key") != key:  # new rows (an epoch ended): draw the figures again
        curves, run_lead = store.curves(shown["id"]), {t: lead[t] for t in shown["tasks"] if t in lead}
        st.session_state["train_curves"] = [curves_chart(curves, run_lead, best, kind=k) for k in ("val", "loss")]
        st.session_state["train_curves_key"] = key
    still = {"staticPlot": True}  # see the top: cheap to redraw
    left, right = st.columns(2)
    left.plotly_chart(st.session_state["train_curves"][0], key="train_val_curves", config=still)
    right.plotly_chart(st.session_state["train_curves"][1], key="train_loss_curves", config=still)


live(progress_ui, PROGRESS_SECONDS)()
live(curves_ui, CURVES_SECONDS)()

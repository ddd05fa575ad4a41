"""Train: the queue, live progress and learning curves of the running study, cancel and retry."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from mtl_core.results.study_results import StudyResults
from mtl_core.status import ACTIVE, Status
from mtl_core.studies.queue import (
    cancel_study,
    ensure_worker,
    live_workers,
)
from mtl_core.studies.submit import requeue_study
from mtl_core.charts.scores import curves_chart
from ui.common import get_store, pick_study, plain, sidebar

st.set_page_config(page_title="Train · MTL Lab", page_icon="🧪", layout="wide")
st.title("Train")
store = get_store()
sidebar(store)


def queue_ui() -> None:
    studies = store.studies()
    active = [s for s in studies if s["status"] in ACTIVE]
    alive = len(live_workers(store))
    if active and not alive:
        st.warning("Studies are waiting but no background worker is running.")
        if st.button("Start a worker", key="train_start_worker"):
            ensure_worker(store)
            st.rerun()
    st.caption((f"Workers: {alive} running, each training one run at a time. " if alive else "Worker: not running. ") +
               f"{len(active)} stud{'y' if len(active) == 1 else 'ies'} queued or running.")


def runs_table(runs: list[dict]) -> pd.DataFrame:
    rows = []
    for r in runs:
        p = r.get("progress") or {}
        rows.append({"run": r["id"], "setting": r["setting"], "tasks": ", ".join(r["tasks"]), "seed": r["seed"],
                     "status": r["status"], "epoch": f"{p.get('epoch', 0)}/{p.get('epochs', '?')}" if p else "",
                     "best epoch": p.get("best_epoch"), "val score": p.get("val_score"),
                     "ex/s": p.get("examples_per_second"), "ETA s": p.get("eta_seconds"), "error": r.get("error") or ""})
    table = pd.DataFrame(rows)
    for column, digits in (("val score", 3), ("ex/s", 0), ("ETA s", 0), ("best epoch", 0)):
        table[column] = pd.to_numeric(table[column], errors="coerce").round(digits)
    return table


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
if study is None:
    st.stop()


@st.fragment(run_every=2 if study["status"] in ACTIVE else None)
def live_ui() -> None:
    results = StudyResults.load(store, study["id"], curves=False)  # read again on every tick: fresh progress
    current, runs = results.study, results.runs
    done = len(results.finished_runs)
    st.subheader(f"{plain(current['name'])}: {current['status']}")
    st.progress(done / max(len(runs), 1), text=f"{done} of {len(runs)} runs finished")
    if current.get("error"):
        st.error(current["error"])
    controls_ui(current, runs)
    st.dataframe(runs_table(runs), hide_index=True)
    lead = results.lead
    shown = next((r for r in runs if r["status"] == Status.RUNNING), None) or next(
        (r for r in reversed(runs) if r["status"] == Status.DONE), None)
    if shown and lead:
        curves = store.curves(shown["id"])  # a running run's rows so far: read live, not from the results
        st.markdown(f"**Learning curves — run {shown['id']}** ({shown['setting']}, "
                    f"{', '.join(shown['tasks'])}, seed {shown['seed']}, {shown['status']})")
        run_lead = {t: lead[t] for t in shown["tasks"] if t in lead}
        best = (shown.get("progress") or {}).get("best_epoch") or shown.get("best_epoch")
        left, right = st.columns(2)
        left.plotly_chart(curves_chart(curves, run_lead, best, kind="val"), key="train_val_curves")
        right.plotly_chart(curves_chart(curves, run_lead, best, kind="loss"), key="train_loss_curves")


live_ui()

"""MTL Lab home: which tasks help each other? A stored study, single-task vs multitask, per task.

Reads the store only; training runs elsewhere (`make app` builds the example study first).
"""
from __future__ import annotations

import re

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from mtl_core.compare import lead_metrics, lead_rows, study_deltas
from mtl_core.device import describe_device
from mtl_core.paths import store_path
from mtl_core.store import Store
from mtl_core.summary import summary_rows

st.set_page_config(page_title="MTL Lab", page_icon="🧪", layout="wide")
COLORS = {"single": "#7f8c9a", "all": "#1f77b4", "tfidf-lr": "#d62728", "majority": "#444444"}
NUM = st.column_config.NumberColumn(format="%.3f")


@st.cache_resource
def get_store(path: str) -> Store:
    return Store(path)  # keyed by path, so a changed MTL_LAB_HOME gets its own store


@st.cache_resource
def device_name() -> str:
    return describe_device()


def plain(text: str) -> str:
    """User text (study names, URL values) shown literally: Markdown characters escaped."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~$:])", r"\\\1", str(text))


def study_label(s: dict) -> str:
    return f"{s['name']} · {pd.Timestamp(s['created'], unit='s'):%Y-%m-%d %H:%M} · {s['id']}"


def pick_study_ui(store: Store) -> dict:
    st.sidebar.caption(f"Device in use: {device_name()}")
    studies = store.studies()  # newest first
    finished = [s for s in studies if s["status"] == "done"]
    if not finished:
        st.info("No finished study yet. Run `make app` (it trains the example study, about a minute on a CPU, "
                "then starts this app), or `python -m mtl_core study --preset synthetic-demo --seeds 3 --out r`, "
                "then reload this page.")
        st.stop()
    ids = [s["id"] for s in finished]
    wanted = st.query_params.get("study")
    if wanted and wanted not in ids:
        st.warning(f"No finished study with id {plain(wanted)}; showing the newest one instead.")
    index = ids.index(wanted) if wanted in ids else 0
    chosen = st.sidebar.selectbox("Study", finished, index=index, format_func=study_label, key="home_study")
    st.query_params["study"] = chosen["id"]  # the URL now shares this study
    others = [s for s in studies if s["status"] != "done"]
    if others:
        st.sidebar.caption("Not finished: " + "; ".join(f"{plain(s['name'])} ({s['status']})" for s in others))
    return chosen


def chart(rows: list[dict]) -> go.Figure:
    """Grouped bars (single vs all, mean ± 95% CI) per task; majority baseline dashed; TF-IDF+LR diamonds."""
    tasks = list(dict.fromkeys(r["task"] for r in rows))
    x = {t: k for k, t in enumerate(tasks)}
    fig = go.Figure()
    for setting, label in (("single", "single-task (alone)"), ("all", "multitask (all tasks)")):
        rs = [r for r in rows if r["setting"] == setting]
        fig.add_bar(name=label, x=[x[r["task"]] for r in rs], y=[r["mean"] for r in rs],
                    marker_color=COLORS[setting], text=[f"{r['mean']:.3f}" for r in rs], textposition="inside",
                    error_y=dict(type="data", array=[r["ci_high"] - r["mean"] for r in rs],
                                 arrayminus=[r["mean"] - r["ci_low"] for r in rs], thickness=2, width=8),
                    hovertemplate="%{y:.3f}<extra>" + label + "</extra>")
    majority = {r["task"]: r["majority_baseline"] for r in rows if r["majority_baseline"] is not None}
    xs, ys = [], []
    for t, m in majority.items():
        xs += [x[t] - 0.45, x[t] + 0.45, None]
        ys += [m, m, None]
    fig.add_scatter(name="majority-class baseline", x=xs, y=ys, mode="lines",
                    line=dict(color=COLORS["majority"], dash="dash", width=2), hoverinfo="skip")
    tfidf = [r for r in rows if r["setting"] == "tfidf-lr"]
    fig.add_scatter(name="TF-IDF + logistic regression", x=[x[r["task"]] for r in tfidf],
                    y=[r["mean"] for r in tfidf], mode="markers",
                    marker=dict(symbol="diamond", size=13, color=COLORS["tfidf-lr"], line=dict(color="white", width=1)),
                    hovertemplate="%{y:.3f}<extra>TF-IDF + LR</extra>")
    fig.update_layout(barmode="group", height=430, margin=dict(t=30, b=40, l=60, r=10),
                      legend=dict(orientation="h", y=1.12, x=0),
                      xaxis=dict(tickvals=list(x.values()), ticktext=[f"{t}<br>({rows_metric(rows, t)})" for t in tasks]),
                      yaxis=dict(title="test score, mean ± 95% CI over seeds", range=[0, 1.02]))
    return fig


def rows_metric(rows: list[dict], task: str) -> str:
    return next(r["metric"] for r in rows if r["task"] == task)


def curves_ui(store: Store, study_id: str, lead: dict[str, str]) -> None:
    runs = [r for r in store.runs(study_id) if r["status"] == "done"]
    run = st.selectbox("Run", runs, key="home_run", format_func=lambda r: (
        f"run {r['id']}: {r['setting']} [{', '.join(r['tasks'])}], seed {r['seed']}"))
    curves = pd.DataFrame(store.curves(run["id"]))
    curves = curves[curves.apply(lambda c: c["name"] == f"val_{lead.get(c['task'])}", axis=1)]
    fig = go.Figure()
    for task, c in curves.groupby("task", sort=False):
        fig.add_scatter(x=c["epoch"], y=c["value"], mode="lines+markers", name=f"{task} ({lead[task]})")
    if run.get("best_epoch"):
        fig.add_vline(x=run["best_epoch"], line_dash="dot", line_color="gray",
                      annotation_text="best epoch (model kept)", annotation_position="bottom right")
    fig.update_layout(height=340, margin=dict(t=20, b=40, l=60, r=10), xaxis_title="epoch",
                      yaxis_title="validation score", legend=dict(orientation="h", y=1.1, x=0))
    st.plotly_chart(fig, key="home_curves")


st.title("MTL Lab")
st.markdown(
    "MTL Lab finds out **which NLP tasks help each other** when one model learns them together (multitask "
    "learning). For every task it compares a model trained on that task **alone** with one trained on **all tasks "
    "together**, repeated over several random seeds and shown with 95% error bars. A task that scores better "
    "with partners shows **synergy**; one that scores worse shows **interference**.")
store = get_store(str(store_path()))
study = pick_study_ui(store)
lead = lead_metrics(study["tasks"] or {})
rows = summary_rows(store, study["id"])
seeds = max((r["n_seeds"] for r in rows if r["setting"] != "tfidf-lr"), default=0)
st.subheader("Study: " + plain(study["name"]))
st.caption(f"id {study['id']} · tasks: {', '.join(lead)} · {seeds} seed(s) per setting")

left, right = st.columns([3, 1])
left.plotly_chart(chart(lead_rows(rows, lead)), key="home_chart")
right.markdown(
    "**How to read it.** Grey bars: each task trained alone. Blue bars: one shared model trained on all tasks. "
    "Whiskers: 95% confidence interval over seeds.\n\n"
    "**Synergy**: the blue bar is higher: the other tasks taught the shared encoder something useful "
    "(e.g. the same cue words).\n\n"
    "**Interference**: the blue bar is lower: the tasks pull the shared parameters in opposite directions "
    "(e.g. a word that means *positive* for one task and *negative* for another).\n\n"
    "Overlapping whiskers mean the seeds cannot tell the two apart yet: more seeds, or call it no clear difference.")

st.subheader("Does learning together help? (all tasks − alone, paired by seed)")
deltas = pd.DataFrame(study_deltas(store, study["id"]))
st.dataframe(deltas, hide_index=True, key="home_deltas", column_config={
    c: NUM for c in ("single", "all", "delta", "ci_low", "ci_high")})
st.caption("\"helps\" / \"hurts\" only when the 95% CI of the per-seed difference excludes 0.")

st.subheader("All results")
st.dataframe(pd.DataFrame(rows), hide_index=True, key="home_summary", column_config={
    c: NUM for c in ("mean", "ci_low", "ci_high", "majority_baseline")})

st.subheader("Validation curves of one run")
curves_ui(store, study["id"], lead)

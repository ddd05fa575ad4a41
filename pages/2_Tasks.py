"""Tasks: choose data, tasks, plan, seeds and budget; see the run count and time estimate; queue the study."""
from __future__ import annotations

import hashlib

import streamlit as st

from mtl_core.errors import MTLLabError
from mtl_core.studies.presets import (
    get_preset,
    load_presets,
    preset_problem,
    preset_tasks,
)
from mtl_core.studies.spec import StudySpec, plan_runs
from mtl_core.training.config import RunConfig
from mtl_core.training.schedules import SCHEDULES
from ui.common import get_store, plain, sidebar
from ui.messages import page_message
from ui.methods import method_ui
from ui.presets import submit
from ui.several_datasets import SEVERAL, several_datasets_ui
from ui.subsets import PLAN_TEXT, budget_ui

st.set_page_config(page_title="Tasks · MTL Lab", page_icon=":material/science:", layout="wide")
st.title("Tasks")
st.caption("Pick what to train together. Submitting queues the study for the background worker and returns at once.")
store = get_store()
sidebar(store)

PLANS = {"singles+all": "each task alone + all together", "pairs": "each alone + every pair + all together",
         "groups": "each alone + your own groups",
         "subsets": "each alone + a sample of task subsets + all together (which tasks help which, predicted)"}


def sources(store) -> dict[str, dict]:
    """Label -> {source, tasks, config} for every preset whose data is here and every saved dataset."""
    from mtl_core.data.library import list_datasets

    found = {}
    for name, preset in load_presets().items():
        if preset_problem(name) is None:
            found[f"preset: {preset['title']}"] = {"preset": name, "tasks": preset_tasks(name)}
    for d in list_datasets(store):
        found[f"dataset: {d['name']} ({d['n_examples']} examples)"] = {"source": d["source"], "tasks": list(d["tasks"]),
                                                                      "name": d["name"]}
    return found


def config_ui(defaults: dict, tasks: list[str], k: str) -> dict:
    base = RunConfig.from_dict(defaults)
    c1, c2, c3 = st.columns(3)
    config = dict(defaults)
    config["epochs"] = c1.number_input("Max epochs (early stopping on validation)", 1, 200, base.epochs, key=f"{k}_epochs")
    config["head"] = c2.selectbox("Sentence head", ["pooled", "attention"], index=["pooled", "attention"].index(base.head),
                                  key=f"{k}_head")
    sizes = sorted({16, 32, 64, 128, 256, base.hidden})  # a preset may use a size of its own (classroom-demo: 2)
    config["hidden"] = c3.select_slider("Encoder size (per direction)", sizes, value=base.hidden, key=f"{k}_hidden")
    with st.expander("More options"):
        d1, d2, d3 = st.columns(3)
        config["lr"] = d1.number_input("Learning rate", 1e-5, 1.0, base.lr, format="%.4f", key=f"{k}_lr")
        config["batch_size"] = d2.number_input("Batch size", 4, 512, base.batch_size, key=f"{k}_batch")
        config["patience"] = d3.number_input("Patience (epochs)", 1, 50, base.patience, key=f"{k}_patience")
        config["class_weights"] = d1.checkbox("Class weights (imbalanced labels)", base.class_weights, key=f"{k}_cw")
        config["lr_schedule"] = d2.selectbox("Learning-rate schedule", list(SCHEDULES),
                                             index=list(SCHEDULES).index(base.lr_schedule), key=f"{k}_schedule",
                                             help="; ".join(f"{n}: {d}" for n, d in SCHEDULES.items()))
    with st.expander("Multitask method: sharing, backbone, weighting, sampling, auxiliary tasks"):
        config.update(method_ui(base, tasks, k))
    return config


options = sources(store)
if not options:
    st.info("No data yet: save a dataset on the Data page, or fetch a catalog dataset.")
    st.page_link("pages/1_Data.py", label="Go to the Data page", icon=":material/upload_file:")
    st.stop()
several = [SEVERAL] if sum("name" in o for o in options.values()) >= 2 else []
label = st.selectbox("Data", list(options) + several, key="tasks_source")
# Widgets that depend on the data get keys of their own per data source, so picking other data shows its
# tasks, defaults and name instead of the previous data's (the browser keeps a widget's value per key).
k = "tasks_" + hashlib.sha1(label.encode()).hexdigest()[:8]
if label == SEVERAL:
    chosen = several_datasets_ui(store, k)
    tasks = chosen["tasks"]
else:
    chosen = options[label]
    tasks = st.multiselect("Tasks", chosen["tasks"], default=chosen["tasks"], key=f"{k}_tasks")
plans = [p for p in PLANS if p != "subsets" or len(tasks) >= 3]  # 2 tasks have no subset but all of them
plan = st.radio("Plan", plans, format_func=lambda p: f"{p}: {PLANS[p]}", horizontal=True, key="tasks_plan",
                help="The subsets plan needs 3 tasks or more.")
groups = budget = None
if plan == "groups":
    text = st.text_input("Groups (tasks joined by +, groups separated by commas)", "+".join(tasks[:2]), key=f"{k}_groups")
    groups = [[t.strip() for t in g.split("+") if t.strip()] for g in text.split(",") if g.strip()]
if plan == "subsets":
    st.markdown(PLAN_TEXT)
    budget = budget_ui(tasks, k)
seeds = st.slider("Seeds (repeats with different random initialisation)", 1, 10, 3, key="tasks_seeds")
defaults = get_preset(chosen["preset"]).get("config", {}) if "preset" in chosen else {}
config = config_ui(defaults, tasks, k)

if "preset" in chosen:
    spec = StudySpec.from_preset(chosen["preset"], tasks=tasks, seeds=seeds, plan=plan, budget=budget)
else:
    spec = StudySpec(name=chosen["name"], source=chosen["source"], tasks=tasks, seeds=seeds, plan=plan, budget=budget)
spec.config = config
if groups is not None:
    spec.groups = groups
name = st.text_input("Study name", spec.name, key=f"{k}_name")
spec.name = name or spec.name
if len(tasks) < 1:
    st.warning("Pick at least one task.")
    st.stop()
try:
    runs = plan_runs(tasks, plan, seeds, groups, budget)
except MTLLabError as exc:
    st.error(plain(page_message(exc)))
    st.stop()

from mtl_core.studies.time_estimates import (  # noqa: E402  (after the cheap checks above
    DEFAULT_EXAMPLES_PER_SECOND,
    estimate_seconds,
    has_measured_runs,
)

st.metric("Runs", len(runs), help="task sets x seeds, all on one split")
try:
    minutes = estimate_seconds(spec, store) / 60
except MTLLabError as exc:
    st.error(plain(page_message(exc)))
    st.stop()
if has_measured_runs(store):
    st.caption(f"Estimated time on this machine: at most about {minutes:.1f} min (from the measured speed of "
               "earlier runs; early stopping usually ends runs sooner).")
else:
    st.caption(f"Estimated time: at most about {minutes:.1f} min, a cautious guess: no run has been measured on "
               f"this machine yet, so it assumes a slow {DEFAULT_EXAMPLES_PER_SECOND:.0f} examples/s and every run "
               "to its maximum epochs. After the first study, estimates use the speed measured here.")
if st.button("Queue the study", type="primary", key="tasks_submit"):
    try:
        study_id = submit(spec, store)
    except MTLLabError as exc:
        st.error(plain(page_message(exc)))
    else:
        st.success(f"Queued study {plain(study_id)}.")
        st.page_link("pages/3_Train.py", label="Watch it train", icon=":material/timer:")

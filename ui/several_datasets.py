"""The Tasks page's pick of tasks from several saved datasets: one study across datasets (see data.combine)."""
from __future__ import annotations

import json

import streamlit as st

from mtl_core.data.combine import combined_task_names, task_row_counts
from mtl_core.data.library import list_datasets
from mtl_core.data.sources import load_source
from mtl_core.data.study_sources import combined_source
from mtl_core.errors import MTLLabError

SEVERAL = "several saved datasets together (one study across datasets)"


@st.cache_data(show_spinner="Counting each task's rows...")
def task_rows(source_json: str) -> dict[str, int]:
    """How many rows label each task of a saved dataset (its source as JSON, the cache key)."""
    return task_row_counts(load_source(json.loads(source_json)).corpus)


def several_datasets_ui(store, k: str) -> dict:
    """Datasets, then tasks per dataset ('dataset/task (rows)'); returns {name, source, tasks} of the study."""
    saved = {d["name"]: d for d in list_datasets(store)}
    names = st.multiselect("Datasets", list(saved), default=list(saved)[:2], key=f"{k}_datasets")
    st.caption("Each task is trained and scored only on its own dataset's rows; on the other datasets' rows it "
               "has no label (masked). A task name several datasets share gets the dataset's name in front "
               "(e.g. reviews/label), so their tasks never merge.")
    picked: dict[str, list[str]] = {}
    for name in names:
        try:
            rows = task_rows(json.dumps(saved[name]["source"], sort_keys=True))
        except MTLLabError as exc:
            st.error(f"{name}: {exc}")
            continue
        picked[name] = st.multiselect(f"Tasks of {name}", list(rows), default=list(rows), key=f"{k}_tasks_{name}",
                                      format_func=lambda t, name=name, rows=rows: f"{name}/{t} ({rows[t]:,} rows)")
    picked = {name: tasks for name, tasks in picked.items() if tasks}
    in_study = combined_task_names(picked)
    if picked:
        st.dataframe([{"dataset": name, "task": t, "name in the study": in_study[name][t],
                       "rows": task_rows(json.dumps(saved[name]["source"], sort_keys=True))[t]}
                      for name, tasks in picked.items() for t in tasks], hide_index=True)
    return {"name": " + ".join(picked) or "across datasets",
            "source": combined_source([saved[name] for name in picked]) if picked else {},
            "tasks": [in_study[name][t] for name, tasks in picked.items() for t in tasks]}

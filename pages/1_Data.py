"""Data: bring data in (upload, catalog, generator), check it, and save it as a dataset for the Tasks page."""
from __future__ import annotations

import json
import os

import pandas as pd
import streamlit as st

from mtl_core.data import catalog, library
from mtl_core.data.sources import load_source
from mtl_core.errors import MTLLabError
from mtl_core.paths import DATA_DIR_ENV
from mtl_core.charts.data import label_chart
from ui.charts import show_chart
from ui.common import get_store, plain, sidebar
from ui.messages import page_message

st.set_page_config(page_title="MTL Lab · Data", page_icon=":material/science:", layout="wide")
AUTO, NONE = "(automatic)", "(none)"
PARTNERS = [("related", 12, 0, 0), ("unrelated", 0, 0, 12), ("conflicting", 6, 6, 0), ("partly related", 6, 0, 6)]


@st.cache_data(show_spinner="Loading and checking the data…", max_entries=16)
def checked(source_json: str) -> tuple[dict, list[dict]]:
    corpus = load_source(json.loads(source_json)).corpus
    return corpus.report.to_dict(), library.preview_rows(corpus)


def review_ui(source: dict, key: str, default_name: str) -> None:
    """Preview, validation report, label charts and "Save dataset" for one candidate source."""
    try:
        report, preview = checked(json.dumps(source, sort_keys=True))
    except MTLLabError as exc:
        st.error(plain(page_message(exc)))
        return
    st.markdown(f"**{report['rows']} examples, {len(report['label_counts'])} task(s):** "
                + ", ".join(plain(t) for t in report["label_counts"]))
    st.dataframe(pd.DataFrame(preview), hide_index=True, key=f"{key}_preview")
    for warning in report["warnings"]:
        st.warning(plain(page_message(warning)))
    columns = st.columns(min(3, max(1, len(report["label_counts"]))))
    for i, (task, counts) in enumerate(report["label_counts"].items()):
        show_chart(label_chart(task, counts, report["absent_counts"].get(task, 0)), f"{key}_chart_{i}",
                   columns[i % len(columns)])
    name = st.text_input("Dataset name", value=default_name, key=f"{key}_dataset_name")
    if st.button("Save dataset", key=f"{key}_save", type="primary"):
        try:
            library.register_dataset(name, source, get_store())
        except MTLLabError as exc:
            st.error(plain(page_message(exc)))
        else:
            st.success(f"Saved dataset {plain(name.strip())}. Pick its tasks on the Tasks page.")


def files_ui(source: dict, key: str, default_name: str) -> None:
    """Column mapping for CSV/TSV files (from the file's header), then the review."""
    try:
        names = library.table_columns(source["files"])
    except MTLLabError as exc:
        st.error(plain(page_message(exc)))
        return
    if names:
        left, middle, right = st.columns(3)
        text = left.selectbox("Text column", [AUTO, *names], key=f"{key}_text")
        labels = middle.multiselect("Label columns (one task each; empty: automatic)",
                                    [n for n in names if n != text], key=f"{key}_labels")
        domain = right.selectbox("Domain column (optional: one task per domain)",
                                 [NONE, *[n for n in names if n != text and n not in labels]], key=f"{key}_domain")
        source = {**source, "text_column": None if text == AUTO else text, "label_columns": labels or None,
                  "domain_column": None if domain == NONE else domain}
        source = {k: v for k, v in source.items() if v is not None}
    review_ui(source, key, default_name)


def upload_ui() -> None:
    limit = library.max_upload_mb()
    files = st.file_uploader("Data files: CSV/TSV (text + label columns), UCI 'sentence<TAB>label' .txt, "
                             "SemEval XML, CoNLL columns", type=list(library.UPLOAD_TYPES),
                             accept_multiple_files=True, max_upload_size=limit, key="data_upload")
    st.caption(f"Up to {limit} MB per file (set {library.UPLOAD_MB_ENV} to change it). Several UCI or one-label "
               "CSV files: each file becomes its own task (one per domain).")
    if not files:
        st.info("Upload one or more files to preview and check them.")
        return
    paths = []
    for f in files:
        try:
            paths.append(str(library.save_upload(f.name, f.getvalue())))
        except MTLLabError as exc:
            st.error(plain(page_message(exc)))
    if paths:
        files_ui({"files": paths}, "up", os.path.splitext(files[0].name)[0])


def catalog_ui() -> None:
    rows = library.catalog_rows()
    st.dataframe(pd.DataFrame([{"name": r["name"], "title": r["title"], "licence": r["licence"],
                                "found locally": r["local"] or "no"} for r in rows]),
                 hide_index=True, key="cat_table")
    by_name = {r["name"]: r for r in rows}
    name = st.selectbox("Dataset", list(by_name), key="cat_name", format_func=lambda n: by_name[n]["title"])
    row = by_name[name]
    st.caption(f"Citation: {plain(row['citation'])}  \nLicence: {plain(row['licence'])} · "
               f"source: {plain(row['source_url'])}")
    left, right = st.columns(2)
    if left.button("Download from source", key="cat_fetch", disabled=not row["downloadable"]):
        try:
            with st.spinner("Downloading and checking…"):
                catalog.fetch(name)
        except MTLLabError as exc:
            st.error(plain(page_message(exc)))
            st.info("Offline? Get the files on another machine, then use **Import from folder**.")
        else:
            st.rerun()
    folder = right.text_input("Folder holding the files", value=os.environ.get(DATA_DIR_ENV, ""), key="cat_folder")
    if right.button("Import from folder", key="cat_import"):
        try:
            catalog.import_folder(name, folder)
        except MTLLabError as exc:
            st.error(plain(page_message(exc)))
        else:
            st.rerun()
    if row["local"]:
        files_ui(library.catalog_source(name), "cat", name)
    else:
        st.info("Not found locally yet: download it or import it from a folder to preview it.")


def synthetic_ui() -> None:
    c = st.columns(4)
    n = c[0].slider("Examples per task", 100, 2000, 400, 100, key="syn_n")
    noise = c[1].slider("Label noise", 0.0, 0.4, 0.05, 0.01, key="syn_noise")
    rate = c[2].slider("Positive rate", 0.1, 0.9, 0.5, 0.05, key="syn_rate")
    shared = c[3].checkbox("Tasks label the same sentences", key="syn_shared")
    k = st.slider("Partner tasks of the 'base' task (12 cue words)", 1, len(PARTNERS), 3, key="syn_k")
    partners = []
    for i, (default, s, x, p) in enumerate(PARTNERS[:k]):
        c = st.columns(4)
        partners.append({"name": c[0].text_input("Task name", default, key=f"syn_name{i}").strip(),
                         "shared_cues": c[1].slider("Shared cues", 0, 12, s, key=f"syn_sc{i}"),
                         "contradicting_cues": c[2].slider("Contradicting cues", 0, 12, x, key=f"syn_cc{i}"),
                         "private_cues": c[3].slider("Private cues", 0, 24, p, key=f"syn_pc{i}")})
    try:
        source = library.synthetic_source(partners, n, noise, rate, shared)
    except MTLLabError as exc:
        st.error(plain(page_message(exc)))
        return
    review_ui(source, "syn", "synthetic")


store = get_store()
sidebar(store)
st.title("Data")
st.markdown("Bring data in, check it, and **save it as a dataset**; then pick its tasks on the Tasks page.")
upload, from_catalog, synthetic = st.tabs(["Upload", "Catalog", "Synthetic"])
with upload:
    upload_ui()
with from_catalog:
    catalog_ui()
with synthetic:
    synthetic_ui()

st.subheader("Saved datasets")
saved = library.list_datasets(store)
if saved:
    st.dataframe(pd.DataFrame([{"name": d["name"], "tasks": ", ".join(d["tasks"]), "examples": d["n_examples"],
                                "saved": pd.Timestamp(d["created"], unit="s")} for d in saved]),
                 hide_index=True, key="data_saved")
else:
    st.caption("None yet.")
st.page_link("pages/2_Tasks.py", label="Next: pick tasks and start a study on the Tasks page", icon=":material/checklist:")

"""Compare: single vs multitask per task (mean ± 95% CI), the gains table, the transfer heatmap when pairs
were run, how tasks relate (affinity, gradient conflict, task graph, recommended groups, cheap estimates vs
measured transfer: ui/relatedness.py), learning curves of any run, and exports (CSV, PNG or HTML)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from mtl_core.results.export import rows_csv
from mtl_core.results.gains import SETTING_DELTA_COLUMNS, lead_rows, paired_deltas
from mtl_core.results.methods import comparable_studies, method_rows
from mtl_core.results.study_results import StudyResults
from mtl_core.results.summary import COLUMNS, auxiliary_rows, describe_method, summary_rows
from mtl_core.results.transfer import TRANSFER_COLUMNS, transfer_matrix
from mtl_core.charts.export import ExportError, figure_html, figure_png
from mtl_core.charts.relations import settings_chart, transfer_heatmap
from mtl_core.charts.scores import comparison_chart, curves_chart, methods_chart
from ui.common import NUM, get_store, pick_results, plain, sidebar
from ui.relatedness import chart_with_help, relatedness_ui

st.set_page_config(page_title="Compare · MTL Lab", page_icon="🧪", layout="wide")
st.title("Compare")
store = get_store()
sidebar(store)

CHART_HELP = (
    "Each bar is one task's **test score averaged over seeds**; the whisker is its **95% confidence interval**. "
    "**Synergy**: the task scores higher when trained with other tasks than alone. **Interference**: lower. "
    "When two whiskers overlap, the runs **can't tell the two apart** yet; more seeds narrow the interval. "
    "The dashed line is the **majority-class baseline** (always guessing the most common label): a model "
    "below it has learned nothing useful.")
DELTA_HELP = (
    "**Gain** = score trained together minus score alone, computed seed by seed (same split, same seed). "
    "The verdict says *helps* or *hurts* only when the 95% CI of the gain excludes 0; otherwise it says "
    "*no clear difference*, which means \"can't tell\", not \"no effect\".")
HEATMAP_HELP = (
    "**Transfer**: how much the task in the row gains when trained together with the task in the column, "
    "compared with training it alone. Blue = synergy, red = interference, white = no change. "
    "Cells marked **?** have a 95% CI that includes 0: can't tell. Transfer is not symmetric: "
    "A can help B while B does nothing for A.")


def export_ui(fig, name: str, key: str) -> None:
    """HTML (always works, offline) and, on request, PNG through kaleido; a failed PNG never breaks the page."""
    c1, c2, c3 = st.columns([1, 1, 3])
    c1.download_button("Chart as HTML", lambda: figure_html(fig), file_name=f"{name}.html", mime="text/html",
                       key=f"{key}_html", on_click="ignore")
    if c2.button("Make a PNG", key=f"{key}_png"):
        try:
            png = figure_png(fig)
        except ExportError as exc:
            c3.warning(f"PNG export is not available here: {plain(exc)} The HTML export still works.")
        else:
            c3.download_button("Download PNG", png, file_name=f"{name}.png", mime="image/png",
                               key=f"{key}_png_download", on_click="ignore")


def curves_ui(results: StudyResults) -> None:
    runs, lead = results.finished_runs, results.lead
    if not runs:
        return
    st.subheader("Learning curves of one run")
    c1, c2 = st.columns([3, 1])
    run = c1.selectbox("Run", runs, key="compare_run", format_func=lambda r: (
        f"run {r['id']} · {r['setting']} · {' + '.join(r['tasks'])} · seed {r['seed']}"))
    kind = c2.radio("Show", ["val", "loss"], key="compare_curve_kind", horizontal=True,
                    format_func=lambda k: "validation score" if k == "val" else "losses")
    fig = curves_chart(results.run_curves(run["id"]), {t: lead[t] for t in run["tasks"] if t in lead},
                       run.get("best_epoch"), kind)
    st.plotly_chart(fig, key="compare_curves")
    st.caption("The model kept is the one from the best validation epoch (dotted line); the test set is scored "
               "once, with that model. Training loss falling while validation loss rises means overfitting.")
    export_ui(fig, f"curves_run{run['id']}", "compare_curves")


results = pick_results(store, key="compare_study")  # the study, read once for this render
if results is None:
    st.stop()
lead = results.lead
rows = summary_rows(results)
chart_rows = lead_rows(rows, lead)
if not chart_rows:
    st.info("This study has no finished runs to compare.")
    st.stop()
st.caption(f"Study **{plain(results.name)}** · plan {plain(results.spec.get('plan', 'singles+all'))} · "
           f"{max(r['n_seeds'] for r in chart_rows)} seed(s) · {plain(describe_method(results.config))}")

st.subheader("Single-task vs multitask, per task")
simple = {r["setting"] for r in chart_rows} <= {"single", "all", "tfidf-lr"}
fig = comparison_chart(chart_rows) if simple else settings_chart(chart_rows)
chart_with_help(fig, "compare_chart", CHART_HELP, export_ui, "comparison")

st.subheader("Gain over training alone")
deltas = paired_deltas(results.scores, lead)
if deltas:
    st.dataframe(pd.DataFrame(deltas)[SETTING_DELTA_COLUMNS], hide_index=True, key="compare_deltas",
                 column_config={c: NUM for c in ("single", "multitask", "delta", "ci_low", "ci_high")})
    st.markdown(DELTA_HELP)
else:
    st.info("No task was trained both alone and with others, so there is no gain to compute.")

transfer = transfer_matrix(results)  # once per render: the relatedness sections take it from here
if transfer:
    st.subheader("Transfer between pairs of tasks")
    heat = transfer_heatmap(transfer, list(lead))
    chart_with_help(heat, "compare_transfer", HEATMAP_HELP, export_ui, "transfer")
relatedness_ui(results, transfer, export_ui)

aux = auxiliary_rows(results)
if aux:
    st.subheader("Automatic auxiliary tasks")
    st.dataframe(pd.DataFrame(aux), hide_index=True, key="compare_aux",
                 column_config={c: NUM for c in ("mean", "ci_low", "ci_high")})
    st.caption("Trained alongside every run to shape the shared encoder; their scores are shown for inspection "
               "only and take no part in model selection or in the results above.")

def methods_ui(results: StudyResults) -> None:
    """This study beside other finished studies of the same tasks (each its own method)."""
    others = [s for s in comparable_studies(store.studies(), results.study) if s["id"] != results.id]
    if not others:
        return
    st.subheader("Compare methods: this study beside others on the same tasks")
    picked = st.multiselect("Other studies", others, key="compare_methods",
                            format_func=lambda s: f"{s['name']} · {describe_method(s['spec'].get('config', {}))}")
    if picked:
        fig = methods_chart(method_rows([results] + [StudyResults.load(store, s["id"]) for s in picked]))
        st.plotly_chart(fig, key="compare_methods_chart")
        st.caption("Each study trains one method (sharing, backbone, weighting, sampling, auxiliary tasks). Bars: "
                   "each task's multitask score (alone, for a study of one task). Right: the epoch early stopping "
                   "kept, and the first epoch at which each run reached the validation score that every compared "
                   "run reached (who gets to the same quality first). A method that keeps improving for longer "
                   "keeps a later best epoch even when it reaches that score sooner. Overlapping whiskers: "
                   "can't tell apart.")
        export_ui(fig, "methods", "compare_methods_export")


methods_ui(results)
curves_ui(results)

st.subheader("Export the results")
c1, c2, c3 = st.columns(3)
c1.download_button("summary.csv", rows_csv(rows, COLUMNS), file_name="summary.csv", mime="text/csv",
                   key="compare_csv_summary", on_click="ignore")
c2.download_button("gains.csv", rows_csv(deltas, SETTING_DELTA_COLUMNS), file_name="gains.csv", mime="text/csv",
                   key="compare_csv_gains", on_click="ignore", disabled=not deltas)
if transfer:
    c3.download_button("transfer.csv", rows_csv(transfer, TRANSFER_COLUMNS), file_name="transfer.csv",
                       mime="text/csv", key="compare_csv_transfer", on_click="ignore")

"""Compare: single vs multitask per task on a chosen metric (mean ± 95% CI from 2 seeds on), warnings for tasks
whose models learned little, the gains table, the transfer heatmap when pairs were run, how tasks relate
(affinity, gradient conflict, task graph, recommended groups, cheap estimates vs measured transfer:
ui/relatedness.py), what random task subsets say (ui/subsets.py) and a predicted grouping's verification
(ui/verification.py), one run's learning curves, per-class scores and confusion matrix, and exports (CSV, PNG, HTML)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from mtl_core.results.export import rows_csv
from mtl_core.results.gains import SETTING_DELTA_COLUMNS, lead_rows, paired_deltas
from mtl_core.results.health import task_warnings
from mtl_core.results.methods import comparable_studies, method_rows
from mtl_core.results.per_class import CLASS_COLUMNS, confusion_matrix, per_class_rows, read_confusions
from mtl_core.results.study_results import METRIC_LABELS, StudyResults
from mtl_core.results.summary import COLUMNS, auxiliary_rows, describe_method, summary_rows
from mtl_core.results.transfer import TRANSFER_COLUMNS, transfer_matrix
from mtl_core.results.verdict import NO_INTERVAL, ONE_SEED, interval_text
from mtl_core.charts.classes import MAX_CLASSES, confusion_heatmap
from mtl_core.charts.export import ExportError, figure_html, figure_png
from mtl_core.charts.relations import settings_chart, transfer_heatmap
from mtl_core.charts.scores import comparison_chart, curves_chart, methods_chart
from ui.charts import show_chart
from ui.common import NUM, get_store, pick_results, plain, sidebar
from ui.more_seeds import more_seeds_ui
from ui.relatedness import chart_with_help, relatedness_ui
from ui.subsets import subsets_ui
from ui.verification import verification_ui

st.set_page_config(page_title="Compare · MTL Lab", page_icon=":material/science:", layout="wide")
st.title("Compare")
store = get_store()
sidebar(store)

CHART_HELP = (
    "Each bar is one task's **test score averaged over seeds**; the whisker is its **95% confidence interval** "
    "(none with one seed: one run says nothing about the spread). "
    "**Synergy**: the task scores higher when trained with other tasks than alone. **Interference**: lower. "
    "When two whiskers overlap, the runs **can't tell the two apart** yet; more seeds narrow the interval. "
    "The dashed line is the **majority-class baseline** (always guessing the most common label): a model "
    "below it has learned nothing useful.")
DELTA_HELP = (
    "**Gain** = score trained together minus score alone, computed seed by seed (same split, same seed). "
    "The verdict says *helps* or *hurts* only when the 95% CI of the gain excludes 0; otherwise it says "
    "*no clear difference*, which means \"can't tell\", not \"no effect\". With one seed there is no interval "
    f"(\"{NO_INTERVAL}\") and the verdict is *{ONE_SEED}*.")
HEATMAP_HELP = (
    "**Transfer**: how much the task in the row gains when trained together with the task in the column, "
    "compared with training it alone. Blue = synergy, red = interference, white = no change. "
    "Cells marked **?** have a 95% CI that includes 0 (or one seed, so no CI): can't tell. Transfer is not "
    "symmetric: "
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


def run_ui(results: StudyResults) -> None:
    """One run, picked: its learning curves, and each task's per-class scores and confusion matrix."""
    runs, lead = results.finished_runs, results.lead
    if not runs:
        return
    st.subheader("One run: learning curves and per-class scores")
    c1, c2 = st.columns([3, 1])
    run = c1.selectbox("Run", runs, key="compare_run", format_func=lambda r: (
        f"run {r['id']} · {r['setting']} · {' + '.join(r['tasks'])} · seed {r['seed']}"))
    kind = c2.radio("Show", ["val", "loss"], key="compare_curve_kind", horizontal=True,
                    format_func=lambda k: "validation score" if k == "val" else "losses")
    fig = curves_chart(results.run_curves(run["id"]), {t: lead[t] for t in run["tasks"] if t in lead},
                       run.get("best_epoch"), kind)
    show_chart(fig, "compare_curves")
    st.caption("The model kept is the one from the best validation epoch (dotted line); the test set is scored "
               "once, with that model. Training loss falling while validation loss rises means overfitting.")
    export_ui(fig, f"curves_run{run['id']}", "compare_curves")
    classes_ui(results, run)


def classes_ui(results: StudyResults, run: dict) -> None:
    """Per-class precision, recall and F1 and the confusion matrix of one task of ``run`` (test split)."""
    counts = read_confusions(store, results.id)
    tasks = [t for t in run["tasks"] if (run["id"], t) in counts]
    if not tasks:
        st.info("This run kept no per-class counts (it finished before MTL Lab stored them). Run the study again "
                "to see per-class scores and a confusion matrix.")
        return
    task = st.radio("Task", tasks, key="compare_class_task", horizontal=True) if len(tasks) > 1 else tasks[0]
    labels = results.tasks[task].get("labels", [])
    rows = per_class_rows(counts[(run["id"], task)], labels)
    st.dataframe(pd.DataFrame(rows, columns=CLASS_COLUMNS), hide_index=True, key="compare_classes",
                 column_config={c: NUM for c in ("precision", "recall", "f1")})
    st.caption("Support: the class's test examples (tagging: tokens); precision: of the predictions of a class, "
               "the share that were right; recall: of its examples, the share found. Macro-F1 is the plain mean of "
               "the classes' F1, so a rare class that is never found pulls it down even when accuracy is high.")
    classes, matrix = confusion_matrix(counts[(run["id"], task)], labels)
    if len(classes) <= MAX_CLASSES:
        show_chart(confusion_heatmap(task, classes, matrix), "compare_confusion")
    st.download_button("per_class.csv", rows_csv(rows, CLASS_COLUMNS), file_name=f"per_class_run{run['id']}_{task}.csv",
                       mime="text/csv", key="compare_csv_classes", on_click="ignore")


results = pick_results(store, key="compare_study")  # the study, read once for this render
if results is None:
    st.stop()
chosen = st.radio("Metric", results.metric_choices(), key="compare_metric", horizontal=True,
                  format_func=METRIC_LABELS.get,
                  help="Accuracy flatters a model on imbalanced labels (always guessing the common class scores "
                       "high); macro-F1 weighs every class equally; span-F1 scores whole entities of a tagging task.")
metrics = results.metrics_for(chosen)  # task -> the metric shown (a task without the chosen one keeps its lead)
rows = summary_rows(results)
chart_rows = lead_rows(rows, metrics)
if not chart_rows:
    st.info("This study has no finished runs to compare.")
    st.stop()
seeds = max(r["n_seeds"] for r in chart_rows if r["setting"] != "tfidf-lr")
st.caption(f"Study **{plain(results.name)}** · plan {plain(results.spec.get('plan', 'singles+all'))} · "
           f"{seeds} seed(s) · {plain(describe_method(results.config))}")
if seeds < 2:
    st.info(f"{NO_INTERVAL}: this study ran one seed, so no bar has a whisker and no difference gets a verdict "
            f"({ONE_SEED}). Add seeds below to see which differences are real.")
more_seeds_ui(results, seeds)

st.subheader("Single-task vs multitask, per task")
warnings = task_warnings(results, rows, metrics)
if warnings:  # one box, a line per task: what is wrong, then the likely reason
    st.warning("**These tasks' models learned little:**\n" + "".join(
        f"\n- **{plain(w['task'])}** ({w['metric']}): {plain(w['problem'])}. *Likely reason:* {plain(w['reason'])}."
        for w in warnings), icon=":material/warning:")
simple = {r["setting"] for r in chart_rows} <= {"single", "all", "tfidf-lr"}
fig = comparison_chart(chart_rows) if simple else settings_chart(chart_rows)
chart_with_help(fig, "compare_chart", CHART_HELP, export_ui, "comparison")

st.subheader("Gain over training alone")
deltas = paired_deltas(results.scores, metrics)
if deltas:
    table = pd.DataFrame([{**d, "95% CI": interval_text(d["ci_low"], d["ci_high"], d["n_seeds"], signed=True)}
                          for d in deltas])
    st.dataframe(table[["task", "setting", "metric", "single", "multitask", "delta", "95% CI", "n_seeds", "verdict"]],
                 hide_index=True, key="compare_deltas", column_config={c: NUM for c in ("single", "multitask", "delta")})
    st.markdown(DELTA_HELP)
else:
    st.info("No task was trained both alone and with others, so there is no gain to compute.")

transfer = transfer_matrix(results, metrics)  # once per render: the relatedness sections take it from here
if transfer:
    st.subheader("Transfer between pairs of tasks")
    heat = transfer_heatmap(transfer, list(results.lead))
    chart_with_help(heat, "compare_transfer", HEATMAP_HELP, export_ui, "transfer")
relatedness_ui(results, transfer, export_ui)
subsets_ui(results, metrics, export_ui)  # a study with sampled task subsets (plan "subsets")
verification_ui(results, metrics, export_ui)  # a study that trains a predicted grouping to check it

aux = auxiliary_rows(results)
if aux:
    st.subheader("Automatic auxiliary tasks")
    st.dataframe(pd.DataFrame([{**r, "95% CI": interval_text(r["ci_low"], r["ci_high"], r["n_runs"])} for r in aux])
                 [["task", "with", "metric", "mean", "95% CI", "n_runs"]], hide_index=True, key="compare_aux",
                 column_config={"mean": NUM})
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
        show_chart(fig, "compare_methods_chart")
        st.caption("Each study trains one method (sharing, backbone, weighting, sampling, auxiliary tasks). Bars: "
                   "each task's multitask score (alone, for a study of one task). Right: the epoch early stopping "
                   "kept, and the first epoch at which each run reached the validation score that every compared "
                   "run reached (who gets to the same quality first). A method that keeps improving for longer "
                   "keeps a later best epoch even when it reaches that score sooner. Overlapping whiskers: "
                   "can't tell apart.")
        export_ui(fig, "methods", "compare_methods_export")


methods_ui(results)
run_ui(results)

st.subheader("Export the results")
c1, c2, c3 = st.columns(3)
c1.download_button("summary.csv", rows_csv(rows, COLUMNS), file_name="summary.csv", mime="text/csv",
                   key="compare_csv_summary", on_click="ignore")
c2.download_button("gains.csv", rows_csv(deltas, SETTING_DELTA_COLUMNS), file_name=f"gains_{chosen}.csv",
                   mime="text/csv", key="compare_csv_gains", on_click="ignore", disabled=not deltas,
                   help="On the metric picked above; empty ci_low and ci_high with one seed (no interval).")
if transfer:
    c3.download_button("transfer.csv", rows_csv(transfer, TRANSFER_COLUMNS), file_name=f"transfer_{chosen}.csv",
                       mime="text/csv", key="compare_csv_transfer", on_click="ignore")

"""Predict: load a finished run's model, see its test scores, type a sentence (or upload a file) and see every
task's answer, its confidence and, for a task that may not concern the sentence, whether it applies."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from mtl_core.charts.data import prediction_chart
from mtl_core.data.library import save_upload
from mtl_core.errors import MTLLabError
from mtl_core.predict import (
    NOT_MENTIONED,
    Predictor,
    alone_and_together,
    load_predictor,
    predictions_table,
    read_sentences,
    run_test_scores,
    runs_with_models,
)
from mtl_core.results.health import run_at_chance
from mtl_core.results.study_results import lead_metrics
from ui.charts import show_chart
from ui.common import NUM, get_store, pick_study, plain, sidebar

st.set_page_config(page_title="MTL Lab · Predict", page_icon=":material/science:", layout="wide")


@st.cache_resource(max_entries=8, show_spinner="Loading the model…")
def predictor(store_path: str, run_id: int) -> Predictor:
    return load_predictor(get_store(), run_id)  # keyed by store path and run id


def run_label(r: dict) -> str:
    """What tells the models apart first (setting, tasks in short, seed), the run and its full task list after: a
    phone-wide select box shows only the start."""
    tasks = r["tasks"]
    short = tasks[0] if len(tasks) == 1 else " + ".join(tasks) if len(tasks) == 2 and \
        len(" + ".join(tasks)) <= 24 else f"{len(tasks)} tasks"
    return f"{r['setting']} · {short} · seed {r['seed']} — run {r['id']}: {', '.join(tasks)}"


def applies_text(model: Predictor, task: str, p: dict) -> str:
    if not model.may_not_apply(task):
        return "always"
    return "unknown" if p["applies"] is None else f"{p['applies']:.3f}"


def scores_ui(model: Predictor, run: dict) -> None:
    scores = run_test_scores(store, run)
    rows = [{"task": t, "accuracy": s.get("accuracy"), "macro-F1": s.get("macro_f1"),
             "span-F1": s.get("span_f1"), "token accuracy": s.get("token_accuracy"),
             "applies? accuracy": s.get("applies_accuracy"), "applies? F1": s.get("applies_f1"),
             "test labels": int(s["n"]) if "n" in s else None} for t, s in scores.items()]
    table = pd.DataFrame(rows).dropna(axis=1, how="all")
    st.dataframe(table, hide_index=True, key="predict_scores", column_config={
        c: NUM for c in table.columns if c not in ("task", "test labels")})
    study = store.study(run["study_id"]) or {}
    guessing = run_at_chance(scores, store.baselines(run["study_id"]), lead_metrics(study.get("tasks") or {}))
    if guessing:
        st.warning("**This run's answers are guesses for:** " + "; ".join(plain(g) for g in guessing)
                   + ". Pick a better run, or see the Compare page for why it learned little.",
                   icon=":material/warning:")
    unknown = [t for t in run["tasks"] if t in model.unknown]
    st.caption("This run's scores on its study's test split (labels present only). **applies?**: whether the "
               "task concerns a sentence at all (an aspect it mentions), scored on every test sentence."
               + (f" Applies? unknown for {', '.join(unknown)}: this run was saved before models learned it; "
                  "run the study again to learn it." if unknown else ""))


def answer_ui(model: Predictor, text: str) -> None:
    (prediction,) = model.predict([text])
    rows = [{"task": t, "answer": p["answer"], "confidence": p["confidence"],
             "applies? P": applies_text(model, t, p), "kind": p["kind"]} for t, p in prediction.items()]
    st.dataframe(pd.DataFrame(rows), hide_index=True, key="predict_table", column_config={"confidence": NUM})
    st.caption(f"Confidence: the softmax probability of the predicted class (tagging: mean over tokens). "
               f"**applies? P**: the model's probability that the sentence concerns the task; under 0.5 the "
               f"answer is *{NOT_MENTIONED}* (\"always\": the task applies to every sentence; \"unknown\": this "
               "run cannot tell). Tokens: " + " · ".join(plain(t) for t in next(iter(prediction.values()))["tokens"]))
    shown = {t: p for t, p in prediction.items() if p["kind"] != "tagging" and p["answer"] != NOT_MENTIONED}
    if shown:
        show_chart(prediction_chart(shown), "predict_chart")
    for task, p in prediction.items():
        if p["kind"] == "tagging":
            st.markdown(f"**{plain(task)}**: token / tag")
            st.dataframe(pd.DataFrame({"token": p["tokens"], "tag": p["tags"], "confidence": p["confidences"]}),
                         hide_index=True, key=f"predict_tags_{task}", column_config={"confidence": NUM})


def side_by_side_ui(run: dict, text: str) -> None:
    alone, together = alone_and_together(runs, run["seed"])
    if together is None or not alone:
        st.caption("Alone vs together: this study has no single-task and multitask runs of the same seed.")
        return
    st.subheader(f"Alone vs together (seed {run['seed']})")
    models = {r["id"]: predictor(str(store.path), r["id"]) for r in [together, *alone.values()]}
    (joint,) = models[together["id"]].predict([text])
    rows = []
    for task, single in alone.items():
        (own,) = models[single["id"]].predict([text])
        rows.append({"task": task, "alone": own[task]["answer"], "alone confidence": own[task]["confidence"],
                     "together": joint[task]["answer"] if task in joint else "—",
                     "together confidence": joint[task]["confidence"] if task in joint else None})
    st.dataframe(pd.DataFrame(rows), hide_index=True, key="predict_side_by_side",
                 column_config={"alone confidence": NUM, "together confidence": NUM})
    st.caption(f"The same sentence through each task's single-task model (run of that task alone) and through "
               f"run {together['id']}, which learned [{', '.join(together['tasks'])}] together.")


def file_ui(model: Predictor, run: dict) -> None:
    st.subheader("Predict a whole file")
    upload = st.file_uploader("A .txt file (one sentence per line) or a .csv / .tsv file with a 'text' column",
                              type=["txt", "csv", "tsv"], key="predict_file")
    column = st.text_input("Text column (CSV / TSV; empty: the column named 'text')", key="predict_column")
    if upload is None:
        return
    try:
        sentences = read_sentences(save_upload(upload.name, upload.getvalue()), column.strip() or None)
    except MTLLabError as exc:
        st.error(plain(str(exc)))
        return
    table = pd.DataFrame(predictions_table(model, sentences))
    st.dataframe(table.head(50), hide_index=True, key="predict_file_table")
    st.download_button(f"Download the {len(table)} predictions (CSV)", table.to_csv(index=False).encode("utf-8"),
                       file_name=f"predictions_run{run['id']}.csv", mime="text/csv", key="predict_download")


store = get_store()
sidebar(store)
st.title("Predict")
study = pick_study(store, key="predict_study")
if study is None:
    st.stop()
runs = runs_with_models(store, study["id"])
if not runs:
    st.info("No run of this study saved its model. Studies save models by default: run this one again "
            "(Tasks page) or pick another study in the sidebar.")
    st.stop()
run = st.selectbox("Model (one finished run)", runs, format_func=run_label, key="predict_run",
                   index=len(runs) - 1)  # the last run is usually the one with all tasks
try:
    model = predictor(str(store.path), run["id"])
except MTLLabError as exc:
    st.error(plain(str(exc)))
    st.stop()
scores_ui(model, run)

text = st.text_area("Type a sentence", key="predict_text", placeholder="The food was great but the service slow.")
if text.strip():
    answer_ui(model, text)
    try:
        side_by_side_ui(run, text)
    except MTLLabError as exc:
        st.error(plain(str(exc)))
else:
    st.info("Type a sentence to see what each task predicts for it.")
file_ui(model, run)

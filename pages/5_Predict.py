"""Predict: load a finished run's model, type a sentence, see every task's prediction and confidence."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from mtl_core.errors import MTLLabError
from mtl_core.predict import Predictor, load_predictor, runs_with_models
from mtl_core.charts.data import prediction_chart
from ui.common import NUM, get_store, pick_study, plain, sidebar

st.set_page_config(page_title="MTL Lab · Predict", page_icon="🧪", layout="wide")


@st.cache_resource(max_entries=8, show_spinner="Loading the model…")
def predictor(store_path: str, run_id: int) -> Predictor:
    return load_predictor(get_store(), run_id)  # keyed by store path and run id


def run_label(r: dict) -> str:
    return f"run {r['id']}: {r['setting']} [{', '.join(r['tasks'])}], seed {r['seed']}"


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

text = st.text_area("Type a sentence", key="predict_text", placeholder="The food was great but the service slow.")
if not text.strip():
    st.info("Type a sentence to see what each task predicts for it.")
    st.stop()

(prediction,) = model.predict([text])
rows = [{"task": t, "prediction": p["label"] if p["kind"] != "tagging" else " ".join(p["tags"]),
         "confidence": p["confidence"], "kind": p["kind"]} for t, p in prediction.items()]
st.dataframe(pd.DataFrame(rows), hide_index=True, key="predict_table", column_config={"confidence": NUM})
st.caption("Confidence: the softmax probability of the predicted class (tagging: mean over tokens). "
           "Tokens: " + " · ".join(plain(t) for t in next(iter(prediction.values()))["tokens"]))
if any(p["kind"] != "tagging" for p in prediction.values()):
    st.plotly_chart(prediction_chart(prediction), key="predict_chart")
for task, p in prediction.items():
    if p["kind"] == "tagging":
        st.markdown(f"**{plain(task)}**: token / tag")
        st.dataframe(pd.DataFrame({"token": p["tokens"], "tag": p["tags"], "confidence": p["confidences"]}),
                     hide_index=True, key=f"predict_tags_{task}", column_config={"confidence": NUM})

"""Playground (classroom): dial how two generated tasks relate, train a quick study, watch synergy or interference."""
from __future__ import annotations

import streamlit as st

from mtl_core.results.gains import lead_rows, paired_deltas
from mtl_core.results.interference import conflict_summary, study_gradient_curves
from mtl_core.results.study_results import StudyResults
from mtl_core.results.summary import summary_rows
from mtl_core.results.verdict import interval_text
from mtl_core.status import ACTIVE, Status
from mtl_core.studies.playground import BASE_CUES, playground_spec
from mtl_core.studies.submit import queue_study
from mtl_core.charts.playground import conflict_chart, cosine_chart
from mtl_core.charts.relations import settings_chart
from mtl_core.charts.scores import comparison_chart
from ui.charts import show_chart
from ui.common import NUM, get_store, plain, sidebar

st.set_page_config(page_title="Playground · MTL Lab", page_icon=":material/science:", layout="wide")
st.title("Playground: when does a second task help?")
store = get_store()
sidebar(store)

st.markdown(
    f"Two generated tasks label short pseudo-word sentences positive or negative from the *cue words* they hold. "
    f"Task **A** has {BASE_CUES} cue words. Task **B** reuses some of A's cue words — with the same meaning or the "
    "opposite one — and has its own words for the rest. A quick study trains A alone, B alone and A with B "
    "(one shared encoder, one output head per task), 3 seeds each, in well under a minute.\n\n"
    "**Try this (measured with this page's defaults, 3 seeds):** B uses all 12 of A's words with the same meaning, "
    "on its own sentences, with 3× A's data and a small shared encoder (4 units). A gains +0.14 accuracy from B "
    "(0.52 alone → 0.66 with B; the 95% interval excludes 0): *synergy*; mean gradient cosine +0.09, 36% of "
    "checks conflicting. Now move one slider, **of which contradict A**, to 6: A drops from 0.54 alone to 0.49 "
    "with B (−0.05), the mean cosine turns negative (−0.08) and 65% of checks conflict: *interference* (with 3 "
    "seeds the interval still includes 0, so the verdict reads \"no clear difference\"). At 8: −0.07 for A. "
    "At 12 B helps again (+0.18): exact opposites are easy, B's head just flips its sign.")


def controls_ui() -> None:
    c1, c2, c3 = st.columns(3)
    overlap = c1.slider("Cue words B shares with A", 0, BASE_CUES, BASE_CUES, key="pg_overlap")
    contra = c1.slider("… of which contradict A", 0, BASE_CUES, 0, key="pg_contra",
                       help="These words mean the opposite for B (a 'good' word for A is 'bad' for B).")
    noise = c2.slider("Label noise (share of flipped labels)", 0.0, 0.4, 0.05, 0.05, key="pg_noise")
    n_a = c2.slider("Examples of task A", 100, 600, 300, 50, key="pg_n_a")
    n_b = c3.slider("Examples of task B", 100, 1200, 900, 100, key="pg_n_b")
    hidden = c3.select_slider("Shared encoder size (units)", [2, 4, 8, 16, 32], 4, key="pg_hidden",
                              help="Small: the tasks must share a few features, so disagreements hurt more.")
    same = st.checkbox("Both tasks label the same sentences", False, key="pg_same")
    if contra > overlap:
        st.warning(f"Only {overlap} cue words are shared, so at most {overlap} can contradict; using {overlap}.")
    if st.button("Run quick study", type="primary", key="pg_run"):
        spec = playground_spec(overlap, contra, noise, n_a, n_b, same_sentences=same, hidden=hidden)
        st.query_params["study"] = queue_study(spec, store)  # and a worker, unless MTL_LAB_AUTOSTART_WORKER=0
        st.rerun()


def results_ui(results: StudyResults) -> None:
    lead = results.lead
    rows = lead_rows(summary_rows(results), lead)
    st.subheader("Alone vs together (test accuracy, mean ± 95% CI over seeds)")
    together = any(r["setting"].startswith("with:") for r in rows)
    show_chart(settings_chart(rows) if together else comparison_chart(rows), "pg_scores")
    deltas = paired_deltas(results.scores, lead)
    if deltas:
        st.dataframe([{**{k: d[k] for k in ("task", "setting", "single", "multitask", "delta")},
                       "95% CI": interval_text(d["ci_low"], d["ci_high"], d["n_seeds"], signed=True),
                       "verdict": d["verdict"]} for d in deltas], hide_index=True,
                     column_config={k: NUM for k in ("single", "multitask", "delta")})
    st.markdown("**Synergy** means a task scores better trained together with its partner than alone; "
                "**interference** means worse. The verdict says *helps* or *hurts* only when the 95% interval "
                "of the per-seed difference leaves out 0; otherwise the seeds disagree and it says so.")
    grads = study_gradient_curves(results)
    if not grads:
        st.info("This study has no gradient measurements (it was trained without grad_every).")
        return
    st.subheader("Do the tasks pull the shared encoder the same way?")
    left, right = st.columns([3, 2])
    show_chart(cosine_chart(grads), "pg_cosine", left)
    show_chart(conflict_chart(grads), "pg_conflict", right)
    for s in conflict_summary(grads):
        st.metric(f"{plain(s['pair'].replace('|', ' & '))}: mean gradient cosine, mean conflict rate",
                  f"{s['grad_cosine']:+.2f} · {s['grad_conflict_rate']:.0%}")
    st.markdown(
        "Every few training steps the app computes, for each task, the direction in which its own loss wants to "
        "move the **shared** encoder (its gradient), and compares the two directions. A **cosine** near +1: both "
        "tasks push the same way, each step for one is a step for the other (room for synergy). Near 0: unrelated "
        "directions. **Negative**: the tasks pull against each other — a step that helps one undoes the other "
        "(room for interference); the **conflict rate** is the share of checks where that happened. Because each "
        "task has its own head, labels that are *exactly* opposite still give a high cosine (the head flips the "
        "sign); conflict comes from tasks that need *different* uses of the same words.")


study_id = st.query_params.get("study")
controls_ui()
current = store.study(study_id) if study_id else None
if current is None:
    st.info("Set the sliders and press **Run quick study**." if not study_id
            else f"No study with id {plain(study_id)}. Press **Run quick study** to start one.")
    st.stop()


@st.fragment(run_every=2 if current["status"] in ACTIVE else None)
def live_ui() -> None:
    study = store.study(study_id)  # its status, polled while it trains
    st.caption(f"Study: {plain(study['name'])} · {plain(study_id)} · {study['status']}")
    if study["status"] in ACTIVE:
        runs = store.runs(study_id)
        done = sum(r["status"] == Status.DONE for r in runs)
        st.progress(done / max(len(runs), 1), text=f"Training: {done} of {len(runs)} runs finished")
        return
    if current["status"] in ACTIVE:  # just finished: one full rerun stops the polling
        st.rerun()
    if study["status"] != Status.DONE:
        st.error(f"The study {study['status']}: {plain(study.get('error') or 'see the Train page')}")
        return
    results_ui(StudyResults.load(store, study_id))  # finished: its results, read once


live_ui()

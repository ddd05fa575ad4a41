"""Home page: what the app does, a one-minute tour, one-click presets, and the newest study explained.

Reads the store and submits studies to the background worker; training never runs in this script thread.
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from mtl_core.results.gains import SETTING_DELTA_COLUMNS, lead_rows, paired_deltas
from mtl_core.results.summary import summary_rows
from mtl_core.charts.scores import comparison_chart
from ui.charts import show_chart
from ui.common import NUM, get_store, pick_results, plain, sidebar
from ui.presets import presets_ui

TOUR = """
1. **Data** — upload a CSV, SemEval XML or CoNLL file, fetch a public dataset, or generate synthetic tasks.
2. **Tasks** — pick the tasks to combine (from one dataset or several) and a plan (each alone + all together,
   all pairs, your own groups, or a random sample of subsets), seeds and epochs; submitting queues a study and
   returns at once.
3. **Train** — watch the queue and live learning curves; cancel or retry; close the tab, nothing is lost.
4. **Compare** — per task, alone vs together with 95% error bars, the baselines, the transfer heatmap. With many
   tasks, the **surrogate** learns from the sampled subsets how much each partner adds to each task (a straight
   line: score = score alone + what each partner present adds), predicts the best grouping, and is checked on
   subsets it never saw. Trust it when its held-out check is near the noise ceiling; a grouping stays a
   prediction until you press *Verify* and it is trained.
5. **Predict** — type a sentence and see every task's prediction from a trained model.
6. **Playground** — the classroom dial: move one slider and watch synergy turn into interference.
"""

EXPLAIN = """
**How to read it.** Orange bars: each task trained alone. Blue bars: one shared model trained on all tasks.
Whiskers: 95% confidence interval over seeds. Dashed line: always predicting the most common label.
Black diamond: a classical TF-IDF + logistic-regression model on the same split.

**Synergy** — the blue bar is higher: the other tasks taught the shared encoder something useful
(e.g. the same cue words).

**Interference** — the blue bar is lower: the tasks pull the shared parameters in different directions
(e.g. a word that means *positive* for one task and *negative* for another).

**Transfer** — the difference *together − alone* for one task, measured per seed. Overlapping whiskers
mean the seeds cannot tell the two apart yet: more seeds, or call it no clear difference.
"""

st.title("MTL Lab")
st.markdown(
    "MTL Lab finds out **which NLP tasks help each other** when one model learns them together (multitask "
    "learning). For every task it compares a model trained on that task **alone** with one shared model trained "
    "on **several tasks together**, over several random seeds on one fixed split, with 95% error bars and the "
    "classical baselines beside them. A task that scores better with partners shows **synergy**; one that scores "
    "worse shows **interference** — and the app tells you which groups of tasks to train together.")
store = get_store()
sidebar(store)
with st.expander("The tour in 60 seconds", expanded=False):
    st.markdown(TOUR)
presets_ui(store)

st.divider()
results = pick_results(store, key="home_study", curves=False)  # the study, read once for this render
if results is None:
    st.stop()
lead = results.lead
rows = summary_rows(results)
seeds = max((r["n_seeds"] for r in rows if r["setting"] in ("single", "all")), default=0)
st.subheader("Study: " + plain(results.name))
st.caption(f"id {results.id} · tasks: {', '.join(lead)} · {seeds} seed(s) per setting · "
           "details, learning curves and exports on the Compare page")
left, right = st.columns([3, 1])
show_chart(comparison_chart(lead_rows(rows, lead)), "home_chart", left)
right.markdown(EXPLAIN)

st.subheader("Does learning together help? (together − alone, paired by seed)")
deltas = paired_deltas(results.scores, lead)  # all tasks together, and each partner on its own (pairs plan)
st.dataframe(pd.DataFrame(deltas, columns=SETTING_DELTA_COLUMNS), hide_index=True, key="home_deltas",
             column_config={c: NUM for c in ("single", "multitask", "delta", "ci_low", "ci_high")})
st.caption("\"helps\" / \"hurts\" only when the 95% CI of the per-seed difference excludes 0.")
st.page_link("pages/4_Compare.py", label="Open this study on the Compare page", icon=":material/bar_chart:")

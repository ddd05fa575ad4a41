"""On the Compare page: add seeds to the finished study shown, when its intervals are too wide to tell settings
apart (``mtl_core.studies.more_seeds``): the same runs with new seeds, queued, the done runs kept."""
from __future__ import annotations

import streamlit as st

from mtl_core.errors import MTLLabError
from mtl_core.results.study_results import StudyResults
from mtl_core.status import SETTLED
from mtl_core.studies.more_seeds import MAX_ADDED_SEEDS, new_seed_runs, seconds_per_seed
from mtl_core.studies.submit import more_seeds
from ui.common import get_store
from ui.messages import page_message


def more_seeds_ui(results: StudyResults, seeds: int) -> None:
    """An expander (open when the study has one seed) to queue ``n`` more seeds of the study's runs."""
    runs = results.runs  # read once for the page's render
    if results.study["status"] not in SETTLED or not runs:
        return
    per_seed = seconds_per_seed(runs)
    with st.expander(f"Add seeds to this study (it has {seeds})", expanded=seeds < 2,
                     icon=":material/add_circle:"):
        st.markdown("The same runs again with new random initialisations, on the same split; the runs it has are "
                    "kept. More seeds narrow the intervals, so a difference the study cannot tell yet may get a "
                    "verdict (or stay \"no clear difference\", which is an answer too).")
        n = st.number_input("Seeds to add", 1, MAX_ADDED_SEEDS, 3 if seeds < 3 else 2, key="compare_more_seeds_n")
        cost = f"{len(new_seed_runs(runs, int(n)))} runs"
        if per_seed is not None:
            cost += (f", about {int(n) * per_seed / 60:.1f} min on this machine (one seed of this study took "
                     f"{per_seed / 60:.1f} min)")
        st.caption(cost)
        if st.button(f"Add {int(n)} seed(s)", key="compare_more_seeds", icon=":material/add:"):
            try:
                added = more_seeds(results.id, int(n), get_store())
            except MTLLabError as exc:
                st.error(page_message(exc))
                return
            st.success(f"Queued seeds {added[0]}-{added[-1]}: {cost}. Follow them on Train; this page shows the "
                       "study over all its seeds when they have finished.")
            st.page_link("pages/3_Train.py", label="Go to Train", icon=":material/play_circle:")

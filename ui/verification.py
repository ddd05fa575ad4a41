"""A predicted grouping's verification in the app: on a subsets study's Compare page the button that queues it (or,
once queued, its status and what it measured), and a verification study's own Compare section (headline, chart,
table). Every sentence that judges a number is computed from that number here (``verification_headline``)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from mtl_core.charts.subsets import verification_chart
from mtl_core.errors import MTLLabError
from mtl_core.results.study_results import StudyResults
from ui.charts import Export, show_chart
from ui.common import NUM, get_store, interval_text, plain


def verified_ui(verification: dict) -> None:
    """What the verification of this grouping measured (once done), and the way to its own Compare page."""
    from mtl_core.results.verification import verification_rows, verification_summary
    from mtl_core.status import Status

    if verification["status"] == Status.DONE:  # its headline here, the chart and table on its own page
        done = StudyResults.load(get_store(), verification["id"], curves=False)  # scores only: no curve rows
        st.markdown("**Measured:** " + verification_headline(verification_rows(done), verification_summary(done)))
    st.page_link("pages/4_Compare.py", label=f"Open the verification ({verification['status']})",
                 icon=":material/fact_check:", query_params={"study": verification["id"]})


def verify_ui(results: StudyResults, k: int) -> None:
    if not st.button("Verify this grouping", key="compare_subset_verify", type="primary"):
        return
    from mtl_core.studies.submit import queue_study  # the one submit path; the URL stays on this study
    from mtl_core.studies.verify import verification_spec

    try:
        study_id = queue_study(verification_spec(results, max_groups=k), get_store())
    except MTLLabError as exc:
        st.error(plain(exc))
        return
    st.success(f"Queued verification study {plain(study_id)}.")
    st.page_link("pages/3_Train.py", label="Watch it train", icon=":material/timer:", query_params={"study": study_id})


# ---- Compare page: a verification study ------------------------------------------------------------------------

def _versus(row: dict | None, what: str) -> str | None:
    """'The predicted grouping is **better** than <what>: +0.030 per task on average, 95% CI [...]' from a
    ``verification_summary`` row; None when it was not measured on the same seeds."""
    from mtl_core.results.verdict import HELPS, HURTS

    if row is None or row.get("grouping_minus") is None:
        return None
    if row.get("delta_low") is None:
        return (f"The predicted grouping scores {row['grouping_minus']:+.3f} per task against {what}, but with one "
                "seed there is no interval: run 2 seeds or more to tell whether that is real.")
    word = {HELPS: "**better** than", HURTS: "**worse** than"}.get(row["verdict"], "**not clearly different** from")
    return (f"The predicted grouping is {word} {what}: {row['grouping_minus']:+.3f} per task on average, 95% CI "
            f"[{row['delta_low']:+.3f}, {row['delta_high']:+.3f}].")


def verification_headline(rows: list[dict], summary: list[dict]) -> str:
    """Grouping vs all together, from the paired difference of the mean per-task score and its 95% CI (the
    ``verification_summary`` row of all together), then per task, and how many predictions the measurement holds.
    A grouping of every task in one model is all together itself: it is read against each task alone instead."""
    from mtl_core.results.verdict import HELPS, HURTS
    from mtl_core.results.verification import ALL, ALONE

    n = len(rows)
    arrangement = {a: next((r for r in summary if r["arrangement"] == a), None) for a in (ALL, ALONE)}
    held = [r["prediction_in_ci"] for r in rows if r.get("prediction_in_ci") is not None]
    inside = (f" The surrogate's predicted score lies inside the measured 95% CI for {sum(held)} of {len(held)} "
              "tasks." if held else "")
    groups = {r.get("group") for r in rows}
    one_group = groups.pop() if len(groups) == 1 else None  # rows name their group "a+b+c" (verification_rows)
    if n > 1 and one_group and {t.strip() for t in one_group.split("+")} == {r["task"] for r in rows}:
        head = ("The predicted grouping is every task in one model: the same arrangement as all together, so it "
                "can't differ from it.")
        return head + " " + (_versus(arrangement[ALONE], "training each task alone") or "") + inside
    better = sum(r.get("vs_all_verdict") == HELPS for r in rows)
    worse = sum(r.get("vs_all_verdict") == HURTS for r in rows)
    judged = sum(r.get("vs_all_low") is not None for r in rows)
    head = _versus(arrangement[ALL], "training all tasks together") or (
        "All tasks together was not measured on the same seeds, so the grouping can't be compared with it.")
    per_task = (f" Per task: {better} higher, {worse} lower, {judged - better - worse} no clear difference"
                + (f", {n - judged} not comparable (trained with all tasks or one seed)" if judged < n else "") + ".")
    return head + per_task + inside


def verification_ui(results: StudyResults, metrics: dict[str, str], export: Export) -> None:
    """A verification study's headline, chart and table: the grouping measured against its prediction."""
    verifies = results.spec.get("verifies")
    if not verifies:
        return
    try:
        from mtl_core.results.verification import verification_rows, verification_summary
    except ImportError:
        return
    st.subheader("Verifying the predicted grouping")
    parent = verifies.get("study")
    st.caption(f"This study trains the grouping that study {plain(parent)} predicted (at most "
               f"{verifies.get('max_groups')} groups), each task alone and all tasks together, on the same split "
               f"with seeds {seed_range(results)} ({seeds_note(results)}); each difference is paired by seed.")
    rows = verification_rows(results, metrics)
    if not rows:
        st.info("No finished runs to compare with the prediction yet.")
        return
    st.markdown(verification_headline(rows, verification_summary(results, metrics)))
    fig = verification_chart(rows)
    show_chart(fig, "compare_verification")
    export(fig, "verification", "compare_verification")
    table = pd.DataFrame([{
        "task": r["task"], "group": r["group"].replace("+", " + "), "predicted": r.get("predicted"),
        "measured": r.get("measured"), "95% CI": interval_text(r.get("ci_low"), r.get("ci_high"), ".3f").strip() or "—",
        "prediction in CI": {True: "yes", False: "no"}.get(r.get("prediction_in_ci"), "—"),
        "alone": r.get("alone"), "all together": r.get("all"),
        "vs alone [95% CI]": _delta(r, "vs_alone"), "vs all [95% CI]": _delta(r, "vs_all")} for r in rows])
    st.dataframe(table, hide_index=True, key="compare_verification_table",
                 column_config={c: NUM for c in ("predicted", "measured", "alone", "all together")})
    st.caption("Predicted: the score the surrogate expected in the group (shown on the metric it was predicted on). "
               "vs alone / vs all: the group's score minus that arrangement's, paired by seed; the verdict is the "
               "one every gain on this page uses.")
    if parent:
        st.page_link("pages/4_Compare.py", label="Back to the study that predicted it", icon=":material/bar_chart:",
                     query_params={"study": parent})


def seed_range(results: StudyResults) -> str:
    """"3-5" (or "3") from the seeds of the study's runs."""
    seeds = sorted({r["seed"] for r in results.runs})
    return "" if not seeds else str(seeds[0]) if len(seeds) == 1 else f"{seeds[0]}-{seeds[-1]}"


def seeds_note(results: StudyResults) -> str:
    """Whether the verification's seeds are new to the surrogate (``results.verification.on_new_seeds``)."""
    from mtl_core.results.verification import on_new_seeds

    if on_new_seeds(results.spec):
        return "new ones: the prediction was fitted on other runs"
    return ("the predicting study's own seeds: its alone and all-together runs repeat the ones the surrogate was "
            "fitted on, so this is not an independent check; verify again for new seeds")


def _delta(r: dict, key: str) -> str:
    if r.get(key) is None:
        return "—"
    return f"{r[key]:+.3f}{interval_text(r.get(key + '_low'), r.get(key + '_high'), '+.3f')} {r.get(key + '_verdict') or ''}"

"""The "subsets" plan in the app: its budget on the Tasks page, and on the Compare page what a subsets study says
(the surrogate's relevance heatmap, every estimate checked on held-out subsets against the noise ceiling, the
predicted grouping and its verification: ui/verification.py).

Every sentence that judges a number is computed from that number here (``estimate_reading``); none is fixed
text."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from mtl_core.relatedness.subsets import coverage, default_budget, possible_subsets, sample_subsets
from mtl_core.results.study_results import StudyResults
from mtl_core.charts.subsets import ESTIMATE_NAMES, heldout_scatter, relevance_heatmap
from ui.charts import Export, show_chart
from ui.common import get_store, interval_text, plain
from ui.relatedness import chart_with_help
from ui.verification import verified_ui, verify_ui

BUDGET_PER_TASK_MAX = 8  # the slider's top: 8 subsets per task is past where the surrogate's CIs stop narrowing much
NEAR_CEILING = 0.1       # a Spearman this close below the ceiling (or above it) reads "about as well"
WEAK_CEILING = 0.2       # a noise ceiling below this: the measured gains barely repeat, nothing can be judged

PLAN_TEXT = (
    "**subsets**: besides each task alone and all together, train a balanced random sample of task subsets of "
    "about half the tasks (every partner of a task is in about half of that task's subsets, which tells most "
    "about it; every task and every pair appears in several). A small linear model per task — the *surrogate* — "
    "then learns from them how much each partner raises or lowers that task's score, predicts the best grouping, "
    "and is checked on subsets it was not fitted on. With many tasks it needs far fewer runs than trying every "
    "pair or group.")

SURROGATE_HELP = (
    "**What the surrogate is.** For each task, a straight-line model: *score in a subset = score alone + the "
    "weights of the partners in that subset*. It is fitted on the subsets this study trained, so a partner's "
    "**weight** is how much having it in the subset moved the task's test score, on average over the other "
    "partners present.\n\n"
    "**When to trust it.** (1) A weight matters only when its 95% CI excludes 0 (bold cells; *?* = can't tell). "
    "A weight without a CI had too few subsets: as many weights as subsets leave nothing to measure the noise "
    "with; a larger budget gives it one. "
    "(2) The model is checked on subsets it never saw: its **held-out Spearman** says how well it ranks their "
    "measured gains. Compare it with the **noise ceiling**: how well one half of the seeds ranks the same gains "
    "as the other half. A surrogate near the ceiling is about as good as measuring again; far below it, it "
    "misses something (e.g. two partners that only help together). (3) A predicted grouping is a prediction "
    "until it is trained: verify it.")


RELEVANCE_HELP = (
    "**Relevance**: row = the task scored, column = a partner in its subset. The number is the partner's "
    "**weight** in the surrogate: how much having it in the subset moved the task's test score. Blue = raised it, "
    "red = lowered it. **Bold**: the weight's 95% CI excludes 0; **?**: can't tell from 0 yet (a larger budget or "
    "more seeds narrow it). Not symmetric: A can help B while B does nothing for A.")


# ---- Tasks page ------------------------------------------------------------------------------------------------

def budget_ui(tasks: list[str], key: str) -> int:
    """The budget slider (from the number of tasks to min(every subset, 8 per task)), with the design's coverage
    under it; returns the budget."""
    n = len(tasks)
    top = min(possible_subsets(n), BUDGET_PER_TASK_MAX * n)
    budget = st.slider("Budget: task subsets to train (per seed)", n, top, min(default_budget(n), top),
                       key=f"{key}_budget_{n}", help="More subsets: narrower CIs on each partner's weight and a "
                       "better-checked surrogate, at the cost of more runs.") if top > n else top
    design = sample_subsets(tasks, budget)
    c = coverage(design, tasks)
    sizes = sorted({len(s) for s in design})
    size = f"{sizes[0]}" if len(sizes) == 1 else f"{sizes[0]} to {sizes[-1]}"
    text = (f"{budget} subsets of {size} tasks" + (f" (all there are with {n} tasks)" if budget == possible_subsets(n)
                                                  else "")
            + f": each task appears in at least {c['task_min']} of them (mean {c['task_mean']:.1f}), each pair of "
            f"tasks together in at least {c['pair_min']} (mean {c['pair_mean']:.1f}).")
    if c["pair_min"] == 0:
        text += " Some pairs never train together, so the surrogate cannot say how they affect each other: raise " \
                "the budget."
    st.caption(text)
    return budget


# ---- Compare page: a subsets study -----------------------------------------------------------------------------

@st.cache_data(max_entries=16, show_spinner="Fitting the surrogate and checking it on held-out subsets…")
def _analysis(study_id: str, n_scores: int, metrics: tuple, _results: StudyResults):
    from mtl_core.results.subset_estimates import subset_analysis

    return subset_analysis(_results, metrics=dict(metrics))


def estimate_reading(row: dict) -> str:
    """One plain sentence on an estimate's held-out Spearman against the noise ceiling, from their numbers."""
    name = ESTIMATE_NAMES.get(row["estimate"], row["estimate"]).split(" (")[0]
    rho, low, high = row.get("spearman"), row.get("ci_low"), row.get("ci_high")
    ceiling, c_low, c_high = row.get("ceiling"), row.get("ceiling_low"), row.get("ceiling_high")
    if rho is None:
        return f"The {name}: too few held-out subsets per task to check it" + (
            f" ({row['note']})." if row.get("note") else ".")
    said = f"held-out Spearman {rho:+.2f}{interval_text(low, high)}"
    chance = "better than chance" if low is not None and low > 0 else \
        "worse than chance" if high is not None and high < 0 else "not clearly better than chance"
    if ceiling is None:
        return f"The {name}: {said}, {chance}; no noise ceiling to compare with (it needs 2 seeds or more)."
    said += f" vs a noise ceiling of {ceiling:+.2f}{interval_text(c_low, c_high)}"
    if ceiling < WEAK_CEILING:
        return (f"The {name}: {said}. The measured gains barely repeat between halves of the seeds, so the "
                "differences between subsets are mostly noise here and no estimate can be judged; more seeds help "
                "(\"Add seeds\" at the top of this page).")
    top = high if high is not None else rho
    floor = c_low if c_low is not None else ceiling
    if top < floor and rho < ceiling - NEAR_CEILING:
        return (f"The {name}: {said}. It ranks held-out subsets clearly worse than repeating the measurement "
                f"would, and {chance}: it misses part of what the subsets do.")
    if low is not None and low > 0 and rho >= ceiling - NEAR_CEILING:
        loose = c_low is not None and c_low <= 0  # the measurement's own repeatability is not sure
        return (f"The {name}: {said}. It ranks held-out subsets about as well as repeating the measurement "
                "would" + ("; but the measurement itself repeats only loosely here (the ceiling's interval "
                           "includes 0), so more seeds are needed before calling either reliable." if loose else "."))
    return (f"The {name}: {said}. The intervals are too wide to say whether it ranks held-out subsets as well "
            "as repeating the measurement would; more seeds or a larger budget narrow them.")


def estimates_table(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([{
        "estimate": ESTIMATE_NAMES.get(r["estimate"], r["estimate"]),
        "held-out Spearman [95% CI]": "—" if r.get("spearman") is None else
        f"{r['spearman']:+.2f}{interval_text(r.get('ci_low'), r.get('ci_high'))}",
        "noise ceiling [95% CI]": "—" if r.get("ceiling") is None else
        f"{r['ceiling']:+.2f}{interval_text(r.get('ceiling_low'), r.get('ceiling_high'))}",
        "tasks": r.get("n_tasks"), "held-out subsets": r.get("n_heldout_subsets"), "runs": r.get("runs"),
        "minutes": r.get("minutes"), "note": r.get("note") or ""} for r in rows])


def subsets_ui(results: StudyResults, metrics: dict[str, str], export: Export) -> None:
    """The section of a study with subset runs: relevance heatmap, estimates checked, predicted grouping."""
    from mtl_core.results.subset_estimates import has_subsets

    if not has_subsets(results):
        return
    st.subheader("Which tasks help which — from random subsets")
    with st.expander("What is the surrogate, and when to trust it?"):
        st.markdown(SURROGATE_HELP)
    analysis = _analysis(results.id, len(results.scores), tuple(sorted(metrics.items())), results)
    tasks = list(results.tasks)
    if analysis.relevance:
        chart_with_help(relevance_heatmap(analysis.relevance, tasks), "compare_relevance", RELEVANCE_HELP, export,
                        "relevance")
    else:
        st.info("Too few finished subset runs to fit the surrogate yet.")
    checks_ui(analysis, export)
    predicted_ui(results, analysis.grouping, tasks)
    downloads_ui(analysis)


def downloads_ui(analysis) -> None:
    """relevance.csv and estimates.csv: the same files the CLI writes (``cli.outputs.write_relatedness``)."""
    from mtl_core.relatedness.checks import CHECK_COLUMNS
    from mtl_core.relatedness.surrogate import RELEVANCE_COLUMNS
    from mtl_core.results.export import rows_csv

    c1, c2 = st.columns(2)
    c1.download_button("relevance.csv", rows_csv(analysis.relevance, RELEVANCE_COLUMNS), file_name="relevance.csv",
                       mime="text/csv", key="compare_csv_relevance", on_click="ignore", disabled=not analysis.relevance)
    c2.download_button("estimates.csv", rows_csv(analysis.estimates, CHECK_COLUMNS), file_name="estimates.csv",
                       mime="text/csv", key="compare_csv_estimates", on_click="ignore", disabled=not analysis.estimates)


def checks_ui(analysis, export: Export) -> None:
    rows = analysis.estimates
    if not rows:
        return
    st.markdown("**Does each estimate predict the gains of subsets it was not fitted on?**")
    st.dataframe(estimates_table(rows), hide_index=True, key="compare_subset_checks",
                 column_config={"minutes": st.column_config.NumberColumn(format="%.1f")})
    st.markdown("\n".join(f"- {plain(estimate_reading(r))}" for r in rows))
    shown = [r["estimate"] for r in rows if any(p["estimate"] == r["estimate"] for p in analysis.points)]
    if not shown:
        return
    estimate = st.radio("Predicted vs measured for", shown, key="compare_subset_estimate", horizontal=True,
                        format_func=lambda e: ESTIMATE_NAMES.get(e, e)) if len(shown) > 1 else shown[0]
    fig = heldout_scatter(analysis.points, estimate, next(r for r in rows if r["estimate"] == estimate))
    show_chart(fig, "compare_subset_scatter")
    export(fig, f"heldout_{estimate}", "compare_subset_scatter")


def predicted_ui(results: StudyResults, grouping: list[dict], tasks: list[str]) -> None:
    """The surrogate's best grouping for a chosen group limit, labelled a prediction, and its verify button (or,
    once queued, its verification: what it measured and a link to it)."""
    from mtl_core.results.verification import verifications_of
    from mtl_core.status import Status

    if not grouping:
        return
    st.markdown("**Predicted grouping**")
    limits = sorted({r["k"] for r in grouping})
    k = st.select_slider("Max groups (models to train)", limits, value=min(2, limits[-1]) if 2 in limits
                         else limits[-1], key="compare_subset_k",
                         help="1 = everything in one model; as many as tasks = every task alone.") \
        if len(limits) > 1 else limits[0]
    rows = [r for r in grouping if r["k"] == k]
    groups = list(dict.fromkeys(r["group"] for r in rows))
    found = verifications_of(get_store(), results.id, [t.split("+") for t in dict.fromkeys(r["tasks"] for r in rows)])
    ended = (Status.FAILED, Status.CANCELLED)  # a verification that ended so, or on the parent's seeds: queue again
    verified = next((v for v in found if v["status"] not in ended and v["new_seeds"]), None)
    with st.container(border=True):
        state = f"verification: study {verified['id']}, {verified['status']}" if verified else "not yet verified"
        st.markdown(f"**Predicted ({state})** · {len(groups)} group(s), predicted total gain "
                    f"{rows[0]['score']:+.3f} ({plain(rows[0]['search'])} search)")
        for n, g in enumerate(groups, 1):
            mine = [r for r in rows if r["group"] == g]
            gains = ", ".join(f"{plain(r['task'])} {r['predicted_gain']:+.3f}" for r in mine)
            st.markdown(f"Group {n}: {' + '.join(plain(r['task']) for r in mine)} — predicted gain: {gains}")
        if all(len(r["tasks"].split("+")) == 1 for r in rows):
            st.caption("The surrogate predicts no gain from training any of these tasks together: nothing to "
                       "verify. Allow fewer groups to see the best grouping that trains tasks together.")
            return
        st.caption("Predicted gains come from the surrogate, not from training these groups." + (
            "" if verified else " Verifying trains the groups, each task alone and all tasks together on the same "
            "split with new seeds (runs the surrogate never saw) and shows on its own Compare page whether the "
            "prediction holds."))
        if verified:
            verified_ui(verified)
        else:
            verify_ui(results, k)

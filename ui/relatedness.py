"""Compare page sections on how tasks relate: affinity heatmap, gradient conflict over time, the task graph,
a recommended grouping and how well the cheap estimates predict measured transfer.

Each section shows only when the study holds its data; each takes the page's ``StudyResults`` (read once per
render) and the transfer matrix the page computed; ``export`` is the page's chart-export widget.
"""
from __future__ import annotations

import streamlit as st

from mtl_core.errors import ConfigError
from mtl_core.results.affinity import affinity_matrix
from mtl_core.results.estimate_quality import estimate_agreement, pair_points
from mtl_core.results.grouping import recommend
from mtl_core.results.interference import gradient_epochs, pair_matrix, study_gradient_curves
from mtl_core.results.study_results import StudyResults
from mtl_core.charts.interference import STATISTICS, gradient_heatmap
from mtl_core.charts.relations import (
    ESTIMATE_LABELS,
    affinity_heatmap,
    conflict_over_time,
    estimate_scatter,
    gradient_settings,
    relation_graph,
)
from ui.charts import Export, show_chart
from ui.common import plain


def chart_with_help(fig, key: str, help_md: str, export: Export, name: str) -> None:
    """A chart with its classroom explanation beside it, and its export buttons below."""
    left, right = st.columns([3, 1])
    show_chart(fig, key, left)
    right.markdown(help_md)
    export(fig, name, key)

AFFINITY_HELP = (
    "**Lookahead affinity**: take one training step on the column task only, and see how the row task's loss "
    "changes. Blue: the partner's step lowered it (the tasks agree), red: raised it. Cheap — measured during "
    "the all-task run — but it looks one step ahead, not at the final score.")
CONFLICT_HELP = (
    "The **cosine** between two tasks' gradients on the shared encoder: above 0 they pull the encoder the same "
    "way (blue), below 0 they **conflict** (red). The **conflict rate** is the share of checks with a negative "
    "cosine. The heatmap shows every pair at once (pick an epoch, or the mean over training); the line view "
    "follows the pairs you pick over the epochs (bold: mean over seeds).")
GRAPH_HELP = (
    "Each arrow goes from a partner to the task it changed, measured against training that task alone. "
    "**Blue** = synergy, **red** = interference, thicker = bigger change, **dashed** = the 95% CI includes 0 "
    "(can't tell yet).")


def trust_sentence(agreement: dict | None) -> str:
    """When to trust a cheap estimate, from its Spearman correlation with measured transfer and its 95% CI."""
    if not agreement or agreement.get("spearman") is None:
        return "Too few pairs to say whether this estimate predicts the measured transfer."
    low, high, n = agreement.get("ci_low"), agreement.get("ci_high"), agreement.get("n_pairs")
    if low is not None and low > 0:
        return (f"Here it ranks the {n} pairs much like the measured transfer (the CI is above 0): use it to "
                "shortlist promising pairs, then confirm the shortlist with real pair runs.")
    if high is not None and high < 0:
        return (f"Here it ranks the {n} pairs in the *opposite* order from the measured transfer: "
                "do not use it for this data.")
    return (f"With {n} pairs the CI includes 0, so we can't tell whether it predicts the measured transfer here. "
            "Trust the measured transfer; more tasks or seeds narrow the interval.")


def affinity_ui(rows: list[dict], tasks: list[str], export: Export) -> None:
    if rows:
        st.subheader("Lookahead affinity between tasks")
        fig = affinity_heatmap(rows, tasks)
        chart_with_help(fig, "compare_affinity", AFFINITY_HELP, export, "affinity")


def conflict_ui(results: StudyResults, export: Export) -> None:
    rows = study_gradient_curves(results)
    if not rows:
        return
    st.subheader("Gradient conflict over training")
    settings = gradient_settings(rows)
    setting = st.radio("Measured in", settings, key="compare_conflict_setting", horizontal=True,
                       format_func=lambda s: "the all-task model" if s == "all" else f"{s} runs") \
        if len(settings) > 1 else settings[0]
    rows = [r for r in rows if r["setting"] == setting]
    pairs = list(dict.fromkeys(r["task"] for r in rows))
    view = st.radio("View", ["heatmap", "lines"], key="compare_conflict_view", horizontal=True,
                    index=0 if len(pairs) > 3 else 1,
                    format_func=lambda v: "every pair (task × task)" if v == "heatmap" else "over epochs (pick pairs)")
    if view == "heatmap":
        fig = heatmap_view(rows, list(results.tasks))
    else:
        picked = st.multiselect("Pairs", pairs, default=pairs[:3], key="compare_conflict_pairs",
                                format_func=lambda p: p.replace("|", " & "))
        fig = conflict_over_time(rows, picked)
    chart_with_help(fig, "compare_conflict", CONFLICT_HELP, export, "gradient_conflict")


def heatmap_view(rows: list[dict], tasks: list[str]):
    """The task x task gradient heatmap, with its statistic and an epoch slider (0 = mean over epochs)."""
    c1, c2 = st.columns(2)
    name = c1.radio("Statistic", list(STATISTICS), key="compare_conflict_stat", horizontal=True,
                    format_func=STATISTICS.get)
    epochs = gradient_epochs(rows)
    epoch = c2.select_slider("Epoch", ["mean"] + epochs, value="mean", key="compare_conflict_epoch",
                             help="Each epoch's measurements, or their mean over training.") \
        if len(epochs) > 1 else "mean"
    at = None if epoch == "mean" else int(epoch)
    matrix = pair_matrix(rows, name, at)
    measured = {m["task"] for m in matrix}
    return gradient_heatmap(matrix, [t for t in tasks if t in measured], name, at)


def graph_ui(transfer: list[dict], tasks: list[str], export: Export) -> None:
    st.subheader("Which task helps which")
    fig = relation_graph(transfer, tasks)
    chart_with_help(fig, "compare_graph", GRAPH_HELP, export, "task_graph")


def grouping_ui(results: StudyResults, tasks: list[str], transfer: list[dict], affinity: list[dict],
                agreement: dict[str, dict]) -> None:
    from mtl_core.results.subset_estimates import has_subsets

    sources = (["transfer"] if transfer else []) + (["affinity"] if affinity else [])
    if sources == ["affinity"] and has_subsets(results):
        return  # the subsets section's grouping comes from measured scores, and its check scores affinity too
    if len(tasks) < 2 or not sources:
        return
    st.subheader("Recommended task groups")
    c1, c2 = st.columns(2)
    k = c1.slider("At most this many groups (models to train)", 1, len(tasks), min(2, len(tasks)),
                  key="compare_group_k", help="1 = everything in one model; as many as tasks = every task alone.")
    source = c2.radio("Based on", sources, key="compare_group_source", horizontal=True,
                      format_func=lambda s: "measured transfer" if s == "transfer" else "lookahead affinity")
    try:
        grouping = recommend(results, k, source, transfer, affinity)
    except ConfigError as exc:  # e.g. a pair was never measured, so no grouping into k groups can be scored
        st.info(plain(exc))
        return
    for n, group in enumerate(grouping.groups, 1):
        gains = ", ".join(f"{plain(t)} {grouping.predicted_gain.get(t, 0.0):+.3g}" for t in group)
        st.markdown(f"**Group {n}**: {' + '.join(plain(t) for t in group)} — predicted gain: {gains}")
    st.markdown(grouping_explanation(source, k, len(tasks), grouping.score, transfer,
                                     agreement.get("lookahead_affinity")))


def grouping_explanation(source: str, k: int, n_tasks: int, score: float, transfer: list[dict],
                         affinity_agreement: dict | None) -> str:
    """One plain paragraph: how the groups were chosen and how much to trust them."""
    how = (f"Among every way to split the {n_tasks} tasks into at most {k} group(s), this one has the highest "
           f"total predicted gain ({score:+.3g}; on a tie, fewer groups win). A task's predicted gain is the mean "
           "of what each of its group-mates did for it ")
    if source == "transfer":
        sure = sum(r["significant"] for r in transfer)
        return how + (f"in the measured pair runs. {sure} of the {len(transfer)} measured pair effects "
                      f"{'has' if sure == 1 else 'have'} a 95% CI that excludes 0; the others are guesses. What pairs do need not carry over to larger "
                      "groups, so train the recommended groups (plan \"groups\") before relying on them.")
    return how + ("as lookahead affinity, a one-step proxy, not a measured score. "
                  + trust_sentence(affinity_agreement) + " Train the recommended groups to check.")


def estimates_ui(points: list[dict], agreement: dict[str, dict], export: Export) -> None:
    estimates = [e for e in ESTIMATE_LABELS if any(p.get(e) is not None and p.get("transfer") is not None
                                                   for p in points)]
    if not estimates:
        return
    st.subheader("Do the cheap estimates predict measured transfer?")
    estimate = st.radio("Cheap estimate", estimates, key="compare_estimate", horizontal=True,
                        format_func=ESTIMATE_LABELS.get) if len(estimates) > 1 else estimates[0]
    fig = estimate_scatter(points, estimate, agreement.get(estimate))
    show_chart(fig, "compare_estimates")
    st.caption("Each point is one ordered pair: how the cheap estimate rated it (x) against what the pair runs "
               "measured (y). A **Spearman** correlation near 1 means the estimate ranks pairs in the measured "
               "order. " + trust_sentence(agreement.get(estimate)))
    export(fig, f"estimate_{estimate}", "compare_estimates")


def relatedness_ui(results: StudyResults, transfer: list[dict], export: Export) -> None:
    """Every relatedness section the study has data for (the transfer heatmap is drawn by the page, which
    computed ``transfer`` = ``transfer_matrix(results)`` once)."""
    tasks = list(results.tasks)
    affinity = affinity_matrix(results)
    affinity_ui(affinity, tasks, export)
    conflict_ui(results, export)
    if transfer:
        graph_ui(transfer, tasks, export)
    points = pair_points(results, transfer, affinity) if transfer else []
    agreement = {a["estimate"]: a for a in estimate_agreement(points)}
    grouping_ui(results, tasks, transfer, affinity, agreement)
    if transfer:
        estimates_ui(points, agreement, export)

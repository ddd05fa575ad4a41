"""The report's charts: the Compare page's figures (``mtl_core.charts``), one for each section the study has data
for, each with the sentence that says how to read it."""
from __future__ import annotations

from dataclasses import dataclass

import plotly.graph_objects as go

from mtl_core.charts.relations import (
    ESTIMATE_LABELS,
    affinity_heatmap,
    conflict_over_time,
    estimate_scatter,
    gradient_settings,
    relation_graph,
    settings_chart,
    transfer_heatmap,
)
from mtl_core.charts.scores import comparison_chart, curves_chart
from mtl_core.report.tables import StudyTables
from mtl_core.results.estimate_quality import estimate_agreement, pair_points
from mtl_core.results.gains import lead_rows
from mtl_core.results.interference import study_gradient_curves

MAIN_HELP = ("Each bar is a task's test score averaged over seeds, the whisker its 95% confidence interval "
             "(none with one seed: no spread is known). Dashed line: the majority-class baseline; diamond: TF-IDF + "
             "logistic regression on the same split. Overlapping whiskers: the runs can't tell the two apart yet.")
TRANSFER_HELP = ("How much the row task gains when trained with the column task, against training it alone. Blue = "
                 "synergy, red = interference; '?' marks a 95% CI that includes 0 (can't tell).")
GRAPH_HELP = ("An arrow from a partner to the task it changed: blue = synergy, red = interference, thicker = bigger "
              "change, dashed = the 95% CI includes 0.")
AFFINITY_HELP = ("Lookahead affinity: one training step on the column task only, and how the row task's loss "
                 "changed (blue: lowered it). A one-step proxy, not a measured score.")
CONFLICT_HELP = ("Cosine between two tasks' gradients on the shared encoder per epoch (bold: mean over seeds); "
                 "below 0 (red band) they conflict.")
ESTIMATE_HELP = "One point per ordered pair: the cheap estimate (x) against the transfer the pair runs measured (y)."
CURVES_HELP = "Validation score per epoch; the dotted line marks the best epoch, whose model was kept and tested."


@dataclass
class Figure:
    title: str
    caption: str
    figure: go.Figure
    section: str  # "results", "relations" or "curves"


def main_figure(tables: StudyTables) -> Figure | None:
    """The Compare page's first chart: single vs multitask per task (every setting, when the plan had more)."""
    rows = lead_rows(tables.summary, tables.results.lead)
    if not rows:
        return None
    simple = {r["setting"] for r in rows} <= {"single", "all", "tfidf-lr"}
    fig = comparison_chart(rows) if simple else settings_chart(rows)
    return Figure("Single-task vs multitask, per task", MAIN_HELP, fig, "results")


def relation_figures(tables: StudyTables) -> list[Figure]:
    """Transfer heatmap and graph (pairs), affinity, gradient conflict per setting, cheap estimates vs transfer."""
    results, transfer, affinity = tables.results, tables.transfer, tables.affinity
    tasks = list(results.tasks)
    out = []
    if transfer:
        out += [Figure("Transfer between pairs of tasks", TRANSFER_HELP, transfer_heatmap(transfer, tasks), "relations"),
                Figure("Which task helps which", GRAPH_HELP, relation_graph(transfer, tasks), "relations")]
    if affinity:
        out.append(Figure("Lookahead affinity between tasks", AFFINITY_HELP, affinity_heatmap(affinity, tasks),
                          "relations"))
    gradients = study_gradient_curves(results)
    for setting in gradient_settings(gradients) if gradients else []:
        where = "the all-task model" if setting == "all" else f"{setting} runs"
        fig = conflict_over_time([r for r in gradients if r["setting"] == setting])
        out.append(Figure(f"Gradient conflict over training ({where})", CONFLICT_HELP, fig, "relations"))
    points = pair_points(results, transfer, affinity) if transfer else []
    agreement = {a["estimate"]: a for a in estimate_agreement(points)}
    for estimate, label in ESTIMATE_LABELS.items():
        if any(p.get(estimate) is not None and p.get("transfer") is not None for p in points):
            out.append(Figure(f"Does {label} predict measured transfer?", ESTIMATE_HELP,
                              estimate_scatter(points, estimate, agreement.get(estimate)), "relations"))
    return out


def curve_figures(tables: StudyTables) -> list[Figure]:
    """Each finished run's validation curves."""
    results = tables.results
    lead = results.lead
    return [Figure(f"Run {run['id']} · {run['setting']} · {' + '.join(run['tasks'])} · seed {run['seed']}",
                   CURVES_HELP, curves_chart(results.run_curves(run["id"]), {t: lead[t] for t in run["tasks"]
                                                                              if t in lead}, run.get("best_epoch")),
                   "curves")
            for run in results.finished_runs if results.run_curves(run["id"])]


def study_figures(tables: StudyTables) -> list[Figure]:
    main = main_figure(tables)
    return ([main] if main else []) + relation_figures(tables) + curve_figures(tables)

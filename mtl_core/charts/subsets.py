"""Plotly figures for a "subsets" study: the surrogate's relevance of each partner to each task (heatmap), every
estimate's predictions against the measured gains of held-out subsets (scatter), and a verification study's
measured gains of the predicted grouping beside alone and all together (dots with whiskers). No Streamlit here."""
from __future__ import annotations

import plotly.graph_objects as go

from mtl_core.charts.relations import signed_heatmap, task_grid
from mtl_core.charts.style import NEUTRAL, describe, legend_below, round_rows, series_color
from mtl_core.results.short_runs import NAME as SHORT_RUNS
from mtl_core.results.short_runs import SHORT_EPOCHS

SURROGATE_LABEL = "surrogate (linear model over partners)"
ESTIMATE_NAMES = {"surrogate": SURROGATE_LABEL, "grad_cosine": "gradient cosine (shared encoder)",
                  "lookahead_affinity": "lookahead affinity",
                  SHORT_RUNS: f"short runs (pairs' first {SHORT_EPOCHS} epochs)"}


def _ci(low: float | None, high: float | None, fmt: str = "+.3f") -> str:
    return "no interval" if low is None or high is None else f"[{low:{fmt}}, {high:{fmt}}]"


def excludes_zero(r: dict) -> bool:
    """Whether a relevance row's 95% CI lies wholly above or below 0."""
    low, high = r.get("ci_low"), r.get("ci_high")
    return low is not None and high is not None and (low > 0 or high < 0)


def relevance_heatmap(rows: list[dict], tasks: list[str]) -> go.Figure:
    """Row = task scored, column = partner, colour = the surrogate's weight of that partner (diverging, 0 = white).

    ``rows`` are ``subset_estimates.SubsetAnalysis.relevance`` rows. A cell whose 95% CI excludes 0 is written in
    bold; one whose CI includes 0 (or has none) is marked "?"; a weight that could not be fitted stays empty.
    """
    cell = {(r["task"], r["partner"]): r for r in rows if r.get("weight") is not None}

    def show(r: dict) -> tuple[float, str, str]:
        sure = excludes_zero(r)
        return (r["weight"], f"<b>{r['weight']:+.3f}</b>" if sure else f"{r['weight']:+.3f} ?",
                f"{r['partner']} in the subset → {r['task']}'s score {r['weight']:+.3f}, 95% CI "
                f"{_ci(r.get('ci_low'), r.get('ci_high'))}, from {r.get('n_subsets')} subsets holding both"
                + ("" if sure else " (can't tell from 0)"))

    z, text, hover = task_grid(tasks, lambda task, partner: cell.get((task, partner)), show)
    fig = signed_heatmap(z, text, hover, tasks, "weight", floor=0.01, tickformat="+.3f")
    sure = [r for r in cell.values() if excludes_zero(r)]
    helps = sorted((r for r in sure if r["weight"] > 0), key=lambda r: -r["weight"])
    hurts = sorted((r for r in sure if r["weight"] < 0), key=lambda r: r["weight"])
    summary = (f"Surrogate weight of each partner on each task's score: {len(sure)} of {len(cell)} weights have a "
               f"95% CI that excludes 0" + (f"; strongest help: {helps[0]['partner']} → {helps[0]['task']} "
                                            f"{helps[0]['weight']:+.3f}" if helps else "")
               + (f"; strongest harm: {hurts[0]['partner']} → {hurts[0]['task']} {hurts[0]['weight']:+.3f}"
                  if hurts else "") + ".")
    table = round_rows([{"task": r["task"], "partner": r["partner"], "weight": r["weight"], "ci_low": r.get("ci_low"),
                         "ci_high": r.get("ci_high"), "n_subsets": r.get("n_subsets")} for r in cell.values()])
    return describe(fig, summary, table)


def heldout_scatter(points: list[dict], estimate: str, check: dict | None = None) -> go.Figure:
    """x = what ``estimate`` predicted for a task in a held-out subset, y = the gain measured there, one point per
    (task, subset), coloured by task; the surrogate's predictions are gains too, so it gets the y = x line."""
    pts = [p for p in points if p["estimate"] == estimate and p.get("predicted") is not None
           and p.get("measured") is not None]
    label = ESTIMATE_NAMES.get(estimate, estimate)
    fig = go.Figure()
    for k, task in enumerate(dict.fromkeys(p["task"] for p in pts)):
        mine = [p for p in pts if p["task"] == task]
        fig.add_scatter(x=[p["predicted"] for p in mine], y=[p["measured"] for p in mine], mode="markers",
                        name=task, marker=dict(size=10, color=series_color(k), line=dict(color="white", width=1)),
                        hovertext=[f"{task} in {p['subset'].replace('+', ' + ')}: predicted {p['predicted']:+.3f}, "
                                   f"measured {p['measured']:+.3f}" for p in mine], hoverinfo="text")
    if estimate == "surrogate" and pts:
        values = [v for p in pts for v in (p["predicted"], p["measured"])]
        lo, hi = min(values), max(values)
        fig.add_scatter(x=[lo, hi], y=[lo, hi], mode="lines", name="y = x (prediction right)",
                        line=dict(color=NEUTRAL, dash="dash"), hoverinfo="skip")
    fig.add_hline(y=0, line_color=NEUTRAL, line_dash="dot")
    stats = "" if not check or check.get("spearman") is None else \
        f"Spearman {check['spearman']:+.2f}, 95% CI {_ci(check.get('ci_low'), check.get('ci_high'), '+.2f')}"
    # a short title: it must fit a phone's width (the axes say predicted and measured)
    title = f"{label.split(' (')[0].capitalize()} on held-out subsets" + (f"<br>{stats}" if stats else "")
    fig.update_layout(height=460, margin=dict(t=90, b=40, l=60, r=10),
                      title=dict(text=title, automargin=True, x=0, xanchor="left", y=0.97, yanchor="top"))
    fig.update_xaxes(title="predicted" + (" gain (vs alone)" if estimate == "surrogate" else f" ({label})"),
                     automargin=True)
    fig.update_yaxes(title="measured gain (vs alone)", automargin=True)
    legend_below(fig)
    summary = (f"{label}: predicted vs measured gain on held-out subsets" + (f": {stats}" if stats else "")
               + f"; {len(pts)} points (a task in a subset).")
    return describe(fig, summary, round_rows([{k: p[k] for k in ("task", "subset", "predicted", "measured")}
                                              for p in pts], 4))


def verification_chart(rows: list[dict]) -> go.Figure:
    """Per task, its measured score in the predicted grouping (with its 95% CI) beside its score alone and all
    together, and the score the surrogate predicted (``results.verification.verification_rows`` rows)."""
    tasks = [r["task"] for r in rows]
    fig = go.Figure()
    marks = [("alone", "alone", "circle-open", series_color(7)),
             ("all", "all together", "square-open", series_color(1)),
             ("predicted", "predicted (surrogate)", "x-thin-open", series_color(5))]
    for key, name, symbol, color in marks:
        fig.add_scatter(x=[r.get(key) for r in rows], y=tasks, mode="markers", name=name,
                        marker=dict(symbol=symbol, size=13, color=color, line=dict(width=2, color=color)),
                        hovertemplate=f"%{{y}} {name}: %{{x:.3f}}<extra></extra>")
    err_plus = [None if r.get("ci_high") is None else r["ci_high"] - r["measured"] for r in rows]
    err_minus = [None if r.get("ci_low") is None else r["measured"] - r["ci_low"] for r in rows]
    fig.add_scatter(x=[r["measured"] for r in rows], y=tasks, mode="markers", name="measured in the grouping",
                    marker=dict(size=12, color=series_color(0)),
                    error_x=dict(type="data", array=err_plus, arrayminus=err_minus, color=series_color(0), width=6),
                    customdata=[f"{r['task']} in {r.get('group', '')}: measured {r['measured']:.3f}, 95% CI "
                                f"{_ci(r.get('ci_low'), r.get('ci_high'), '.3f')}" for r in rows],
                    hovertemplate="%{customdata}<extra></extra>")
    fig.update_layout(height=160 + 55 * len(rows), margin=dict(t=30, b=40, l=10, r=10))
    points = [r.get(k) for r in rows for k in ("alone", "all", "predicted", "measured") if r.get(k) is not None]
    spread = points + [r.get(k) for r in rows for k in ("ci_low", "ci_high") if r.get(k) is not None]
    if points and 0 <= min(points) and max(points) <= 1:  # a score: a 2-seed interval past 0 or 1 is cut at the edge
        fig.update_xaxes(range=[max(0.0, min(spread) - 0.02), min(1.0, max(spread)) + 0.02])
    fig.update_xaxes(title="test score (mean over seeds)", automargin=True)
    fig.update_yaxes(autorange="reversed", automargin=True)
    legend_below(fig)
    inside = sum(bool(r.get("prediction_in_ci")) for r in rows)
    summary = (f"Measured score of each of {len(rows)} tasks in the predicted grouping beside alone, all together "
               f"and the surrogate's prediction; the prediction lies inside the measured 95% CI for {inside}.")
    keys = ("task", "group", "predicted", "measured", "ci_low", "ci_high", "alone", "all")
    return describe(fig, summary, round_rows([{k: r.get(k) for k in keys} for r in rows]))

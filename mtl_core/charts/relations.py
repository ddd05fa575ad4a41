"""Plotly figures for how tasks relate: every setting per task (pairs, groups), the transfer and lookahead-affinity
heatmaps, gradient conflict over training (lines), measured transfer as a graph of the tasks, and how well the cheap
estimates predict the measured transfer (scatter). No Streamlit here."""
from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from mtl_core.charts.playground import _per_epoch, cosine_chart
from mtl_core.charts.scores import COLORS

SYNERGY, INTERFERENCE, NEUTRAL = "#2166ac", "#b2182b", "#888888"  # RdBu's two ends (as the heatmaps), grey
ESTIMATE_LABELS = {"grad_cosine": "gradient cosine (shared encoder)",  # estimate_quality.ESTIMATES
                   "lookahead_affinity": "lookahead affinity"}


def sign_color(v: float) -> str:
    """Blue for a gain, red for a loss, grey for exactly 0."""
    return SYNERGY if v > 0 else INTERFERENCE if v < 0 else NEUTRAL


def _small(v: float) -> str:
    return f"{v:+.3f}" if v == 0 or abs(v) >= 0.001 else f"{v:+.1e}"


def affinity_heatmap(rows: list[dict], tasks: list[str]) -> go.Figure:
    """Row = task scored, column = partner whose update was taken, color = affinity (blue: the partner's
    step lowered the task's loss, red: raised it). ``rows`` are ``affinity.affinity_matrix`` rows."""
    cell = {(r["task"], r["partner"]): r["affinity"] for r in rows}
    z = [[cell.get((t, p)) for p in tasks] for t in tasks]
    text = [["" if v is None else _small(v) for v in row] for row in z]
    hover = [["" if v is None else f"a training step on {p} → {t}'s loss: affinity {_small(v)}, "
              + ("lowered it (helps)" if v > 0 else "raised it (hurts)") for p, v in zip(tasks, row)]
             for t, row in zip(tasks, z)]
    fig = signed_heatmap(z, text, hover, tasks, "affinity", floor=1e-6)
    fig.update_layout(xaxis_title="lookahead step on (partner)")
    return fig


def conflict_over_time(rows: list[dict]) -> go.Figure:
    """Gradient cosine per task pair over epochs (``playground.cosine_chart``), with each epoch's
    conflict rate (share of measurements with cosine < 0, mean over seeds) in the hover of the mean line.

    ``rows`` are ``interference.study_gradient_curves`` rows of ONE setting (one run per pair and seed).
    """
    fig = cosine_chart(rows)
    conflict = _per_epoch(rows, "grad_conflict_rate")
    for trace in fig.data:
        if trace.mode != "lines+markers":
            continue  # a per-seed line
        rates = conflict.get(trace.legendgroup, {})
        trace.customdata = [float(np.mean(rates[e])) if rates.get(e) else float("nan") for e in trace.x]
        trace.hovertemplate = ("epoch %{x}: cosine %{y:.2f}, conflicting in %{customdata:.0%} of measurements"
                               f"<extra>{trace.legendgroup.replace('|', ' & ')}</extra>")
    return fig


def _circle(tasks: list[str]) -> dict[str, tuple[float, float]]:
    n = len(tasks)
    return {t: (math.cos(math.pi / 2 - 2 * math.pi * k / n), math.sin(math.pi / 2 - 2 * math.pi * k / n))
            for k, t in enumerate(tasks)}


def relation_graph(rows: list[dict], tasks: list[str]) -> go.Figure:
    """Tasks on a circle; one arrow per measured ``partner -> task`` transfer (``transfer.transfer_matrix``
    rows): blue = synergy, red = interference, width ∝ |delta|, dashed when the 95% CI includes 0.
    The two directions of a pair are drawn side by side, since transfer is not symmetric."""
    pos = _circle(tasks)
    biggest = max([abs(r["delta_mean"]) for r in rows] + [1e-9])
    fig = go.Figure()
    for r in rows:
        if r["task"] not in pos or r["partner"] not in pos:
            continue
        (x0, y0), (x1, y1) = pos[r["partner"]], pos[r["task"]]
        dx, dy = x1 - x0, y1 - y0
        length = math.hypot(dx, dy) or 1.0
        ox, oy = -dy / length * 0.05, dx / length * 0.05  # shift to the arrow's left: A->B and B->A apart
        xs = [x0 + dx * f + ox for f in (0.12, 0.5, 0.86)]
        ys = [y0 + dy * f + oy for f in (0.12, 0.5, 0.86)]
        verdict = ("synergy" if r["delta_mean"] > 0 else "interference") if r["significant"] else "can't tell"
        hover = (f"{r['task']} trained with {r['partner']}: {r['delta_mean']:+.3f} "
                 f"[{r['ci_low']:+.3f}, {r['ci_high']:+.3f}] — {verdict}")
        color = sign_color(r["delta_mean"])
        fig.add_scatter(x=xs, y=ys, mode="lines+markers", name=f"{r['partner']} → {r['task']}",
                        line=dict(color=color, width=1 + 7 * abs(r["delta_mean"]) / biggest,
                                  dash="solid" if r["significant"] else "dash"),
                        marker=dict(symbol=["circle", "circle", "arrow"], size=[0, 8, 16], angleref="previous",
                                    color=color),
                        hovertext=[hover] * 3, hoverinfo="text", showlegend=False)
    fig.add_scatter(x=[pos[t][0] for t in tasks], y=[pos[t][1] for t in tasks], mode="markers+text",
                    text=tasks, textposition="top center", name="tasks", hoverinfo="text", showlegend=False,
                    marker=dict(size=26, color="white", line=dict(color="#444444", width=2)))
    for name, color, dash in (("synergy", SYNERGY, "solid"), ("interference", INTERFERENCE, "solid"),
                              ("can't tell (CI includes 0)", NEUTRAL, "dash")):
        fig.add_scatter(x=[None], y=[None], mode="lines", name=name, line=dict(color=color, dash=dash, width=3))
    axis = dict(visible=False, range=[-1.35, 1.35])
    fig.update_layout(height=460, margin=dict(t=30, b=10, l=10, r=10), plot_bgcolor="white",
                      xaxis=axis, yaxis=dict(**axis, scaleanchor="x"), legend=dict(orientation="h", y=1.06, x=0))
    return fig


def estimate_scatter(points: list[dict], estimate: str, agreement: dict | None = None) -> go.Figure:
    """x = a cheap estimate (``estimate``: "grad_cosine" or "lookahead_affinity"), y = measured transfer, one
    point per ordered pair (``relatedness.pair_points`` rows); the title gives the Spearman correlation and its
    CI (a ``relatedness.estimate_agreement`` row) when known."""
    pts = [p for p in points if p.get(estimate) is not None and p.get("transfer") is not None]
    label = ESTIMATE_LABELS.get(estimate, estimate)
    fig = go.Figure()
    fig.add_scatter(x=[p[estimate] for p in pts], y=[p["transfer"] for p in pts], mode="markers",
                    marker=dict(size=11, color=[sign_color(p["transfer"]) for p in pts],
                                line=dict(color="white", width=1)),
                    hovertext=[f"{p['task']} with {p['partner']}: {label} {_small(p[estimate])}, "
                               f"transfer {p['transfer']:+.3f}" for p in pts], hoverinfo="text", name="pairs")
    fig.add_hline(y=0, line_color="gray", line_dash="dot")
    fig.add_vline(x=0, line_color="gray", line_dash="dot")
    title = f"{label} vs measured transfer"
    if agreement and agreement.get("spearman") is not None:
        ci = "" if agreement.get("ci_low") is None else \
            f", 95% CI [{agreement['ci_low']:+.2f}, {agreement['ci_high']:+.2f}]"
        title += f": Spearman {agreement['spearman']:+.2f}{ci}, {agreement.get('n_pairs', len(pts))} pairs"
    fig.update_layout(height=380, margin=dict(t=50, b=40, l=60, r=10), title=title, showlegend=False,
                      xaxis_title=f"{label} (cheap estimate)",
                      yaxis_title="measured transfer (delta vs alone)")
    return fig


def gradient_settings(rows: list[dict]) -> list[str]:
    """Settings with gradient rows, "all" first (every pair measured inside one model)."""
    return sorted({r["setting"] for r in rows}, key=lambda s: (s != "all", s))

PARTNER_COLORS = ["#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"]
GROUP_COLORS = ["#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#5254a3"]


def _setting_style(setting: str, tasks: list[str], groups: list[str]) -> tuple[str, str]:
    """(legend label, color) of a summary setting; a partner keeps its color on every task."""
    if setting == "single":
        return "single-task (alone)", COLORS["single"]
    if setting == "all":
        return "multitask (all tasks)", COLORS["all"]
    if setting.startswith("with:"):
        partner = setting[5:]
        k = tasks.index(partner) if partner in tasks else len(tasks)
        return f"with {partner}", PARTNER_COLORS[k % len(PARTNER_COLORS)]
    k = groups.index(setting) if setting in groups else 0
    return setting.replace("group:", "group "), GROUP_COLORS[k % len(GROUP_COLORS)]


def settings_chart(rows: list[dict]) -> go.Figure:
    """Per task, one bar per setting it was trained in (alone, all, with each partner, each group),
    mean ± 95% CI; majority baseline dashed over the task's bars; TF-IDF+LR diamond.

    ``rows`` are summary rows on each task's lead metric (``gains.lead_rows``).
    """
    tasks = list(dict.fromkeys(r["task"] for r in rows))
    metric = {r["task"]: r["metric"] for r in rows}
    bars = [r for r in rows if r["setting"] != "tfidf-lr"]
    fig = go.Figure()
    width, pos, step = 0.8, {}, {}
    for k, task in enumerate(tasks):
        mine = [r for r in bars if r["task"] == task]
        step[task] = width / max(len(mine), 1)
        for j, r in enumerate(mine):  # the task's bars side by side inside [k - width/2, k + width/2]
            pos[(task, r["setting"])] = k - width / 2 + step[task] * (j + 0.5)
    settings = list(dict.fromkeys(r["setting"] for r in bars))
    groups = [s for s in settings if s.startswith("group:")]
    for setting in settings:
        label, color = _setting_style(setting, tasks, groups)
        rs = [r for r in bars if r["setting"] == setting]
        fig.add_bar(name=label, x=[pos[(r["task"], setting)] for r in rs], y=[r["mean"] for r in rs],
                    width=[step[r["task"]] * 0.95 for r in rs],
                    marker_color=color, legendgroup=setting,
                    error_y=dict(type="data", array=[r["ci_high"] - r["mean"] for r in rs],
                                 arrayminus=[r["mean"] - r["ci_low"] for r in rs], thickness=2, width=4),
                    customdata=[[r["task"], r["ci_low"], r["ci_high"]] for r in rs],
                    hovertemplate="%{customdata[0]}: %{y:.3f} [%{customdata[1]:.3f}, %{customdata[2]:.3f}]"
                                  "<extra>" + label + "</extra>")
    xs, ys = [], []
    for k, task in enumerate(tasks):
        maj = next((r["majority_baseline"] for r in rows if r["task"] == task and r["majority_baseline"] is not None), None)
        if maj is not None:
            xs += [k - 0.45, k + 0.45, None]
            ys += [maj, maj, None]
    fig.add_scatter(name="majority-class baseline", x=xs, y=ys, mode="lines",
                    line=dict(color=COLORS["majority"], dash="dash", width=2), hoverinfo="skip")
    tfidf = [r for r in rows if r["setting"] == "tfidf-lr"]
    fig.add_scatter(name="TF-IDF + logistic regression", x=[tasks.index(r["task"]) + 0.45 for r in tfidf],
                    y=[r["mean"] for r in tfidf], mode="markers",
                    marker=dict(symbol="diamond", size=12, color=COLORS["tfidf-lr"], line=dict(color="white", width=1)),
                    hovertemplate="%{y:.3f}<extra>TF-IDF + LR</extra>")
    fig.update_layout(height=470, margin=dict(t=70, b=40, l=60, r=10),
                      legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0),
                      xaxis=dict(tickvals=list(range(len(tasks))), ticktext=[f"{t}<br>({metric[t]})" for t in tasks]),
                      yaxis=dict(title="test score, mean ± 95% CI over seeds", range=[0, 1.02]))
    return fig


def transfer_heatmap(rows: list[dict], tasks: list[str]) -> go.Figure:
    """Row = task scored, column = partner, color = delta vs alone (diverging, 0 = white).

    ``rows`` are ``transfer.transfer_matrix`` rows. Each cell shows the delta; a cell whose 95% CI includes 0
    is marked "?" (can't tell); the diagonal (a task with itself) is empty.
    """
    cell = {(r["task"], r["partner"]): r for r in rows}
    z, text, hover = [], [], []
    for task in tasks:
        z.append([]), text.append([]), hover.append([])
        for partner in tasks:
            r = cell.get((task, partner))
            z[-1].append(None if r is None else r["delta_mean"])
            if r is None:
                text[-1].append("")
                hover[-1].append("")
                continue
            mark = "" if r["significant"] else " ?"
            text[-1].append(f"{r['delta_mean']:+.3f}{mark}")
            verdict = ("synergy (helps)" if r["delta_mean"] > 0 else "interference (hurts)") if r["significant"] \
                else "can't tell (CI includes 0)"
            hover[-1].append(f"{task} trained with {partner}: {r['delta_mean']:+.3f} "
                             f"[{r['ci_low']:+.3f}, {r['ci_high']:+.3f}] — {verdict}")
    return signed_heatmap(z, text, hover, tasks, "delta vs alone", floor=0.01)


def signed_heatmap(z: list[list[float | None]], text: list[list[str]], hover: list[list[str]], tasks: list[str],
                   colorbar_title: str, floor: float) -> go.Figure:
    """Task × partner cells on a diverging scale centred on 0 (blue above, red below, white at 0).

    The color range is symmetric, at least ``floor`` wide, so tiny values do not look saturated.
    """
    biggest = max([abs(v) for row in z for v in row if v is not None] + [floor])
    fig = go.Figure(go.Heatmap(z=z, x=tasks, y=tasks, text=text, texttemplate="%{text}", customdata=hover,
                               hovertemplate="%{customdata}<extra></extra>", colorscale="RdBu", zmid=0,
                               zmin=-biggest, zmax=biggest, xgap=2, ygap=2,
                               colorbar=dict(title=colorbar_title)))
    fig.update_layout(height=120 + 70 * len(tasks), margin=dict(t=30, b=60, l=100, r=10), plot_bgcolor="white",
                      xaxis=dict(title="trained with (partner)", showgrid=False),
                      yaxis=dict(title="task scored", autorange="reversed", showgrid=False))
    return fig

"""The classroom Playground: the synthetic study a set of sliders describes, and its gradient charts.

No Streamlit here: the page only reads sliders, calls ``playground_spec`` and places these figures.
"""
from __future__ import annotations

from collections import defaultdict

import numpy as np
import plotly.graph_objects as go

from mtl_core.charts.style import NEUTRAL, VERMILLION, describe, legend_below, series_color


def _per_epoch(rows: list[dict], name: str) -> dict[str, dict[int, list[float]]]:
    """pair -> epoch -> values (one per seed) of the gradient statistic ``name``."""
    out: dict[str, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        if r["name"] == name and r["value"] is not None:
            out[r["task"]][r["epoch"]].append(r["value"])
    return out


def pair_name(pair: str) -> str:
    return pair.replace("|", " & ")


def cosine_chart(rows: list[dict], pairs: list[str] | None = None) -> go.Figure:
    """Gradient cosine on the shared encoder over epochs: one thin line per seed, the mean over seeds bold, one
    colour-blind-safe colour per pair (its seeds' lines share it); legend below the plot.

    ``rows`` are ``interference.study_gradient_curves`` rows (epoch, task "A|B", name, value, seed); ``pairs``:
    only these pair labels (a picker for studies with many pairs), None = every pair.
    """
    fig = go.Figure()
    fig.add_hrect(y0=-1, y1=0, fillcolor=VERMILLION, opacity=0.08, line_width=0,
                  annotation_text="conflict (the tasks pull the encoder apart)", annotation_position="bottom left")
    table = []
    measured = _per_epoch(rows, "grad_cosine")
    for k, (pair, by_epoch) in enumerate(p for p in measured.items() if pairs is None or p[0] in pairs):
        color = series_color(k)
        for seed in sorted({r["seed"] for r in rows if r["task"] == pair}):
            pts = sorted((r["epoch"], r["value"]) for r in rows
                         if r["task"] == pair and r["seed"] == seed and r["name"] == "grad_cosine")
            fig.add_scatter(x=[p[0] for p in pts], y=[p[1] for p in pts], mode="lines", opacity=0.35,
                            line=dict(width=1, color=color), name=f"{pair} seed {seed}", legendgroup=pair,
                            showlegend=False)
        epochs = sorted(by_epoch)
        means = [float(np.mean(by_epoch[e])) for e in epochs]
        fig.add_scatter(x=epochs, y=means, mode="lines+markers", line=dict(width=3, color=color),
                        name=f"{pair_name(pair)}: mean over seeds", legendgroup=pair)
        table += [{"pair": pair_name(pair), "epoch": e, "mean cosine": round(m, 4)} for e, m in zip(epochs, means)]
    fig.add_hline(y=0, line_color=NEUTRAL, line_dash="dot")
    fig.update_layout(height=400, margin=dict(t=20, b=10, l=60, r=10))
    fig.update_xaxes(title="epoch", automargin=True)
    fig.update_yaxes(title="cosine of the two tasks' gradients", range=[-1.05, 1.05], automargin=True)
    legend_below(fig)
    overall = {}
    for r in table:
        overall.setdefault(r["pair"], []).append(r["mean cosine"])
    summary = ("Mean gradient cosine over all epochs, per pair (below 0: conflict): "
               + ", ".join(f"{p} {np.mean(v):+.2f}" for p, v in overall.items()) + ".") if overall \
        else "No gradient measurements."
    return describe(fig, summary, table)


def conflict_chart(rows: list[dict]) -> go.Figure:
    """Share of measurements with conflicting gradients (cosine < 0) per epoch, mean over seeds, per pair."""
    fig = go.Figure()
    table = []
    for k, (pair, by_epoch) in enumerate(_per_epoch(rows, "grad_conflict_rate").items()):
        epochs = sorted(by_epoch)
        rates = [float(np.mean(by_epoch[e])) for e in epochs]
        fig.add_bar(x=epochs, y=rates, name=pair_name(pair), marker_color=series_color(k),
                    hovertemplate="epoch %{x}: %{y:.0%} of measurements conflicting<extra></extra>")
        table += [{"pair": pair_name(pair), "epoch": e, "conflict rate": round(v, 3)} for e, v in zip(epochs, rates)]
    fig.add_hline(y=0.5, line_color=NEUTRAL, line_dash="dot", annotation_text="half: no preferred direction",
                  annotation_position="top left")
    fig.update_layout(height=320, margin=dict(t=30, b=40, l=60, r=10), showlegend=False)
    fig.update_xaxes(title="epoch", automargin=True)
    fig.update_yaxes(title="conflict rate", range=[0, 1.02], tickformat=".0%", automargin=True)
    summary = ("Share of gradient checks that conflicted, mean over epochs: "
               + ", ".join(f"{p} {np.mean([r['conflict rate'] for r in table if r['pair'] == p]):.0%}"
                           for p in dict.fromkeys(r["pair"] for r in table)) + ".") if table \
        else "No gradient measurements."
    return describe(fig, summary, table)

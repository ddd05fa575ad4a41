"""The classroom Playground: the synthetic study a set of sliders describes, and its gradient charts.

No Streamlit here: the page only reads sliders, calls ``playground_spec`` and places these figures.
"""
from __future__ import annotations

from collections import defaultdict

import numpy as np
import plotly.graph_objects as go


def _per_epoch(rows: list[dict], name: str) -> dict[str, dict[int, list[float]]]:
    """pair -> epoch -> values (one per seed) of the gradient statistic ``name``."""
    out: dict[str, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        if r["name"] == name and r["value"] is not None:
            out[r["task"]][r["epoch"]].append(r["value"])
    return out


def cosine_chart(rows: list[dict]) -> go.Figure:
    """Gradient cosine on the shared encoder over epochs: one thin line per seed, the mean over seeds bold.

    ``rows`` are ``interference.study_gradient_curves`` rows (epoch, task "A|B", name, value, seed).
    """
    fig = go.Figure()
    fig.add_hrect(y0=-1, y1=0, fillcolor="#d62728", opacity=0.07, line_width=0,
                  annotation_text="conflict (the tasks pull the encoder apart)", annotation_position="bottom left")
    for pair, by_epoch in _per_epoch(rows, "grad_cosine").items():
        for seed in sorted({r["seed"] for r in rows if r["task"] == pair}):
            pts = sorted((r["epoch"], r["value"]) for r in rows
                         if r["task"] == pair and r["seed"] == seed and r["name"] == "grad_cosine")
            fig.add_scatter(x=[p[0] for p in pts], y=[p[1] for p in pts], mode="lines", opacity=0.35,
                            line=dict(width=1), name=f"{pair} seed {seed}", legendgroup=pair, showlegend=False)
        epochs = sorted(by_epoch)
        fig.add_scatter(x=epochs, y=[float(np.mean(by_epoch[e])) for e in epochs], mode="lines+markers",
                        line=dict(width=3), name=f"{pair.replace('|', ' & ')}: mean over seeds", legendgroup=pair)
    fig.add_hline(y=0, line_color="gray", line_dash="dot")
    fig.update_layout(height=360, margin=dict(t=30, b=40, l=60, r=10), xaxis_title="epoch",
                      yaxis=dict(title="cosine of the two tasks' gradients", range=[-1.05, 1.05]),
                      legend=dict(orientation="h", y=1.12, x=0))
    return fig


def conflict_chart(rows: list[dict]) -> go.Figure:
    """Share of measurements with conflicting gradients (cosine < 0) per epoch, mean over seeds, per pair."""
    fig = go.Figure()
    for pair, by_epoch in _per_epoch(rows, "grad_conflict_rate").items():
        epochs = sorted(by_epoch)
        fig.add_bar(x=epochs, y=[float(np.mean(by_epoch[e])) for e in epochs], name=pair.replace("|", " & "),
                    hovertemplate="epoch %{x}: %{y:.0%} of measurements conflicting<extra></extra>")
    fig.add_hline(y=0.5, line_color="gray", line_dash="dot", annotation_text="half: no preferred direction",
                  annotation_position="top left")
    fig.update_layout(height=300, margin=dict(t=30, b=40, l=60, r=10), xaxis_title="epoch",
                      yaxis=dict(title="conflict rate", range=[0, 1.02], tickformat=".0%"), showlegend=False)
    return fig

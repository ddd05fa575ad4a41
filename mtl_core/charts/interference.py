"""Gradient interference as a task x task heatmap: one cell per pair, so it stays readable with 10+ tasks (45
pairs), where one line per pair cannot. No Streamlit here."""
from __future__ import annotations

import plotly.graph_objects as go

from mtl_core.charts.relations import signed_heatmap
from mtl_core.charts.style import describe, round_rows

STATISTICS = {"grad_cosine": "mean gradient cosine", "grad_conflict_rate": "conflict rate"}


def gradient_heatmap(rows: list[dict], tasks: list[str], name: str, epoch: int | None = None) -> go.Figure:
    """Cells = ``interference.pair_matrix`` rows for ``name`` ("grad_cosine": blue = the two tasks pull the shared
    encoder the same way, red = they conflict; "grad_conflict_rate": the share of checks with cosine < 0, red above
    one half). ``epoch``: the epoch the rows were taken from (None: mean over epochs), for the title."""
    cell = {(r["task"], r["partner"]): r for r in rows}
    rate = name == "grad_conflict_rate"
    # the conflict rate is drawn as (0.5 - rate), so that "more conflict" is red as for a negative cosine
    z = [[None if (t, p) not in cell else (0.5 - cell[(t, p)]["value"] if rate else cell[(t, p)]["value"])
          for p in tasks] for t in tasks]
    fmt = ".0%" if rate else "+.2f"
    text = [["" if (t, p) not in cell else format(cell[(t, p)]["value"], fmt) for p in tasks] for t in tasks]
    when = "mean over epochs" if epoch is None else f"epoch {epoch}"
    hover = [["" if (t, p) not in cell else f"{t} & {p}: {STATISTICS[name]} {text[i][j]} ({when}, "
              f"{cell[(t, p)]['n_runs']} run(s))" for j, p in enumerate(tasks)] for i, t in enumerate(tasks)]
    fig = signed_heatmap(z, text, hover, tasks, "cosine", floor=0.05 if not rate else 0.5,
                         tickformat="+.2f")
    fig.update_traces(showscale=not rate)
    fig.update_layout(title=dict(text=f"{STATISTICS[name]}, {when}", x=0, font=dict(size=14)))
    fig.update_xaxes(title="partner")
    fig.update_yaxes(title="task")
    pairs = [r for r in rows if tasks.index(r["task"]) < tasks.index(r["partner"])] if rows else []
    ordered = sorted(pairs, key=lambda r: r["value"], reverse=rate)
    worst = ", ".join(f"{r['task']} & {r['partner']} {format(r['value'], fmt)}" for r in ordered[:3])
    summary = (f"{STATISTICS[name].capitalize()} per pair of tasks ({when}), {len(pairs)} pairs; most conflicting: "
               f"{worst}." if pairs else "No gradient measurements.")
    return describe(fig, summary, round_rows([{"task": r["task"], "partner": r["partner"], STATISTICS[name]: r["value"],
                                               "runs": r["n_runs"]} for r in pairs], 4))

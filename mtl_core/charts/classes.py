"""One run's task, class by class: the confusion matrix on the test split (no Streamlit here)."""
from __future__ import annotations

import plotly.graph_objects as go

from mtl_core.charts.style import describe

MAX_CLASSES = 30  # a tagging task with more tags is shown as a table only


def confusion_heatmap(task: str, classes: list[str], matrix: list[list[int]]) -> go.Figure:
    """Rows = true class, columns = predicted class; each cell gives the count, its colour the share of the true
    class's test examples (so a rare class is as visible as a common one); the diagonal is what was right."""
    shares = [[n / max(sum(row), 1) for n in row] for row in matrix]
    hover = [[f"true {g}, predicted {p}: {n} ({s:.0%} of {g})" for p, n, s in zip(classes, row, share)]
             for g, row, share in zip(classes, matrix, shares)]
    fig = go.Figure(go.Heatmap(z=shares, x=classes, y=classes, text=matrix, texttemplate="%{text}",
                               customdata=hover, hovertemplate="%{customdata}<extra></extra>", colorscale="Blues",
                               zmin=0, zmax=1, xgap=1, ygap=1,
                               colorbar=dict(title=dict(text="share", side="top"),
                                             tickformat=".0%", thickness=14)))
    fig.update_layout(height=160 + 34 * len(classes), margin=dict(t=30, b=10, l=10, r=10),
                      title=dict(text=f"{task}: confusion matrix (test split)", x=0, font=dict(size=14)))
    fig.update_xaxes(title="predicted", automargin=True, type="category", tickangle=-30)
    fig.update_yaxes(title="true", autorange="reversed", automargin=True, type="category")
    total = sum(map(sum, matrix))
    right = sum(matrix[i][i] for i in range(len(classes)))
    recalls = [(g, row[i] / sum(row)) for i, (g, row) in enumerate(zip(classes, matrix)) if sum(row)]
    worst = min(recalls, key=lambda x: x[1], default=None)
    summary = (f"{task}: {right} of {total} test labels right ({right / max(total, 1):.0%})"
               + (f"; the class found least often is {worst[0]} ({worst[1]:.0%} of its examples)." if worst else "."))
    rows = [{"true": g, "predicted": p, "count": n} for g, row in zip(classes, matrix) for p, n in zip(classes, row) if n]
    return describe(fig, summary, rows)

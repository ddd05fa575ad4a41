"""Plotly figures of the Data and Predict pages: label distributions, and one text's predictions."""
from __future__ import annotations

import plotly.graph_objects as go

MAX_BARS = 30  # a tagging task can have many tags: the most frequent are shown, the rest summed


def label_chart(task: str, counts: dict[str, int], absent: int = 0) -> go.Figure:
    """Bars of one task's label counts, most frequent first; a grey bar for examples without a label."""
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    if len(ordered) > MAX_BARS:
        rest = sum(n for _, n in ordered[MAX_BARS - 1:])
        ordered = ordered[: MAX_BARS - 1] + [(f"{len(counts) - MAX_BARS + 1} other labels", rest)]
    labels, values = [k for k, _ in ordered], [v for _, v in ordered]
    colors = ["#1f77b4"] * len(labels)
    if absent:
        labels.append("(absent)")
        values.append(absent)
        colors.append("#b0b7bf")
    total = sum(values)
    fig = go.Figure(go.Bar(x=labels, y=values, marker_color=colors,
                           text=[f"{v / total:.0%}" if total else "" for v in values], textposition="outside",
                           hovertemplate="%{x}: %{y}<extra></extra>"))
    fig.update_layout(title=dict(text=task, x=0), height=280, margin=dict(t=40, b=40, l=50, r=10),
                      yaxis_title="examples" if absent or counts else None, xaxis=dict(type="category"))
    return fig


def prediction_chart(prediction: dict) -> go.Figure:
    """One text's predictions: per classification task, every class's probability (the predicted one dark)."""
    fig = go.Figure()
    for task, p in prediction.items():
        if p["kind"] == "tagging":
            continue
        labels = list(p["probabilities"])
        fig.add_bar(y=[f"{task}: {label}" for label in labels], x=list(p["probabilities"].values()),
                    orientation="h", name=task, showlegend=False,
                    marker_color=["#1f77b4" if label == p["label"] else "#b0b7bf" for label in labels],
                    hovertemplate="%{y}: %{x:.3f}<extra></extra>")
    n = sum(len(p["probabilities"]) for p in prediction.values() if p["kind"] != "tagging")
    fig.update_layout(height=max(160, 26 * n + 60), margin=dict(t=20, b=40, l=10, r=10),
                      xaxis=dict(title="probability (softmax)", range=[0, 1]), yaxis=dict(autorange="reversed"))
    return fig

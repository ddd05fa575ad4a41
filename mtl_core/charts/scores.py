"""Plotly figures the app shows (no Streamlit here: pages only place these figures)."""
from __future__ import annotations

import plotly.graph_objects as go

COLORS = {"single": "#7f8c9a", "all": "#1f77b4", "tfidf-lr": "#d62728", "majority": "#444444"}


def comparison_chart(rows: list[dict]) -> go.Figure:
    """Grouped bars (single vs all, mean ± 95% CI) per task; majority baseline dashed; TF-IDF+LR diamonds.

    ``rows`` are summary rows on each task's lead metric (``gains.lead_rows``).
    """
    tasks = list(dict.fromkeys(r["task"] for r in rows))
    x = {t: k for k, t in enumerate(tasks)}
    metric = {r["task"]: r["metric"] for r in rows}
    fig = go.Figure()
    for setting, label in (("single", "single-task (alone)"), ("all", "multitask (all tasks)")):
        rs = [r for r in rows if r["setting"] == setting]
        fig.add_bar(name=label, x=[x[r["task"]] for r in rs], y=[r["mean"] for r in rs],
                    marker_color=COLORS[setting], text=[f"{r['mean']:.3f}" for r in rs], textposition="inside",
                    error_y=dict(type="data", array=[r["ci_high"] - r["mean"] for r in rs],
                                 arrayminus=[r["mean"] - r["ci_low"] for r in rs], thickness=2, width=8),
                    hovertemplate="%{y:.3f}<extra>" + label + "</extra>")
    xs, ys = [], []
    for r in rows:
        if r["setting"] == "single" and r["majority_baseline"] is not None:
            xs += [x[r["task"]] - 0.45, x[r["task"]] + 0.45, None]
            ys += [r["majority_baseline"]] * 2 + [None]
    fig.add_scatter(name="majority-class baseline", x=xs, y=ys, mode="lines",
                    line=dict(color=COLORS["majority"], dash="dash", width=2), hoverinfo="skip")
    tfidf = [r for r in rows if r["setting"] == "tfidf-lr"]
    fig.add_scatter(name="TF-IDF + logistic regression", x=[x[r["task"]] for r in tfidf],
                    y=[r["mean"] for r in tfidf], mode="markers",
                    marker=dict(symbol="diamond", size=13, color=COLORS["tfidf-lr"], line=dict(color="white", width=1)),
                    hovertemplate="%{y:.3f}<extra>TF-IDF + LR</extra>")
    fig.update_layout(barmode="group", height=430, margin=dict(t=30, b=40, l=60, r=10),
                      legend=dict(orientation="h", y=1.12, x=0),
                      xaxis=dict(tickvals=list(x.values()), ticktext=[f"{t}<br>({metric[t]})" for t in tasks]),
                      yaxis=dict(title="test score, mean ± 95% CI over seeds", range=[0, 1.02]))
    return fig


def curves_chart(curves: list[dict], lead: dict[str, str], best_epoch: int | None = None,
                 kind: str = "val") -> go.Figure:
    """Per-task lines over epochs: ``kind`` "val" plots each task's lead validation metric, "loss" the
    training and validation losses. ``curves`` are rows of ``Store.curves`` (epoch, task, name, value)."""
    fig = go.Figure()
    for task, metric in lead.items():
        names = [f"val_{metric}"] if kind == "val" else ["train_loss", "val_loss"]
        for name in names:
            pts = sorted((c["epoch"], c["value"]) for c in curves if c["task"] == task and c["name"] == name)
            if pts:
                label = f"{task} ({metric})" if kind == "val" else f"{task} {name.replace('_', ' ')}"
                fig.add_scatter(x=[p[0] for p in pts], y=[p[1] for p in pts], mode="lines+markers", name=label,
                                line=dict(dash="dot" if name == "train_loss" else "solid"))
    if best_epoch:
        fig.add_vline(x=best_epoch, line_dash="dot", line_color="gray",
                      annotation_text="best epoch (model kept)", annotation_position="bottom right")
    fig.update_layout(height=340, margin=dict(t=20, b=40, l=60, r=10), xaxis_title="epoch",
                      yaxis_title="validation score" if kind == "val" else "loss",
                      legend=dict(orientation="h", y=1.1, x=0))
    return fig


def methods_chart(rows: list[dict]) -> go.Figure:
    """Per task, one bar per study/method (mean ± 95% CI); beside it, how fast each study's runs learned: the
    best epoch early stopping kept, and the first epoch that reached the validation score every run reached.

    ``rows`` come from ``methods.method_rows``."""
    from plotly.subplots import make_subplots

    studies = list(dict.fromkeys(r["study"] for r in rows))
    fig = make_subplots(rows=1, cols=2, column_widths=[0.64, 0.36], horizontal_spacing=0.1,
                        subplot_titles=("test score per task (mean ± 95% CI)", "epochs (mean ± 95% CI)"))
    for k, study in enumerate(studies):
        rs = [r for r in rows if r["study"] == study]
        label = f"{study} ({rs[0]['method']})"
        color = f"hsl({(k * 67) % 360}, 55%, 45%)"
        fig.add_bar(name=label, x=[r["task"] for r in rs], y=[r["mean"] for r in rs], marker_color=color,
                    error_y=dict(type="data", array=[r["ci_high"] - r["mean"] for r in rs],
                                 arrayminus=[r["mean"] - r["ci_low"] for r in rs]),
                    hovertemplate="%{y:.3f}<extra>" + label + "</extra>", legendgroup=study, row=1, col=1)
        first = rs[0]
        measures = [(name, first[mean], first[low], first[high]) for name, mean, low, high in (
            ("best epoch", "epochs_to_converge", "epochs_ci_low", "epochs_ci_high"),
            (f"to reach {first['target']:.3f}" if first["target"] is not None else "to reach target",
             "epochs_to_target", "target_ci_low", "target_ci_high")) if first[mean] is not None]
        if measures:
            fig.add_bar(name=label, x=[m[0] for m in measures], y=[m[1] for m in measures], marker_color=color,
                        error_y=dict(type="data", array=[m[3] - m[1] for m in measures],
                                     arrayminus=[m[1] - m[2] for m in measures]),
                        showlegend=False, legendgroup=study, hovertemplate="%{y:.1f} epochs<extra></extra>",
                        row=1, col=2)
    fig.update_layout(barmode="group", height=440, margin=dict(t=40, b=40, l=60, r=10),
                      legend=dict(orientation="h", y=-0.15, x=0))
    fig.update_yaxes(range=[0, 1.02], row=1, col=1)
    fig.update_yaxes(title_text="epochs", row=1, col=2)
    return fig

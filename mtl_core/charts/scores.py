"""Plotly figures of scores: single vs multitask per task, learning curves, methods side by side (no Streamlit
here: pages only place these figures). Whiskers are drawn only where an interval exists (2 seeds or more)."""
from __future__ import annotations

import plotly.graph_objects as go

from mtl_core.charts.style import (
    BLUE,
    NEUTRAL,
    ORANGE,
    describe,
    legend_below,
    round_rows,
    series_color,
)
from mtl_core.results.verdict import NO_INTERVAL, interval_text

# TF-IDF + LR: a black diamond outlined in white, unlike any bar colour and visible on a dark background too
COLORS = {"single": ORANGE, "all": BLUE, "tfidf-lr": "#000000", "majority": NEUTRAL}
SETTING_LABELS = {"single": "single-task (alone)", "all": "multitask (all tasks)"}


SCORE_LIMITS = (0.0, 1.0)  # a score's whisker is cut at these: no accuracy or F1 lies outside them


def whiskers(rows: list[dict], mean: str = "mean", low: str = "ci_low", high: str = "ci_high",
             limits: tuple[float, float] | None = None) -> dict | None:
    """error_y of a bar trace: the 95% CI where a row has one; None (no whisker, no cap) when no row has one.
    ``limits`` (scores: ``SCORE_LIMITS``): the whisker is cut there (the hover, ``score_hover``, says so)."""
    if all(r.get(low) is None for r in rows):
        return None
    lo, hi = limits or (-float("inf"), float("inf"))
    return dict(type="data", array=[None if r.get(high) is None else min(r[high], hi) - r[mean] for r in rows],
                arrayminus=[None if r.get(low) is None else r[mean] - max(r[low], lo) for r in rows],
                color=NEUTRAL, thickness=2, width=6)


def hover_interval(r: dict) -> str:
    return interval_text(r.get("ci_low"), r.get("ci_high"), r.get("n_seeds"))


def score_hover(r: dict) -> str:
    """The interval as the hover writes it, and where the whisker of a score is cut at 0 or 1."""
    cut = [f"above {SCORE_LIMITS[1]:g}" if (r.get("ci_high") or 0) > SCORE_LIMITS[1] else "",
           f"below {SCORE_LIMITS[0]:g}" if r.get("ci_low") is not None and r["ci_low"] < SCORE_LIMITS[0] else ""]
    cut = [c for c in cut if c]
    return hover_interval(r) + (f" (whisker cut {' and '.join(cut)}: a score cannot go there)" if cut else "")


def whisker_top(r: dict) -> float:
    """Where a score bar's drawing ends at the top: its whisker (cut at 1), else the bar."""
    return r["mean"] if r.get("ci_high") is None else max(r["mean"], min(r["ci_high"], SCORE_LIMITS[1]))


def score_axis_title(rows: list[dict]) -> str:
    """The y axis title: the metric shown (when one), and '± 95% CI' only when some bar has an interval."""
    metrics = sorted({r["metric"] for r in rows})
    what = metrics[0] if len(metrics) == 1 else "test score"
    return f"{what}, mean ± 95% CI" if any(r.get("ci_low") is not None for r in rows) else f"{what} ({NO_INTERVAL})"


def add_baselines(fig: go.Figure, rows: list[dict], tasks: list[str]) -> None:
    """The majority-class baseline (dashed, over each task's bars) and TF-IDF + LR (diamonds)."""
    xs, ys = [], []
    for k, task in enumerate(tasks):
        maj = next((r["majority_baseline"] for r in rows if r["task"] == task and r["majority_baseline"] is not None),
                   None)
        if maj is not None:
            xs += [k - 0.45, k + 0.45, None]
            ys += [maj, maj, None]
    fig.add_scatter(name="majority-class baseline", x=xs, y=ys, mode="lines",
                    line=dict(color=COLORS["majority"], dash="dash", width=3), hoverinfo="skip")
    tfidf = [r for r in rows if r["setting"] == "tfidf-lr" and r["task"] in tasks]
    fig.add_scatter(name="TF-IDF + logistic regression", x=[tasks.index(r["task"]) + 0.45 for r in tfidf],
                    y=[r["mean"] for r in tfidf], mode="markers",
                    marker=dict(symbol="diamond", size=13, color=COLORS["tfidf-lr"], line=dict(color="white", width=1.5)),
                    hovertemplate="%{y:.3f}<extra>TF-IDF + LR</extra>")


def score_layout(fig: go.Figure, rows: list[dict], tasks: list[str], height: int) -> go.Figure:
    """Axes, legend below the plot, and the text alternative shared by the score charts. A task's tick names its
    metric only when the tasks are shown on different metrics (else the axis title does)."""
    metric = {r["task"]: r["metric"] for r in rows}
    mixed = len(set(metric.values())) > 1
    fig.update_layout(height=height, margin=dict(t=20, b=10, l=60, r=10))
    fig.update_xaxes(tickvals=list(range(len(tasks))), automargin=True,
                     ticktext=[f"{t}<br>({metric[t]})" if mixed else t for t in tasks])
    fig.update_yaxes(title=score_axis_title(rows), range=[0, 1.05], automargin=True,
                     tickvals=[0, 0.2, 0.4, 0.6, 0.8, 1.0])  # no tick above 1: room for labels, not for scores
    legend_below(fig)
    parts = []
    for task in tasks:
        by = {r["setting"]: r for r in rows if r["task"] == task}
        maj = next((r["majority_baseline"] for r in by.values() if r["majority_baseline"] is not None), None)
        said = [f"{words} {by[s]['mean']:.3f}" for s, words in (("single", "alone"), ("all", "all together"),
                                                                ("tfidf-lr", "TF-IDF + LR")) if s in by]
        parts.append(f"{task} {', '.join(said)}" + (f", majority {maj:.3f}" if maj is not None else ""))
    seeds = max((r["n_seeds"] for r in rows if r["setting"] != "tfidf-lr"), default=0)
    others = len({r["setting"] for r in rows} - {"single", "all", "tfidf-lr"})
    summary = (f"Test {' / '.join(sorted(set(metric.values())))} over {seeds} seed(s): " + "; ".join(parts) + "."
               + (f" {others} more settings (pairs, groups) in the table." if others else ""))
    table = [{"task": r["task"], "setting": r["setting"], "metric": r["metric"], "mean": r["mean"],
              "95% CI": hover_interval(r), "seeds": r["n_seeds"], "majority": r["majority_baseline"]} for r in rows]
    return describe(fig, summary, round_rows(table))


LABEL_GAP = 0.08  # y units between the two value labels of one task when they would sit side by side
LABEL_PAD = 0.03  # y units between a label and the whisker cap, line or diamond below it (a few pixels)
LABEL_ROOM = 0.09  # y units a value label takes above the point it stands on


def value_labels(bars: list[tuple[float, dict]], rows: list[dict], tasks: list[str]) -> list[tuple[float, float, str]]:
    """(x, y, text) of each bar's value label, horizontal, standing above everything drawn in its column: the bar,
    its whisker (cut at 1), the task's majority line and, for the right-hand bar, the TF-IDF diamond, so no line
    strikes through it. Two labels of one task at about the same height are put one above the other: on a phone
    screen the bars are narrower than a label."""
    out = []
    for k, task in enumerate(tasks):
        maj = [r["majority_baseline"] for r in rows if r["task"] == task and r["majority_baseline"] is not None]
        tfidf = [r["mean"] for r in rows if r["task"] == task and r["setting"] == "tfidf-lr"]
        mine = sorted((x, r) for x, r in bars if r["task"] == task)
        labels = []
        for x, r in mine:
            floor = max([whisker_top(r)] + maj[:1] + (tfidf if x > k else [])) + LABEL_PAD
            labels.append([x, floor, f"{r['mean']:.3f}"])
        if len(labels) == 2 and abs(labels[0][1] - labels[1][1]) < LABEL_GAP:
            higher = max(labels, key=lambda lab: (lab[1], lab[0]))
            lower = labels[1] if higher is labels[0] else labels[0]
            higher[1] = lower[1] + LABEL_GAP
        out += [tuple(lab) for lab in labels]
    return out


def comparison_chart(rows: list[dict]) -> go.Figure:
    """Grouped bars (single vs all, mean ± 95% CI from 2 seeds on) per task; majority baseline dashed;
    TF-IDF+LR diamonds. Each bar's value is written above its column (``value_labels``), not on the bar, where
    the whisker and the baselines would cross it; whiskers are cut at 1, and the y axis reaches past 1 only to
    make room for those labels (no tick above 1).

    ``rows`` are summary rows on one metric per task (``gains.lead_rows``).
    """
    tasks = list(dict.fromkeys(r["task"] for r in rows))
    fig = go.Figure()
    bars = []
    for setting, label in SETTING_LABELS.items():
        rs = [r for r in rows if r["setting"] == setting]
        shift = -0.2 if setting == "single" else 0.2  # where barmode "group" draws the trace (bargap 0.2)
        bars += [(tasks.index(r["task"]) + shift, r) for r in rs]
        fig.add_bar(name=label, x=[tasks.index(r["task"]) for r in rs], y=[r["mean"] for r in rs],
                    marker_color=COLORS[setting], error_y=whiskers(rs, limits=SCORE_LIMITS),
                    customdata=[score_hover(r) for r in rs],
                    hovertemplate="%{y:.3f} %{customdata}<extra>" + label + "</extra>")
    add_baselines(fig, rows, tasks)
    labels = value_labels(bars, rows, tasks)
    fig.add_scatter(x=[x for x, _, _ in labels], y=[y for _, y, _ in labels], text=[t for _, _, t in labels],
                    mode="text", textposition="top center", textfont=dict(size=11), cliponaxis=False,
                    hoverinfo="skip", showlegend=False, name="values")
    fig.update_layout(barmode="group", bargap=0.2, bargroupgap=0)
    score_layout(fig, rows, tasks, height=460)
    fig.update_yaxes(range=[0, max([1.05] + [y + LABEL_ROOM for _, y, _ in labels])])
    return fig


def curves_chart(curves: list[dict], lead: dict[str, str], best_epoch: int | None = None,
                 kind: str = "val") -> go.Figure:
    """Per-task lines over epochs: ``kind`` "val" plots each task's lead validation metric, "loss" the
    training (dotted) and validation (solid) losses, one colour per task. ``curves`` are rows of
    ``Store.curves`` (epoch, task, name, value). The x axis spans the epochs so far (from epoch 1: no empty
    negative range); scores use a fixed 0-1 axis with room above 1."""
    fig = go.Figure()
    rows, last = [], 1
    for k, (task, metric) in enumerate(lead.items()):
        names = [f"val_{metric}"] if kind == "val" else ["val_loss", "train_loss"]
        for name in names:
            pts = sorted((c["epoch"], c["value"]) for c in curves
                         if c["task"] == task and c["name"] == name and c["value"] is not None)
            if not pts:
                continue
            last = max(last, pts[-1][0])
            label = f"{task} ({metric})" if kind == "val" else f"{task} {name.replace('_', ' ')}"
            fig.add_scatter(x=[p[0] for p in pts], y=[p[1] for p in pts], mode="lines+markers", name=label,
                            line=dict(color=series_color(k), dash="dot" if name == "train_loss" else "solid"),
                            hovertemplate="epoch %{x}: %{y:.3f}<extra>" + label + "</extra>")
            rows += [{"series": label, "epoch": e, "value": round(v, 4)} for e, v in pts]
    if best_epoch:
        fig.add_vline(x=best_epoch, line_dash="dot", line_color=NEUTRAL)
        best_label(fig, best_epoch, last)
    fig.update_layout(height=360, margin=dict(t=30, b=10, l=60, r=10))
    fig.update_xaxes(title="epoch", range=[0.5, last + 0.5], dtick=1 if last <= 15 else None, automargin=True)
    fig.update_yaxes(title="validation score" if kind == "val" else "loss", automargin=True,
                     **({"range": [0, 1.05]} if kind == "val" else {"rangemode": "tozero"}))
    legend_below(fig)
    if not rows:
        fig.add_annotation(text="no epoch finished yet", showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    finals = {}
    for r in rows:
        finals[r["series"]] = r
    summary = ("No epoch has finished yet." if not rows else
               f"{'Validation scores' if kind == 'val' else 'Losses'} over {last} epoch(s); at the latest epoch: "
               + ", ".join(f"{s} {r['value']:.3f}" for s, r in finals.items())
               + (f". Best epoch (model kept): {best_epoch}." if best_epoch else "."))
    return describe(fig, summary, rows)


BEST_LABEL = "best epoch (kept)"


def best_label(fig: go.Figure, best_epoch: int, last: int) -> None:
    """The best epoch's label, above the plot (in the top margin: over no curve and no tick) at its line, reaching
    away from the nearer edge so that it stays inside the plot's width: right of a line in the left half, left of
    one in the right half. The x axis spans [0.5, last + 0.5]."""
    left_half = (best_epoch - 0.5) / max(last, 1) <= 0.5
    fig.add_annotation(x=best_epoch, xref="x", y=1, yref="paper", yanchor="bottom", showarrow=False,
                       xanchor="left" if left_half else "right", xshift=3 if left_half else -3,
                       text=BEST_LABEL, font=dict(size=11),
                       hovertext="the model of this epoch is the one kept: its validation score was the best")


def methods_chart(rows: list[dict]) -> go.Figure:
    """Per task, one bar per study/method (mean ± 95% CI); beside it, how fast each study's runs learned: the
    best epoch early stopping kept, and the first epoch that reached the validation score every run reached.
    Colours from the colour-blind-safe palette, one per study.

    ``rows`` come from ``methods.method_rows``."""
    from plotly.subplots import make_subplots

    studies = list(dict.fromkeys(r["study"] for r in rows))
    fig = make_subplots(rows=1, cols=2, column_widths=[0.64, 0.36], horizontal_spacing=0.1,
                        subplot_titles=("test score per task", "epochs"))
    for k, study in enumerate(studies):
        rs = [r for r in rows if r["study"] == study]
        label = f"{study} ({rs[0]['method']})"
        color = series_color(k)
        fig.add_bar(name=label, x=[r["task"] for r in rs], y=[r["mean"] for r in rs], marker_color=color,
                    error_y=whiskers(rs), customdata=[hover_interval(r) for r in rs],
                    hovertemplate="%{y:.3f} %{customdata}<extra>" + label + "</extra>", legendgroup=study,
                    row=1, col=1)
        first = rs[0]
        measures = [{"name": name, "mean": first[mean], "ci_low": first[low], "ci_high": first[high]}
                    for name, mean, low, high in (
                        ("best epoch", "epochs_to_converge", "epochs_ci_low", "epochs_ci_high"),
                        (f"to reach {first['target']:.3f}" if first["target"] is not None else "to reach target",
                         "epochs_to_target", "target_ci_low", "target_ci_high")) if first[mean] is not None]
        if measures:
            fig.add_bar(name=label, x=[m["name"] for m in measures], y=[m["mean"] for m in measures],
                        marker_color=color, error_y=whiskers(measures), showlegend=False, legendgroup=study,
                        hovertemplate="%{y:.1f} epochs<extra></extra>", row=1, col=2)
    fig.update_layout(barmode="group", height=460, margin=dict(t=40, b=10, l=60, r=10))
    fig.update_yaxes(range=[0, 1.05], title_text=score_axis_title(rows), row=1, col=1)
    fig.update_yaxes(title_text="epochs", row=1, col=2)
    legend_below(fig)
    summary = "Each study's test score per task: " + "; ".join(
        f"{r['study']} {r['task']} {r['mean']:.3f} {hover_interval(r)}" for r in rows) + "."
    return describe(fig, summary, round_rows([{k: r[k] for k in ("study", "method", "task", "metric", "mean", "ci_low",
                                                                  "ci_high", "n_seeds", "epochs_to_converge")}
                                              for r in rows]))

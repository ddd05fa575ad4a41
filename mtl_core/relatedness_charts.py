"""Plotly figures for task relatedness: every setting per task (pairs, groups) and the transfer heatmap."""
from __future__ import annotations

import plotly.graph_objects as go

from .charts import COLORS

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

    ``rows`` are summary rows on each task's lead metric (``compare.lead_rows``).
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

"""Plotly figures for how tasks relate: every setting per task (pairs, groups), the transfer and lookahead-affinity
heatmaps, gradient conflict over training (lines), measured transfer as a graph of the tasks, and how well the cheap
estimates predict the measured transfer (scatter). No Streamlit here."""
from __future__ import annotations

import math
import re
import textwrap

import numpy as np
import plotly.graph_objects as go

from mtl_core.charts.playground import _per_epoch, cosine_chart
from mtl_core.charts.scores import COLORS, SCORE_LIMITS, add_baselines, score_hover, score_layout, whiskers
from mtl_core.charts.style import (
    BLUE,
    DIVERGING,
    NARROW_PLOT_PX,
    NEUTRAL,
    SERIES,
    VERMILLION,
    describe,
    legend_below,
    round_rows,
    text_px,
)
from mtl_core.results.verdict import interval_text

SYNERGY, INTERFERENCE = BLUE, VERMILLION  # Okabe-Ito blue and vermillion: apart for every colour vision
ESTIMATE_LABELS = {"grad_cosine": "gradient cosine (shared encoder)",  # estimate_quality.ESTIMATES
                   "lookahead_affinity": "lookahead affinity"}


def sign_color(v: float) -> str:
    """Blue for a gain, red for a loss, grey for exactly 0."""
    return SYNERGY if v > 0 else INTERFERENCE if v < 0 else NEUTRAL


def number_format(values: list[float | None]) -> str:
    """One format for a heatmap's cells and its colour bar (d3 and Python read it alike): fixed 3 decimals, or
    scientific when every value is below 0.001 in size."""
    sizes = [abs(v) for v in values if v is not None and v != 0]
    return "+.1e" if sizes and max(sizes) < 0.001 else "+.3f"


def formatted(v: float, fmt: str) -> str:
    """``v`` as d3 writes ``fmt`` (Python pads the exponent, "e-04"; d3 writes "e-4")."""
    return re.sub(r"e([+-])0*(\d)", r"e\1\2", format(v, fmt))


def _small(v: float) -> str:
    return formatted(v, number_format([v]))


def affinity_heatmap(rows: list[dict], tasks: list[str]) -> go.Figure:
    """Row = task scored, column = partner whose update was taken, color = affinity (blue: the partner's
    step lowered the task's loss, red: raised it). ``rows`` are ``affinity.affinity_matrix`` rows. Cells and
    the colour bar share one number format."""
    cell = {(r["task"], r["partner"]): r["affinity"] for r in rows}
    z = [[cell.get((t, p)) for p in tasks] for t in tasks]
    fmt = number_format([v for row in z for v in row])
    text = [["" if v is None else formatted(v, fmt) for v in row] for row in z]
    hover = [["" if v is None else f"a training step on {p} → {t}'s loss: affinity {formatted(v, fmt)}, "
              + ("lowered it (helps)" if v > 0 else "raised it (hurts)") for p, v in zip(tasks, row)]
             for t, row in zip(tasks, z)]
    fig = signed_heatmap(z, text, hover, tasks, "affinity", floor=1e-6, tickformat=fmt)
    fig.update_layout(xaxis_title="lookahead step on (partner)")
    best = max(rows, key=lambda r: r["affinity"], default=None)
    worst = min(rows, key=lambda r: r["affinity"], default=None)
    summary = ("Lookahead affinity per ordered pair" + (
        f"; highest: a step on {best['partner']} → {best['task']} {formatted(best['affinity'], fmt)}; lowest: "
        f"{worst['partner']} → {worst['task']} {formatted(worst['affinity'], fmt)}." if best else "."))
    return describe(fig, summary, [{k: r.get(k) for k in ("task", "partner", "affinity", "n_runs")} for r in rows])


def conflict_over_time(rows: list[dict], pairs: list[str] | None = None) -> go.Figure:
    """Gradient cosine per task pair over epochs (``playground.cosine_chart``), with each epoch's
    conflict rate (share of measurements with cosine < 0, mean over seeds) in the hover of the mean line.

    ``rows`` are ``interference.study_gradient_curves`` rows of ONE setting (one run per pair and seed);
    ``pairs``: only these pair labels ("A|B"), None = all (fine for a few pairs; many need ``gradient_heatmap``).
    """
    fig = cosine_chart(rows, pairs)
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


NODE_PX = 22        # a task's circle on the graph
ARROW_GAP = 0.24    # data units between an arrow's tip and the centre of its task: at the ~110 px per unit of a
                    # phone screen that is the circle's radius (11 px) and the half arrowhead (8 px), with room


def outward(x: float, y: float) -> str:
    """Where a node's label goes: away from the circle's centre, so that no arrow (all inside the circle)
    crosses it."""
    vertical = "top" if y > 0.3 else "bottom" if y < -0.3 else "middle"
    horizontal = "right" if x > 0.3 else "left" if x < -0.3 else "center"
    return f"{vertical} {horizontal}" if vertical != "middle" or horizontal != "center" else "top center"


def relation_graph(rows: list[dict], tasks: list[str]) -> go.Figure:
    """Tasks on a circle; one arrow per measured ``partner -> task`` transfer (``transfer.transfer_matrix``
    rows): blue = synergy, red = interference, width ∝ |delta|, dashed when the 95% CI includes 0.
    The two directions of a pair are drawn side by side, since transfer is not symmetric. Arrows stop short of
    the task circles (their heads end at the circle's edge) and the task names sit outside the circle."""
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
        ends = (min(ARROW_GAP / length, 0.3), 0.5, max(1 - ARROW_GAP / length, 0.7))
        xs = [x0 + dx * f + ox for f in ends]
        ys = [y0 + dy * f + oy for f in ends]
        hover = transfer_hover(r)
        color = sign_color(r["delta_mean"])
        fig.add_scatter(x=xs, y=ys, mode="lines+markers", name=f"{r['partner']} → {r['task']}",
                        line=dict(color=color, width=1 + 7 * abs(r["delta_mean"]) / biggest,
                                  dash="solid" if r["significant"] else "dash"),
                        marker=dict(symbol=["circle", "circle", "arrow"], size=[0, 8, 16], angleref="previous",
                                    color=color),
                        hovertext=[hover] * 3, hoverinfo="text", showlegend=False)
    fig.add_scatter(x=[pos[t][0] for t in tasks], y=[pos[t][1] for t in tasks], mode="markers+text",
                    text=tasks, textposition=[outward(*pos[t]) for t in tasks], name="tasks", hoverinfo="text",
                    showlegend=False, cliponaxis=False,
                    marker=dict(size=NODE_PX, color="white", line=dict(color=NEUTRAL, width=2)))
    for name, color, dash in (("synergy", SYNERGY, "solid"), ("interference", INTERFERENCE, "solid"),
                              ("can't tell (CI includes 0, or 1 seed)", NEUTRAL, "dash")):
        fig.add_scatter(x=[None], y=[None], mode="lines", name=name, line=dict(color=color, dash=dash, width=3))
    axis = dict(visible=False, range=[-1.6, 1.6])  # room beside the circle for the task names
    fig.update_layout(height=480, margin=dict(t=30, b=10, l=10, r=10), xaxis=axis,
                      yaxis=dict(**axis, scaleanchor="x"))
    legend_below(fig)
    return describe(fig, transfer_summary(rows), transfer_table(rows))


def transfer_hover(r: dict) -> str:
    """'<task> trained with <partner>: +0.012 [-0.01, +0.03] — no clear difference' (the results' verdict)."""
    return (f"{r['task']} trained with {r['partner']}: {r['delta_mean']:+.3f} "
            f"{interval_text(r.get('ci_low'), r.get('ci_high'), r.get('n_seeds'), signed=True)} — {r['verdict']}")


def transfer_summary(rows: list[dict]) -> str:
    """One sentence over the measured pairs: how many help, hurt, or can't be told apart."""
    verdicts = [r["verdict"] for r in rows]
    counts = ", ".join(f"{verdicts.count(v)} {v}" for v in dict.fromkeys(verdicts))
    biggest = max(rows, key=lambda r: abs(r["delta_mean"]), default=None)
    return (f"{len(rows)} measured task-partner effects: {counts}" + (
        f"; the largest: {transfer_hover(biggest)}." if biggest else "."))


def transfer_table(rows: list[dict]) -> list[dict]:
    return round_rows([{k: r.get(k) for k in ("task", "partner", "delta_mean", "ci_low", "ci_high", "n_seeds",
                                              "verdict")} for r in rows])


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
    fig.add_hline(y=0, line_color=NEUTRAL, line_dash="dot")
    fig.add_vline(x=0, line_color=NEUTRAL, line_dash="dot")
    head = f"{label} vs measured transfer"
    said = ""
    if agreement and agreement.get("spearman") is not None:
        ci = "" if agreement.get("ci_low") is None else \
            f", 95% CI [{agreement['ci_low']:+.2f}, {agreement['ci_high']:+.2f}]"
        said = f"Spearman {agreement['spearman']:+.2f}{ci}, {agreement.get('n_pairs', len(pts))} pairs"
    title, top, height = chart_title(head, said, 400)
    fig.update_layout(height=height, margin=dict(t=top, b=40, l=60, r=10), title=title, showlegend=False)
    fig.update_xaxes(title="<br>".join(wrap(f"{label} (cheap estimate)", AXIS_CHARS)), automargin=True)
    fig.update_yaxes(title="measured transfer (delta vs alone)", automargin=True)
    return describe(fig, head + (f": {said}." if said else "."),
                    round_rows([{k: p.get(k) for k in ("task", "partner", estimate, "transfer")} for p in pts], 4))


TITLE_PX, SUBTITLE_PX = 14, 12  # the title's font and its second part's
LINE_HEIGHT = 1.35               # a line of text, in font sizes
TITLE_CHARS = int(NARROW_PLOT_PX + 60) // int(0.6 * TITLE_PX)  # what fits the figure's width on a phone, in chars
SUBTITLE_CHARS = int(NARROW_PLOT_PX + 60) // int(0.6 * SUBTITLE_PX)
AXIS_CHARS = int(NARROW_PLOT_PX // 7.5)


def wrap(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, width) or [""]


def chart_title(head: str, sub: str, height: int) -> tuple[dict, int, int]:
    """(layout.title, top margin, figure height) of a figure whose plot and axes take ``height`` px: ``head`` and,
    smaller, ``sub``, each wrapped to fit a phone-wide figure, in a top margin that holds every line, so no line
    is cut off at the top or on the right. The title is centred in the margin (a little above its middle): Plotly
    misplaces a multi-line title anchored at its top (it cuts off the first line)."""
    lines = [(line, TITLE_PX) for line in wrap(head, TITLE_CHARS)]
    lines += [(line, SUBTITLE_PX) for line in (wrap(sub, SUBTITLE_CHARS) if sub else [])]
    text = "<br>".join(line if size == TITLE_PX else f"<span style='font-size:{size}px'>{line}</span>"
                       for line, size in lines)
    top = int(sum(size * LINE_HEIGHT for _, size in lines)) + 30
    total = height + top
    return dict(text=text, x=0, xref="container", xanchor="left", y=1 - (top / 2 - 8) / total, yref="container",
                yanchor="middle", pad=dict(l=8), font=dict(size=TITLE_PX)), top, total


def gradient_settings(rows: list[dict]) -> list[str]:
    """Settings with gradient rows, "all" first (every pair measured inside one model)."""
    return sorted({r["setting"] for r in rows}, key=lambda s: (s != "all", s))

PARTNER_COLORS = SERIES[2:]  # green, vermillion, sky blue, purple, yellow, grey: apart from alone and all


def _setting_style(setting: str, tasks: list[str], groups: list[str]) -> tuple[str, str, str]:
    """(legend label, color, bar pattern) of a summary setting; a partner keeps its color on every task, groups
    are hatched so they never read as a partner."""
    if setting in ("single", "all"):
        return ("single-task (alone)" if setting == "single" else "multitask (all tasks)"), COLORS[setting], ""
    if setting.startswith("with:"):
        partner = setting[5:]
        k = tasks.index(partner) if partner in tasks else len(tasks)
        return f"with {partner}", PARTNER_COLORS[k % len(PARTNER_COLORS)], ""
    k = groups.index(setting) if setting in groups else 0
    return setting.replace("group:", "group "), SERIES[k % len(SERIES)], "/"


def settings_chart(rows: list[dict]) -> go.Figure:
    """Per task, one bar per setting it was trained in (alone, all, with each partner, each group),
    mean ± 95% CI (from 2 seeds on); majority baseline dashed over the task's bars; TF-IDF+LR diamond.

    ``rows`` are summary rows on one metric per task (``gains.lead_rows``).
    """
    tasks = list(dict.fromkeys(r["task"] for r in rows))
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
        label, color, pattern = _setting_style(setting, tasks, groups)
        rs = [r for r in bars if r["setting"] == setting]
        fig.add_bar(name=label, x=[pos[(r["task"], setting)] for r in rs], y=[r["mean"] for r in rs],
                    width=[step[r["task"]] * 0.95 for r in rs], marker=dict(color=color, pattern_shape=pattern),
                    legendgroup=setting, error_y=whiskers(rs, limits=SCORE_LIMITS),
                    customdata=[[r["task"], score_hover(r)] for r in rs],
                    hovertemplate="%{customdata[0]}: %{y:.3f} %{customdata[1]}<extra>" + label + "</extra>")
    add_baselines(fig, rows, tasks)
    return score_layout(fig, rows, tasks, height=440 + 12 * len(settings))


def transfer_heatmap(rows: list[dict], tasks: list[str]) -> go.Figure:
    """Row = task scored, column = partner, color = delta vs alone (diverging, 0 = white).

    ``rows`` are ``transfer.transfer_matrix`` rows. Each cell shows the delta; a cell without a verdict (95% CI
    includes 0, or one seed: no CI) is marked "?"; the diagonal (a task with itself) is empty.
    """
    cell = {(r["task"], r["partner"]): r for r in rows}
    z, text, hover = task_grid(tasks, lambda task, partner: cell.get((task, partner)), lambda r: (
        r["delta_mean"], compact(r["delta_mean"]) + ("" if r["significant"] else "?"), transfer_hover(r)))
    fig = signed_heatmap(z, text, hover, tasks, "gain", floor=0.01, tickformat="+.3f")
    return describe(fig, transfer_summary(rows), transfer_table(rows))


def compact(v: float) -> str:
    """A signed delta in few characters for a heatmap cell: "+.032", "-.217" (deltas of scores lie in [-1, 1])."""
    return f"{v:+.3f}".replace("0.", ".", 1)


CELL_FONT_PX = 11      # the cells' numbers: never smaller (Plotly would shrink them to fit otherwise)
NARROW_FIGURE_PX = 358  # a chart's width on a 390 px phone screen


def narrow_cell_px(tasks: list[str]) -> float:
    """About how wide a heatmap cell is on a phone screen: the figure less the task names and the axis title."""
    return (NARROW_FIGURE_PX - text_px(max(tasks, key=len, default="")) - 40) / max(len(tasks), 1)


def task_grid(tasks: list[str], find, show) -> tuple[list[list], list[list[str]], list[list[str]]]:
    """The task × partner grids of a heatmap: ``find(task, partner)`` gives a cell's record (None: empty cell),
    ``show(record)`` its (value, cell text, hover text). Rows are tasks, columns partners, both in ``tasks`` order."""
    z, text, hover = [], [], []
    for task in tasks:
        shown = [None if r is None else show(r) for r in (find(task, partner) for partner in tasks)]
        z.append([None if s is None else s[0] for s in shown])
        text.append(["" if s is None else s[1] for s in shown])
        hover.append(["" if s is None else s[2] for s in shown])
    return z, text, hover


def signed_heatmap(z: list[list[float | None]], text: list[list[str]], hover: list[list[str]], tasks: list[str],
                   colorbar_title: str, floor: float, tickformat: str = "+.3f") -> go.Figure:
    """Task × partner cells on a diverging scale centred on 0 (blue above, red below, white at 0).

    The color range is symmetric, at least ``floor`` wide, so tiny values do not look saturated; the colour bar
    writes its numbers in ``tickformat``, the format of the cells' text, fixed-point ones without trailing zeros
    ("+0.1", not "+0.100": five of those fit the bar's 220 px unrotated).
    """
    bar_format = tickformat.replace("f", "~f") if tickformat.endswith("f") and "~" not in tickformat else tickformat
    biggest = max([abs(v) for row in z for v in row if v is not None] + [floor])
    longest = max([text_px(t, 0.6 * CELL_FONT_PX) for row in text for t in row] + [0])
    fits = longest + 4 <= narrow_cell_px(tasks)  # else no text: the hover and the table carry the numbers
    fig = go.Figure(go.Heatmap(z=z, x=tasks, y=tasks, text=text, texttemplate="%{text}" if fits else "",
                               textfont=dict(size=CELL_FONT_PX), customdata=hover,
                               hovertemplate="%{customdata}<extra></extra>", colorscale=DIVERGING, zmid=0,
                               zmin=-biggest, zmax=biggest, xgap=2, ygap=2,
                               colorbar=dict(title=dict(text=colorbar_title, side="right"), tickformat=bar_format,
                                             thickness=12, orientation="h", x=0, xanchor="left", xref="container",
                                             y=0, yanchor="bottom", yref="container", len=220,
                                             lenmode="pixels", nticks=5)))
    fig.update_layout(height=200 + 60 * len(tasks), margin=dict(t=30, b=10, l=10, r=10))
    fig.update_xaxes(title="trained with (partner)", showgrid=False, automargin=True, tickangle=-30)
    fig.update_yaxes(title="task scored", autorange="reversed", showgrid=False, automargin=True)
    return fig

"""Layout properties of the charts (and two page helpers) that screenshots at 390 px and 1400 px showed broken:
checked on the figure objects, with the sizes a phone screen leaves a chart (``style.NARROW_PLOT_PX``)."""
from __future__ import annotations

import ast
import math
from pathlib import Path

import pandas as pd

from mtl_core.charts.relations import (
    ARROW_GAP,
    CELL_FONT_PX,
    NARROW_FIGURE_PX,
    estimate_scatter,
    narrow_cell_px,
    relation_graph,
    transfer_heatmap,
)
from mtl_core.charts.scores import BEST_LABEL, comparison_chart, curves_chart
from mtl_core.charts.style import LEGEND_ROW_PX, NARROW_PLOT_PX, legend_entries, legend_rows, text_px

ROOT = Path(__file__).resolve().parent.parent
TASKS = ["base", "related", "unrelated", "conflicting", "rare"]


def page_function(page: str, name: str, **namespace):
    """One function of a page script, without running the page (which draws with Streamlit)."""
    tree = ast.parse((ROOT / page).read_text())
    wanted = {name} | set(namespace.pop("also", ()))
    module = ast.Module(body=[n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in wanted],
                        type_ignores=[])
    exec(compile(module, page, "exec"), namespace)
    return namespace[name]


def curves(epochs: int, kind: str = "val") -> list[dict]:
    names = ["val_accuracy"] if kind == "val" else ["val_loss", "train_loss"]
    return [{"epoch": e, "task": t, "name": n, "value": 0.5} for e in range(1, epochs + 1) for t in TASKS
            for n in names]


# 1. Train: a queued run has no progress numbers: blank cells, not "None"
def test_queued_runs_show_blank_progress_cells():
    runs_table = page_function("pages/3_Train.py", "runs_table", pd=pd, also=["number"])
    runs = [{"id": 1, "setting": "single", "tasks": ["a"], "seed": 0, "status": "done", "error": None,
             "progress": {"epoch": 2, "epochs": 2, "best_epoch": 2, "val_score": 0.61234,
                          "examples_per_second": 812.4, "eta_seconds": 0}},
            {"id": 2, "setting": "single", "tasks": ["b"], "seed": 0, "status": "queued", "error": None,
             "progress": None}]
    table = runs_table(runs)
    queued = table.iloc[1]
    assert not table.isna().any().any()  # st.dataframe writes a missing value as "None"
    assert all(queued[c] == "" for c in ("epoch", "best epoch", "val score", "ex/s", "ETA s"))
    assert "None" not in table.to_csv() and "nan" not in table.to_csv().lower()
    assert (table.iloc[0]["val score"], table.iloc[0]["best epoch"], table.iloc[0]["ex/s"]) == ("0.612", "2", "812")


# 2. the best-epoch label stays inside the plot's width, wherever its line is
def test_best_epoch_label_reaches_away_from_the_nearer_edge_and_fits_a_phone():
    for epochs, best, side in ((10, 1, "left"), (10, 10, "right"), (2, 1, "left"), (2, 2, "right"), (9, 5, "left")):
        fig = curves_chart(curves(epochs), {t: "accuracy" for t in TASKS}, best_epoch=best)
        (label,) = [a for a in fig.layout.annotations if a.text == BEST_LABEL]
        assert label.xanchor == side and label.x == best
        lo, hi = fig.layout.xaxis.range
        at = (best - lo) / (hi - lo) * NARROW_PLOT_PX  # where the line is on a phone, px from the left
        reach = text_px(BEST_LABEL, 0.6 * label.font.size) + abs(label.xshift)
        assert (at + reach <= NARROW_PLOT_PX) if side == "left" else (at - reach >= 0)
        # above the plot, in the top margin it fits in: over no curve and no tick label
        assert label.yref == "paper" and label.y == 1 and label.yanchor == "bottom"
        assert fig.layout.margin.t >= label.font.size * 1.3


# 3. every legend entry shows, and the plot keeps its height
def test_a_long_legend_grows_the_figure_instead_of_squeezing_the_plot():
    lead = {t: "accuracy" for t in TASKS}
    loss = curves_chart(curves(2, "loss"), lead, best_epoch=2, kind="loss")
    names = legend_entries(loss)
    assert len(names) == 10 and "rare train loss" in names
    rows = legend_rows(names)
    assert rows >= 5  # one or two entries a row on a phone
    legend_px = rows * LEGEND_ROW_PX
    assert loss.layout.legend.maxheight >= legend_px  # Plotly's default (half the figure) scrolls entries away
    plot_px = loss.layout.height - legend_px - loss.layout.margin.t - loss.layout.margin.b - 60  # 60: x axis
    assert plot_px >= 200
    short = curves_chart(curves(2), {"a": "accuracy"}, best_epoch=2)
    assert short.layout.height == 360  # a short legend leaves the figure as it was


def test_growing_for_the_legend_is_done_once():
    from mtl_core.charts.style import legend_below
    fig = curves_chart(curves(2, "loss"), {t: "accuracy" for t in TASKS}, kind="loss")
    height = fig.layout.height
    assert legend_below(fig).layout.height == height


# 4. the scatter's title fits: every line inside the top margin, none wider than a phone-wide figure
def test_estimate_scatter_title_and_axis_title_fit_a_phone():
    points = [{"task": a, "partner": b, "transfer": 0.01 * i, "grad_cosine": 0.1 * i}
              for i, (a, b) in enumerate((a, b) for a in TASKS for b in TASKS if a != b)]
    agreement = {"spearman": -0.11, "ci_low": -0.58, "ci_high": 0.43, "n_pairs": 20}
    fig = estimate_scatter(points, "grad_cosine", agreement)
    title = fig.layout.title
    lines = title.text.split("<br>")
    assert len(lines) >= 2 and "Spearman -0.11" in title.text
    sizes = [12 if "font-size:12px" in line else title.font.size for line in lines]
    top, height = fig.layout.margin.t, fig.layout.height
    assert top >= sum(sizes) * 1.3 + 16  # every line, and room above and below
    assert title.yref == "container" and title.yanchor == "middle" and title.xanchor == "left"
    centre = (1 - title.y) * height  # px from the figure's top
    assert centre - sum(sizes) * 1.3 / 2 >= 4 and centre + sum(sizes) * 1.3 / 2 <= top - 4  # inside the margin
    assert all(title.pad.l + text_px(line, 0.6 * size) <= NARROW_FIGURE_PX for line, size in zip(lines, sizes))
    assert text_px(fig.layout.xaxis.title.text) <= NARROW_PLOT_PX  # the x axis title, line by line


# 5. value labels: above whiskers and baselines, horizontal; whiskers cut at 1; the axis shows them
def score_rows() -> list[dict]:
    rows = []
    for k, t in enumerate(TASKS):
        for setting, mean, half in (("single", 0.5 + 0.05 * k, 0.4), ("all", 0.45 + 0.1 * k, 0.3)):
            rows.append({"task": t, "setting": setting, "metric": "accuracy", "mean": mean, "ci_low": mean - half,
                         "ci_high": mean + half, "n_seeds": 2, "majority_baseline": 0.55})
        rows.append({"task": t, "setting": "tfidf-lr", "metric": "accuracy", "mean": 0.8, "ci_low": None,
                     "ci_high": None, "n_seeds": 1, "majority_baseline": 0.55})
    return rows


def test_bar_values_stand_clear_of_whiskers_and_baselines():
    rows = score_rows()
    fig = comparison_chart(rows)
    bars = [t for t in fig.data if t.type == "bar"]
    assert all(not b.text for b in bars)  # nothing written on the bars, where whiskers cross
    (labels,) = [t for t in fig.data if t.name == "values"]
    assert labels.textposition == "top center" and labels.textfont.size >= 10 and len(labels.text) == 10
    for bar in bars:
        for x, mean, up in zip(bar.x, bar.y, bar.error_y.array):
            shift = -0.2 if bar.name.startswith("single") else 0.2
            k = [i for i, (lx, _) in enumerate(zip(labels.x, labels.y)) if math.isclose(lx, x + shift)]
            assert len(k) == 1
            y = labels.y[k[0]]
            task = TASKS[x]
            tfidf = next(r["mean"] for r in rows if r["task"] == task and r["setting"] == "tfidf-lr")
            assert y >= mean + up - 1e-9 and y >= 0.55  # above its whisker and the majority line
            if shift > 0:
                assert y >= tfidf  # the diamond stands beside the right-hand bar
    for k in range(len(TASKS)):  # the two labels of one task are never side by side at one height
        left, right = labels.y[2 * k], labels.y[2 * k + 1]
        assert abs(left - right) >= 0.079


def test_whiskers_are_cut_at_1_and_the_axis_shows_everything_drawn():
    fig = comparison_chart(score_rows())
    bars = [t for t in fig.data if t.type == "bar"]
    tops = [m + u for b in bars for m, u in zip(b.y, b.error_y.array)]
    bottoms = [m - d for b in bars for m, d in zip(b.y, b.error_y.arrayminus)]
    assert max(tops) <= 1 + 1e-9 and min(bottoms) >= -1e-9
    over = [r["ci_high"] > 1 for r in score_rows() if r["setting"] == "single"] + \
        [r["ci_high"] > 1 for r in score_rows() if r["setting"] == "all"]
    hovers = [c for b in bars for c in b.customdata]
    assert any(over) and [("cut above 1" in c) for c in hovers] == over  # the hover says where a whisker is cut
    (labels,) = [t for t in fig.data if t.name == "values"]
    top = fig.layout.yaxis.range[1]
    assert top >= max(tops) and top >= max(labels.y) + 0.08
    assert max(fig.layout.yaxis.tickvals) == 1  # no tick promises a score above 1


# 6. Predict: the select box shows what tells the models apart first
def test_model_label_leads_with_setting_tasks_and_seed():
    run_label = page_function("pages/5_Predict.py", "run_label")
    label = run_label({"id": 32, "setting": "all", "tasks": TASKS, "seed": 1})
    assert label.index("seed 1") < 24 and label.startswith("all · 5 tasks")
    assert "run 32" in label and ", ".join(TASKS) in label  # the long part after
    assert run_label({"id": 7, "setting": "pair", "tasks": ["base", "rare"], "seed": 0}).startswith(
        "pair · base + rare · seed 0")


# 7. heatmap numbers readable or absent; graph arrows end at the node's edge, names outside the circle
def transfer_rows(tasks: list[str]) -> list[dict]:
    return [{"task": a, "partner": b, "delta_mean": -0.217 if a == tasks[-1] else 0.032, "ci_low": -0.3,
             "ci_high": 0.2, "n_seeds": 2, "significant": False, "verdict": "no clear difference"}
            for a in tasks for b in tasks if a != b]


def test_heatmap_cell_numbers_are_readable_on_a_phone_or_left_out():
    (heat,) = transfer_heatmap(transfer_rows(TASKS), TASKS).data
    assert heat.texttemplate == "%{text}" and heat.textfont.size >= 10  # 5 tasks: the numbers fit
    widest = max(text_px(t, 0.6 * CELL_FONT_PX) for row in heat.text for t in row)
    assert widest <= narrow_cell_px(TASKS)
    many = [f"task{i}" for i in range(12)]
    (crowded,) = transfer_heatmap(transfer_rows(many), many).data
    assert crowded.texttemplate == ""  # too small on a phone: the hover and the table carry them


def test_graph_arrows_stop_at_the_node_edge_and_names_sit_outside_the_circle():
    fig = relation_graph(transfer_rows(TASKS), TASKS)
    nodes = next(t for t in fig.data if t.name == "tasks")
    centres = dict(zip(nodes.text, zip(nodes.x, nodes.y)))
    for edge in (t for t in fig.data if "→" in (t.name or "")):
        target = edge.name.split(" → ")[1]
        tx, ty = centres[target]
        assert math.hypot(edge.x[-1] - tx, edge.y[-1] - ty) >= ARROW_GAP - 0.06  # (less the sideways shift)
    positions = dict(zip(nodes.text, nodes.textposition))
    assert positions["base"] == "top center"  # the top node: name above
    for task, (x, y) in centres.items():  # lower nodes: name below or beside, away from the arrows
        if y < -0.3:
            assert positions[task].startswith("bottom")
        if abs(y) <= 0.3:
            assert positions[task].startswith("middle")
    assert nodes.cliponaxis is False

"""What every figure shares: a colour-blind-safe palette (Okabe & Ito 2008), colours that stay visible on light and
dark backgrounds, legends outside the plot area, and a text alternative (a one-sentence summary and the plotted
numbers as rows) that the pages show under each chart for screen readers."""
from __future__ import annotations

import math
import re

import plotly.graph_objects as go

# Okabe-Ito (with grey in place of black, which vanishes on a dark background), ordered so the first colours differ
# most for every kind of colour vision; yellow (#F0E442) comes late: it is faint on white.
SERIES = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442", "#999999"]
BLUE, ORANGE, GREEN, VERMILLION, SKY, PURPLE = SERIES[:6]
# Lines that must show on white and on Streamlit's dark background (#0e1117): the majority line, whiskers, zero
# lines. #8c8c8c has 3.4:1 contrast on white and 5.6:1 on the dark background (WCAG asks 3:1 for graphics).
NEUTRAL = "#8c8c8c"
DIVERGING = "RdBu"  # blue = gain, red = loss: both ends stay apart for red-green colour blindness


def series_color(k: int) -> str:
    """The k-th series colour (cycling through the palette)."""
    return SERIES[k % len(SERIES)]


# What the narrowest screen checked (390 px, a phone) leaves a chart: about 280 px of plot area beside the y axis.
NARROW_PLOT_PX = 280
CHAR_PX = 7.5         # a character of the 13 px chart font, generously wide
LEGEND_ROW_PX = 22    # one legend row at that font
LEGEND_SYMBOL_PX = 45  # the symbol and gaps of one legend entry


def text_px(text: str, char_px: float = CHAR_PX) -> float:
    """About how wide ``text`` is drawn (tags such as <br> and <b> not counted: the longest line)."""
    lines = re.sub(r"<(?!br)[^>]+>", "", text or "").split("<br>")
    return char_px * max(len(line) for line in lines)


def legend_entries(fig: go.Figure) -> list[str]:
    """The names the legend lists (Plotly hides a one-trace legend unless asked)."""
    if fig.layout.showlegend is False:
        return []
    names = [t.name for t in fig.data if t.showlegend is not False and t.name]
    return names if len(names) > 1 or fig.layout.showlegend else []


def legend_rows(names: list[str], width: float = NARROW_PLOT_PX) -> int:
    """Rows a horizontal legend takes ``width`` px wide, as Plotly lays it out: one row when every entry fits on
    it, else columns as wide as the widest entry."""
    if not names:
        return 0
    widths = [LEGEND_SYMBOL_PX + text_px(n) for n in names]
    if sum(widths) < width:
        return 1
    return math.ceil(len(names) / max(1, int(width // max(widths))))


def legend_below(fig: go.Figure) -> go.Figure:
    """The legend under the figure, outside the plot area (it pushes the plot up instead of covering it), in rows
    that wrap on a narrow screen. The figure grows by the legend rows past two that a phone screen needs, so a long
    legend neither squeezes the plot nor scrolls entries out of sight (Plotly caps a legend at half the figure
    height unless told otherwise)."""
    rows = legend_rows(legend_entries(fig))
    grown = getattr(fig, "_legend_growth", 0)  # idempotent: a second call does not grow the figure again
    growth = max(0, rows - 2) * LEGEND_ROW_PX
    if fig.layout.height:
        fig.layout.height = fig.layout.height - grown + growth
        fig._legend_growth = growth
    fig.update_layout(legend=dict(orientation="h", yref="container", y=0, yanchor="bottom", x=0, xanchor="left",
                                  entrywidthmode="pixels", entrywidth=0, traceorder="normal",
                                  maxheight=max(rows, 1) * LEGEND_ROW_PX + 20))
    return fig


def describe(fig: go.Figure, summary: str, rows: list[dict]) -> go.Figure:
    """Attach the text alternative: ``summary`` (one sentence) and ``rows`` (the numbers drawn) in the figure's
    ``layout.meta``; ``text_alternative`` reads them back. Plotly passes ``meta`` through untouched."""
    fig.update_layout(meta={"summary": summary, "rows": rows})
    return fig


def text_alternative(fig: go.Figure) -> tuple[str, list[dict]]:
    """(summary sentence, data rows) of a figure made here; ("", []) for a figure without them."""
    meta = fig.layout.meta if isinstance(fig.layout.meta, dict) else {}
    return meta.get("summary", ""), list(meta.get("rows", []))


def round_rows(rows: list[dict], digits: int = 3) -> list[dict]:
    """Rows with floats rounded for reading (None and text unchanged)."""
    return [{k: round(v, digits) if isinstance(v, float) else v for k, v in r.items()} for r in rows]

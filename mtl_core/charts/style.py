"""What every figure shares: a colour-blind-safe palette (Okabe & Ito 2008), colours that stay visible on light and
dark backgrounds, legends outside the plot area, and a text alternative (a one-sentence summary and the plotted
numbers as rows) that the pages show under each chart for screen readers."""
from __future__ import annotations

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


def legend_below(fig: go.Figure) -> go.Figure:
    """The legend under the figure, outside the plot area (it pushes the plot up instead of covering it), in rows
    that wrap on a narrow screen."""
    fig.update_layout(legend=dict(orientation="h", yref="container", y=0, yanchor="bottom", x=0, xanchor="left",
                                  entrywidthmode="pixels", entrywidth=0, traceorder="normal"))
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

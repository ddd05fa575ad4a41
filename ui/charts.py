"""One way to place a figure on a page: the chart, its one-sentence summary under it and, folded, the numbers it
draws as a table (a text alternative for screen readers and for anyone who wants the numbers).

Charts are drawn on their own white panel with dark text in both the light and the dark theme: no single text colour
reaches 4.5:1 contrast on both Streamlit backgrounds (white and #0e1117), Streamlit's chart theme greys axis text
to about 3.7:1, and the theme the browser shows is not known reliably on a session's first run. On white, the
majority line, whiskers and every palette colour stay visible whatever theme the page uses.
"""
from __future__ import annotations

from typing import Callable

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from mtl_core.charts.style import text_alternative

Export = Callable[[object, str, str], None]  # export(figure, file name, widget key): a page's PNG / HTML buttons

TEXT = "#31333f"   # Streamlit's light-theme text: 12.6:1 on white
GRID = "#e5e5e5"


def readable(fig: go.Figure) -> go.Figure:
    """The figure on a white panel, every text (axes, legend, colour bar, annotations) in TEXT."""
    fig.update_layout(template="plotly_white", paper_bgcolor="white", plot_bgcolor="white",
                      font=dict(color=TEXT, size=13), legend_font_color=TEXT)
    fig.update_xaxes(tickfont_color=TEXT, title_font_color=TEXT, gridcolor=GRID, linecolor=TEXT)
    fig.update_yaxes(tickfont_color=TEXT, title_font_color=TEXT, gridcolor=GRID, zerolinecolor=GRID)
    fig.update_annotations(font_color=TEXT)
    return fig


def show_chart(fig: go.Figure, key: str, where=st) -> None:
    """The chart in ``where`` (the page or a column), its summary sentence and its data table (folded)."""
    where.plotly_chart(readable(fig), key=key, theme=None)
    summary, rows = text_alternative(fig)
    if summary:
        where.caption(summary)
    if rows:  # a plain HTML table (st.table): what screen readers read best
        with where.expander("The chart's numbers as a table"):
            st.table(pd.DataFrame(rows).set_index(list(rows[0])[0]))

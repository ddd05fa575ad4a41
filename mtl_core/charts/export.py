"""Exports: figures as PNG (kaleido, which drives a headless Chrome/Chromium) or HTML (rows as CSV:
``mtl_core.results.export``).

Kaleido 1.x renders through choreographer, which finds the browser in this order: the ``BROWSER_PATH``
environment variable, a Chrome that ``kaleido_get_chrome`` downloaded, then ``chrome``/``chromium`` on
``PATH`` and the usual install paths (Debian's ``/usr/bin/chromium`` among them). Plotly.js comes from the
installed plotly package and MathJax is switched off, so rendering needs no network.
"""
from __future__ import annotations

import plotly.graph_objects as go

from mtl_core.errors import MTLLabError


class ExportError(MTLLabError):
    """A figure could not be rendered as an image; the message says why and what to do instead."""


def find_browser() -> str | None:
    """The Chrome/Chromium kaleido will use, or None."""
    from choreographer.browsers.chromium import Chromium

    return Chromium.find_browser(skip_local=False)


def figure_png(fig: go.Figure, width: int | None = None, height: int | None = None, scale: float = 2) -> bytes:
    """The figure as PNG bytes; raises ExportError (never anything else) when no image can be made."""
    try:
        import kaleido
    except ImportError as exc:
        raise ExportError("PNG export needs the 'kaleido' package (pip install kaleido). "
                          "Use the HTML export instead.") from exc
    if find_browser() is None:
        raise ExportError("PNG export needs Chrome or Chromium and none was found. Install one "
                          "(e.g. `apt-get install chromium`) or set BROWSER_PATH to it. Use the HTML export instead.")
    opts = {"format": "png", "scale": scale, "width": width or fig.layout.width or 1000,
            "height": height or fig.layout.height or 500}
    try:
        data = kaleido.calc_fig_sync(fig, opts=opts, kopts={"mathjax": False, "timeout": 60})
    except Exception as exc:  # kaleido and the browser fail in many ways (sandbox, timeout, crash)
        raise ExportError(f"PNG export failed ({type(exc).__name__}: {exc}). Use the HTML export instead.") from exc
    if not isinstance(data, bytes) or not data.startswith(b"\x89PNG"):
        raise ExportError("PNG export returned no image. Use the HTML export instead.")
    return data


def figure_html(fig: go.Figure) -> str:
    """A standalone HTML file of the interactive figure (plotly.js embedded, works offline)."""
    return fig.to_html(include_plotlyjs=True, full_html=True)


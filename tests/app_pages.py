"""Open a page of the app in AppTest the way a user reaches it: through app.py, so links between pages resolve."""
from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def open_page(page: str | None = None, timeout: float = 90, **query) -> AppTest:
    """Run ``page`` (e.g. "pages/4_Compare.py"; None = the home page) with ``query`` as URL parameters."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    at.query_params.update(query)
    if page:
        at.switch_page(page)
    return at.run()

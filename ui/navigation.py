"""Every page runs through app.py, also when a server's very first request is a deep link such as /Compare.

Streamlit decides once per server process, when the first browser session opens, whether the app uses the legacy
``pages/`` folder (``PagesManager.uses_pages_directory``: True whenever a ``pages/`` folder sits beside the main
script) and keeps that answer until a script calls ``st.navigation``. If the first session opens a deep link, the
page file runs on its own: app.py never runs, so the password check is skipped (anyone could read results by never
opening "/"), and the sidebar shows the folder's menu (an extra "app" entry, no icons) until someone opens "/".

``run_through_app`` ends that state the first time code of ``ui`` runs in a process: it clears the flag and asks
Streamlit to run the script again, which now goes through app.py (password, ``st.navigation``) to the same page,
since the legacy page and app.py's page share the URL path and so the page hash.
"""
from __future__ import annotations


def run_through_app() -> None:
    """Clear the legacy pages-folder mode of this process and rerun through app.py (no-op outside a script run
    or when app.py's ``st.navigation`` already ran)."""
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    if not PagesManager.uses_pages_directory or get_script_run_ctx(suppress_warning=True) is None:
        return
    PagesManager.uses_pages_directory = False
    import streamlit as st

    st.rerun()

"""Streamlit helpers shared by app.py and pages/ (thin: everything else lives in mtl_core)."""
from ui.navigation import run_through_app

run_through_app()  # a server's first request being a deep link must still go through app.py (ui/navigation.py)

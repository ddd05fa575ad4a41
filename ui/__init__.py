"""Streamlit helpers shared by app.py and pages/ (thin: everything else lives in mtl_core)."""

"""Streamlit helpers shared by app.py and views/ (thin: everything else lives in mtl_core)."""

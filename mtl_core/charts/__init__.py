"""Plotly figures the pages place, and their exports (PNG, HTML, CSV). No Streamlit here."""

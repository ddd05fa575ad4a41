"""MTL Lab: the entry point (`streamlit run app.py`). Names the pages and their order; each page is a file.

Training never runs in a page's script thread: pages read the store and submit studies to the worker.
"""
from __future__ import annotations

import streamlit as st

from ui.auth import require_password

st.set_page_config(page_title="MTL Lab", page_icon=":material/science:", layout="wide")
require_password()
PAGES = [
    st.Page("pages/0_Home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/1_Data.py", title="Data", icon=":material/upload_file:", url_path="Data"),
    st.Page("pages/2_Tasks.py", title="Tasks", icon=":material/checklist:", url_path="Tasks"),
    st.Page("pages/3_Train.py", title="Train", icon=":material/timer:", url_path="Train"),
    st.Page("pages/4_Compare.py", title="Compare", icon=":material/bar_chart:", url_path="Compare"),
    st.Page("pages/5_Predict.py", title="Predict", icon=":material/online_prediction:", url_path="Predict"),
    st.Page("pages/6_Playground.py", title="Playground", icon=":material/tune:", url_path="Playground"),
    st.Page("pages/7_Studies.py", title="Studies", icon=":material/folder_open:", url_path="Studies"),
]
st.navigation(PAGES).run()

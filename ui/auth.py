"""An optional password for shared deployments (a classroom server): one shared secret, checked per session.

Set it in `.streamlit/secrets.toml` as `password = "..."` (Streamlit's secrets) or in the environment as
MTL_LAB_PASSWORD. With neither, the app is open — fine on localhost, where it binds by default.
"""
from __future__ import annotations

import hmac
import os

import streamlit as st


def configured_password() -> str | None:
    if os.environ.get("MTL_LAB_PASSWORD"):
        return os.environ["MTL_LAB_PASSWORD"]
    try:
        return st.secrets.get("password") or None
    except Exception:  # no secrets file at all: Streamlit raises rather than returning nothing
        return None


def require_password() -> None:
    """Stop the page with a password form until this session has entered the configured password."""
    expected = configured_password()
    if not expected or st.session_state.get("auth_ok"):
        return
    st.title("MTL Lab")
    with st.form("login"):
        given = st.text_input("Password", type="password", key="auth_password")
        entered = st.form_submit_button("Enter")
    if entered and hmac.compare_digest(given.encode(), expected.encode()):
        st.session_state["auth_ok"] = True
        st.rerun()
    if entered:
        st.error("Wrong password. Ask whoever runs this server for it.")
    st.stop()

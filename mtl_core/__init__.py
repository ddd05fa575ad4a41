"""MTL Lab core library: data -> tasks -> shared-backbone models -> studies -> store.

Never imports streamlit; the app in ``app.py`` / ``pages/`` is a thin face over this package.
"""
__version__ = "0.1.0"

"""The file names of a study's exports: the study's name and id, safe on every file system."""
from __future__ import annotations

import re
import unicodedata

MAX_NAME_CHARS = 60  # of the name part; the id is always kept whole


def _safe(text: str) -> str:
    """ASCII letters, digits, '.', '_' and '-' only; every other run of characters becomes one '-'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^A-Za-z0-9._]+", "-", ascii_text).strip("-._")


def export_basename(study_name: str, study_id: str) -> str:
    """A file stem "<name>-<id>" for a study's exports, e.g. ``export_basename("ABSA / 5 aspects", "2026-1")``
    -> ``"ABSA-5-aspects-2026-1"``: no path separators, spaces or leading dots; "study" when the name has no
    usable character."""
    name = _safe(study_name or "")[:MAX_NAME_CHARS].rstrip("-._") or "study"
    return f"{name}-{_safe(study_id) or 'unknown'}"

"""Result rows as CSV: text for the pages' download buttons, files for the CLI. One writer for both."""
from __future__ import annotations

import csv
import io
from pathlib import Path


def rows_csv(rows: list[dict], columns: list[str] | None = None) -> str:
    """Rows as CSV text, header first; ``columns`` default to the first row's keys, other keys are left out."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns or (list(rows[0]) if rows else []), extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def write_csv(rows: list[dict], path: str | Path, columns: list[str]) -> Path:
    """``rows`` as a CSV file with a header of ``columns`` (folders created as needed)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(rows_csv(rows, columns), encoding="utf-8", newline="")
    return path

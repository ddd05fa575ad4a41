"""``export STUDY --report`` and ``export STUDY --mlflow``: a stored study as files to hand on, or as an MLflow
experiment (``mtl_core.report`` makes both)."""
from __future__ import annotations

from pathlib import Path

from mtl_core.store import Store


def write_report(store: Store, study_id: str, out: Path) -> list[Path]:
    """``<name-id>.html`` and ``<name-id>-csv.zip`` in ``out``; returns their paths."""
    from mtl_core.report.bundle import study_csv_zip
    from mtl_core.report.html import study_report_html
    from mtl_core.report.names import export_basename

    page = study_report_html(store, study_id)  # a ConfigError naming the store when there is no such study
    study = store.study(study_id)
    stem = export_basename(study["name"], study_id)
    out.mkdir(parents=True, exist_ok=True)
    html, bundle = out / f"{stem}.html", out / f"{stem}-csv.zip"
    html.write_text(page, encoding="utf-8")
    bundle.write_bytes(study_csv_zip(store, study_id))
    return [html, bundle]


def log_to_mlflow(store: Store, study_id: str, tracking_uri: str | None, out: str | None) -> str:
    """Export to MLflow; returns the line the CLI prints (counts, and where to look)."""
    from mtl_core.report.mlflow_export import default_tracking_uri, export_to_mlflow

    done = export_to_mlflow(store, study_id, tracking_uri or (default_tracking_uri(out) if out else None))
    return (f"MLflow: experiment {done['experiment_id']} in {done['tracking_uri']}: {done['runs']} runs "
            f"({done['created']} new, {done['updated']} updated, {done['unchanged']} unchanged)")

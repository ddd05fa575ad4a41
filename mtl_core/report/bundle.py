"""Every CSV table of a study in one zip: ``<name-id>-csv/summary.csv``, ``gains.csv``, ``runs.csv``, ... (the tables
of ``report.tables``; one with no rows, e.g. transfer without pair runs, is left out)."""
from __future__ import annotations

import io
import zipfile

from mtl_core.report.names import export_basename
from mtl_core.report.reproduce import spec_json
from mtl_core.report.tables import study_tables
from mtl_core.results.export import rows_csv
from mtl_core.results.study_results import StudyResults
from mtl_core.store import Store


def study_csv_zip(store: Store, study_id: str) -> bytes:
    """The zip's bytes: one CSV per table, plus spec.json (what runs the study again); files inside a folder named
    like the zip. A ConfigError when there is no such study."""
    results = StudyResults.load(store, study_id)
    folder = export_basename(results.name, results.id) + "-csv"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for table in study_tables(results).tables:
            z.writestr(f"{folder}/{table.name}.csv", rows_csv(table.rows, table.columns))
        z.writestr(f"{folder}/spec.json", spec_json(results.spec))
    return out.getvalue()

"""The files a study writes for the command line: summary, transfer, relatedness tables, a verification's
predicted vs measured grouping, predictions."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from mtl_core.results.export import write_csv

if TYPE_CHECKING:
    from mtl_core.results.study_results import StudyResults


def write_summary(results: StudyResults, out: Path) -> list[dict]:
    """summary.csv (every metric) and gains.csv (together vs alone, paired by seed, on every metric a task
    reports: pick rows by the ``metric`` column); returns the summary rows."""
    from mtl_core.results.gains import SETTING_DELTA_COLUMNS, paired_deltas
    from mtl_core.results.summary import COLUMNS, summary_rows

    rows = summary_rows(results)
    write_csv(rows, out / "summary.csv", COLUMNS)
    gains: dict[tuple, dict] = {}
    for chosen in results.metric_choices():  # a task without the chosen metric falls back to its lead: once each
        for d in paired_deltas(results.scores, results.metrics_for(chosen)):
            gains.setdefault((d["task"], d["setting"], d["metric"]), d)
    write_csv(list(gains.values()), out / "gains.csv", SETTING_DELTA_COLUMNS)
    return rows


def study_report(results: StudyResults, rows: list[dict]) -> str:
    """What the CLI prints: the summary table (intervals only from 2 seeds on), then a plain warning for every
    task whose model is not above its majority baseline or is below TF-IDF + LR, with the likely reason."""
    from mtl_core.results.health import task_warnings
    from mtl_core.results.summary import format_table

    warnings = task_warnings(results, rows)
    return format_table(rows) + "".join(f"\nWARNING {w['warning']}" for w in warnings)


def write_transfer(results: StudyResults, out: Path) -> list[dict]:
    """transfer.csv beside summary.csv when the study ran pairs; returns the transfer rows (none without pairs)."""
    from mtl_core.results.transfer import TRANSFER_COLUMNS, transfer_matrix

    rows = transfer_matrix(results)
    if rows:
        write_csv(rows, out / "transfer.csv", TRANSFER_COLUMNS)
    return rows


def write_relatedness(results: StudyResults, transfer: list[dict], out: Path) -> list[Path]:
    """affinity.csv (runs with affinity_every > 0), grouping.csv (recommended groupings from transfer and/or
    affinity) and estimates.csv (how well the cheap estimates rank-predict transfer), each when there is data."""
    from mtl_core.report.tables import relatedness_tables
    from mtl_core.results.affinity import affinity_matrix

    return [write_csv(t.rows, out / f"{t.name}.csv", t.columns)
            for t in relatedness_tables(results, transfer, affinity_matrix(results)) if t.rows]


def write_verification(results: StudyResults, out: Path) -> list[Path]:
    """verification.csv (per task: predicted vs measured in its group, beside alone and all together) and
    verification_summary.csv (mean per-task score of the grouping vs all together vs each alone, paired by seed)
    for a verification study (``studies.verify``); nothing for any other study."""
    from mtl_core.results.verification import (
        SUMMARY_COLUMNS,
        VERIFICATION_COLUMNS,
        verification_rows,
        verification_summary,
    )

    rows = verification_rows(results)
    if not rows:
        return []
    return [write_csv(rows, out / "verification.csv", VERIFICATION_COLUMNS),
            write_csv(verification_summary(results), out / "verification_summary.csv", SUMMARY_COLUMNS)]


PREDICTION_COLUMNS = ["row", "text", "gold", "predicted"]


def write_predictions(stored: StudyResults, results: dict, folder: Path) -> None:
    """One file per run and task: CSV (row, text, gold, predicted) or, for tagging, CoNLL columns.

    ``stored``: the study's ``StudyResults``; ``results``: run id -> its RunResult (``run_study``)."""
    from mtl_core.results.study_results import setting_label
    from mtl_core.studies.presets import load_study_source

    runs = {r["id"]: r for r in stored.runs}
    corpus = load_study_source(stored.spec["source"], stored.spec.get("data_dir")).corpus
    folder.mkdir(parents=True, exist_ok=True)
    for run_id, result in results.items():
        run = runs[run_id]
        for task, items in result.predictions.items():
            safe = "".join(ch if ch.isalnum() else "_" for ch in task)
            label = setting_label(run["setting"], run["tasks"], task).replace(":", "-")  # pairs: with-<partner>
            stem = folder / f"{label}_seed{run['seed']}_{safe}"
            if items and isinstance(items[0][1], list):
                with open(f"{stem}.conll", "w", encoding="utf-8") as fh:
                    for row, gold, pred in items:
                        words = (corpus.tokens[row] if corpus.tokens else None) or corpus.texts[row].split()
                        fh.writelines(f"{w} {g} {p}\n" for w, g, p in zip(words, gold, pred))
                        fh.write("\n")
            else:
                write_csv([{"row": row, "text": corpus.texts[row], "gold": gold, "predicted": pred}
                           for row, gold, pred in items], f"{stem}.csv", PREDICTION_COLUMNS)

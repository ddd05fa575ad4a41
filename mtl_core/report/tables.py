"""Every table of one study, computed once from its ``StudyResults``: what the HTML report shows and the CSV zip
holds. Each table is a name (its CSV file name without ".csv"), its rows and its columns, in reading order."""
from __future__ import annotations

import json
from dataclasses import dataclass

from mtl_core.relatedness.checks import CHECK_COLUMNS, POINT_COLUMNS
from mtl_core.relatedness.group_search import GROUPING_COLUMNS as PREDICTED_GROUPING_COLUMNS
from mtl_core.relatedness.surrogate import RELEVANCE_COLUMNS
from mtl_core.results.affinity import COLUMNS as AFFINITY_COLUMNS
from mtl_core.results.affinity import affinity_matrix
from mtl_core.results.estimate_quality import AGREEMENT_COLUMNS, estimate_agreement, pair_points
from mtl_core.results.gains import SETTING_DELTA_COLUMNS, paired_deltas
from mtl_core.results.grouping import COLUMNS as GROUPING_COLUMNS
from mtl_core.results.grouping import grouping_rows
from mtl_core.results.study_results import StudyResults
from mtl_core.results.subset_estimates import has_subsets, subset_analysis
from mtl_core.results.summary import AUX_COLUMNS, COLUMNS, auxiliary_rows, summary_rows
from mtl_core.results.transfer import TRANSFER_COLUMNS, transfer_matrix

BASELINE_COLUMNS = ["task", "method", "metric", "value", "n"]
RUN_COLUMNS = ["run_id", "setting", "tasks", "seed", "status", "best_epoch", "epochs_run", "train_seconds",
               "examples_per_second", "device", "error"]
CURVE_COLUMNS = ["run_id", "setting", "tasks", "seed", "epoch", "task", "name", "value"]


@dataclass
class Table:
    name: str            # the CSV file's stem: summary, gains, transfer, ...
    title: str           # a heading for the report
    rows: list[dict]
    columns: list[str]


@dataclass
class StudyTables:
    """The study's results, computed once: the tables, and the rows the charts are drawn from."""

    results: StudyResults
    summary: list[dict]
    gains: list[dict]
    transfer: list[dict]
    affinity: list[dict]
    tables: list[Table]

    def table(self, name: str) -> Table | None:
        return next((t for t in self.tables if t.name == name), None)


def run_rows(results: StudyResults) -> list[dict]:
    """One row per run of the study, any status (RUN_COLUMNS)."""
    return [{"run_id": r["id"], "setting": r["setting"], "tasks": "+".join(r["tasks"]), "seed": r["seed"],
             "status": str(r["status"]), **{k: r.get(k) for k in RUN_COLUMNS[5:]}} for r in results.runs]


def curve_rows(results: StudyResults) -> list[dict]:
    """Every finished run's per-epoch curve rows (CURVE_COLUMNS), runs in id order."""
    if results.curves is None:
        return []
    return [{"run_id": r["id"], "setting": r["setting"], "tasks": "+".join(r["tasks"]), "seed": r["seed"],
             **{k: c[k] for k in ("epoch", "task", "name", "value")}}
            for r in results.finished_runs for c in results.run_curves(r["id"])]


def relatedness_tables(results: StudyResults, transfer: list[dict], affinity: list[dict]) -> list[Table]:
    """Lookahead affinity, the recommended groupings and how well the cheap estimates rank-predict ``transfer``
    (the study's ``transfer_matrix``), each with its rows, even when empty; written as CSVs by the CLI's ``study``
    and ``export``, and part of every report. A study of sampled subsets (plan "subsets") also has the surrogate's
    relevance, its predicted grouping and the predicted-vs-measured points, and its estimates table checks every
    estimate against held-out subsets (``relatedness.checks``) instead."""
    tables = [
        Table("affinity", "Lookahead affinity between tasks", affinity, AFFINITY_COLUMNS),
        Table("grouping", "Recommended task groups", grouping_rows(results, transfer, affinity), GROUPING_COLUMNS),
    ]
    if not has_subsets(results):
        points = pair_points(results, transfer, affinity) if transfer else []
        return tables + [Table("estimates", "Do the cheap estimates predict measured transfer?",
                               estimate_agreement(points), AGREEMENT_COLUMNS)]
    found = subset_analysis(results)
    return tables + [
        Table("relevance", "What each partner adds to each task (surrogate weights, 95% bootstrap CI)",
              found.relevance, RELEVANCE_COLUMNS),
        Table("surrogate_grouping", "Task groups the surrogate predicts best (a prediction, not a measurement)",
              found.grouping, PREDICTED_GROUPING_COLUMNS),
        Table("estimates", "Does each estimate rank the gains of held-out subsets? (vs the noise ceiling)",
              found.estimates, CHECK_COLUMNS),
        Table("estimate_points", "Predicted vs measured gain on held-out subsets", found.points, POINT_COLUMNS),
    ]


def study_tables(results: StudyResults) -> StudyTables:
    """Every table the study has data for; a table with no rows (no pairs, no affinity, ...) is left out."""
    summary = summary_rows(results)
    gains = paired_deltas(results.scores, results.lead)
    transfer = transfer_matrix(results)
    affinity = affinity_matrix(results)
    candidates = [
        Table("summary", "Test scores per task and setting (mean and 95% CI over seeds)", summary, COLUMNS),
        Table("gains", "Gain over training alone (paired by seed) and its verdict", gains, SETTING_DELTA_COLUMNS),
        Table("baselines", "Baselines on the same test split", results.baselines, BASELINE_COLUMNS),
        Table("transfer", "Transfer between pairs of tasks", transfer, TRANSFER_COLUMNS),
        *relatedness_tables(results, transfer, affinity),
        Table("auxiliary", "Automatic auxiliary tasks (inspection only)", auxiliary_rows(results), AUX_COLUMNS),
        Table("runs", "Every run", run_rows(results), RUN_COLUMNS),
        Table("curves", "Per-epoch curves of every finished run", curve_rows(results), CURVE_COLUMNS),
    ]
    return StudyTables(results, summary, gains, transfer, affinity, [t for t in candidates if t.rows])


def cell_text(value) -> str:
    """A table cell as text: floats to 4 decimals, lists and dicts as JSON, None empty."""
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if value != value else f"{value:.4f}"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)

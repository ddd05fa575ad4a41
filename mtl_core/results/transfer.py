"""The transfer matrix: how much each task gains from being trained with each partner.

transfer(task <- partner) = score of ``task`` in the pair run (task, partner) minus its score alone, on the
task's lead metric, paired over seeds; ``significant`` when the 95% CI of that delta excludes 0.
"""
from __future__ import annotations

from pathlib import Path

from mtl_core.results.gains import lead_metrics, setting_deltas
from mtl_core.results.summary import labelled_scores, write_csv
from mtl_core.store import Store

TRANSFER_COLUMNS = ["task", "partner", "delta_mean", "ci_low", "ci_high", "significant"]


def transfer_matrix(store: Store, study_id: str) -> list[dict]:
    """Rows of TRANSFER_COLUMNS, one per ordered (task, partner) pair that has pair runs (row task scored).

    Empty when the study ran no pairs (plan "pairs" runs them).
    """
    tasks = (store.study(study_id) or {}).get("tasks") or {}
    deltas = setting_deltas(labelled_scores(store, study_id), lead_metrics(tasks))
    return [dict(zip(TRANSFER_COLUMNS, [d["task"], d["setting"][len("with:"):], d["delta"], d["ci_low"],
                                        d["ci_high"], d["significant"]]))
            for d in deltas if d["setting"].startswith("with:")]


def write_transfer(rows: list[dict], path: str | Path) -> Path:
    return write_csv(rows, path, TRANSFER_COLUMNS)

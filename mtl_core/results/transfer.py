"""The transfer matrix: how much each task gains from being trained with each partner.

transfer(task <- partner) = score of ``task`` in the pair run (task, partner) minus its score alone, on the
task's lead metric, paired over seeds; ``significant`` when the 95% CI of that delta excludes 0.
"""
from __future__ import annotations

from mtl_core.results.gains import paired_deltas
from mtl_core.results.study_results import StudyResults

TRANSFER_COLUMNS = ["task", "partner", "delta_mean", "ci_low", "ci_high", "significant"]


def transfer_matrix(results: StudyResults) -> list[dict]:
    """Rows of TRANSFER_COLUMNS, one per ordered (task, partner) pair that has pair runs (row task scored).

    Empty when the study ran no pairs (plan "pairs" runs them). Compute it once per study and pass it on: the
    relatedness analyses (estimates, groupings) take these rows.
    """
    return [dict(zip(TRANSFER_COLUMNS, [d["task"], d["setting"][len("with:"):], d["delta"], d["ci_low"],
                                        d["ci_high"], d["significant"]]))
            for d in paired_deltas(results.scores, results.lead) if d["setting"].startswith("with:")]

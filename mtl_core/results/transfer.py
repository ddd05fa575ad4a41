"""The transfer matrix: how much each task gains from being trained with each partner.

transfer(task <- partner) = score of ``task`` in the pair run (task, partner) minus its score alone, on the
task's lead metric (or the metric ``metrics`` names), paired over seeds; ``significant`` when the 95% CI of that
delta excludes 0; ``verdict`` in the words of ``verdict.verdict`` (one seed: no CI, "run ≥ 2 seeds").
"""
from __future__ import annotations

from mtl_core.results.gains import paired_deltas
from mtl_core.results.study_results import StudyResults

TRANSFER_COLUMNS = ["task", "partner", "metric", "delta_mean", "ci_low", "ci_high", "n_seeds", "significant",
                    "verdict"]


def transfer_matrix(results: StudyResults, metrics: dict[str, str] | None = None) -> list[dict]:
    """Rows of TRANSFER_COLUMNS, one per ordered (task, partner) pair that has pair runs (row task scored).

    Empty when the study ran no pairs (plan "pairs" runs them). Compute it once per study and pass it on: the
    relatedness analyses (estimates, groupings) take these rows.
    """
    return [dict(zip(TRANSFER_COLUMNS, [d["task"], d["setting"][len("with:"):], d["metric"], d["delta"], d["ci_low"],
                                        d["ci_high"], d["n_seeds"], d["significant"], d["verdict"]]))
            for d in paired_deltas(results.scores, metrics or results.lead) if d["setting"].startswith("with:")]

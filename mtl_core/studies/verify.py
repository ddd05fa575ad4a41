"""A subsets study's predicted grouping, as a study that measures it: the verification of a prediction.

A finished "subsets" study fits a surrogate of each task's score from its partners and predicts the best grouping
under a limit of ``max_groups`` groups (``relatedness.group_search``; the Relatedness page and
``results.subset_estimates.subset_analysis`` show the same one). Until trained, that grouping is a prediction.
``verification_spec`` turns it into a study of plan "groups" on the parent's source, tasks, split, method and (by
default) number of seeds that trains each task alone, every recommended group of two or more tasks, and every task
together (``with_all``): the grouping is then measured beside each-alone and all-together on the same split,
paired by seed (``results.verification``). The prediction is stored in the spec (``StudySpec.verifies``).

Its seeds follow the parent's (a parent of seeds 0-2 is verified on seeds 3, 4, ...): training is deterministic
for a seed, so on the parent's own seeds every alone and all-together run (and any recommended group that was a
sampled subset) would come out exactly as the runs the surrogate was fitted on, trained again for nothing and no
test of the prediction. On new seeds the verification is evidence the surrogate has not seen.

Predictions are each task's lead metric. The surrogate is fitted here without its bootstrap (``resamples=0``):
the intervals of its weights are not needed, and its predictions do not depend on them.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from mtl_core.errors import ConfigError
from mtl_core.relatedness.group_search import PredictedGrouping, best_predicted_grouping
from mtl_core.relatedness.surrogate import Surrogate, fit_surrogate, measurements_from_scores
from mtl_core.status import Status
from mtl_core.studies.spec import StudySpec, spec_from_dict

if TYPE_CHECKING:  # studies may not import results (layers): a StudyResults is read through its attributes
    from mtl_core.results.study_results import StudyResults


def _check_parent(parent: StudyResults) -> None:
    plan = parent.spec.get("plan")
    if plan != "subsets":
        raise ConfigError(f"Study {parent.id} ({parent.name!r}) is a {plan!r} study; only a 'subsets' study predicts "
                          "a grouping to verify. Run one first (`--plan subsets`, or the Tasks page's plan "
                          "'subsets'), then verify it.")
    if parent.status != Status.DONE:
        raise ConfigError(f"Study {parent.id} ({parent.name!r}) is {parent.status}, not done: its grouping can be "
                          "verified once every run has finished. Wait for it, or retry its failed runs.")


def _surrogate(parent: StudyResults, tasks: list[str]) -> Surrogate:
    """The parent's surrogate on each task's lead metric, as ``subset_analysis`` fits it (same measurements)."""
    return fit_surrogate(measurements_from_scores(parent.runs, parent.scores, parent.lead), tasks, resamples=0)


def recommended_grouping(parent: StudyResults, max_groups: int | None = None) -> tuple[PredictedGrouping, Surrogate]:
    """The surrogate's best grouping of every task of ``parent`` into at most ``max_groups`` groups (default: no
    limit), and the surrogate; a ConfigError that says why when some task has no surrogate."""
    tasks = list(parent.tasks) or sorted({t for r in parent.runs for t in r["tasks"]})
    surrogate = _surrogate(parent, tasks)
    unknown = [t for t in tasks if t not in surrogate.models
               or set(tasks) - {t} - set(surrogate.models[t].partners)]
    if unknown:
        why = "; ".join(f"{t}: {surrogate.skipped.get(t, 'never trained with every other task')}" for t in unknown)
        raise ConfigError(f"Study {parent.id} cannot predict a grouping of every task ({why}). Retry its failed "
                          "runs, or run a subsets study with a larger budget.")
    return best_predicted_grouping(tasks, surrogate.predicted_gain, max_groups), surrogate


def verification_spec(parent: StudyResults, max_groups: int | None = None, seeds: int | None = None) -> StudySpec:
    """The study that verifies ``parent``'s recommended grouping under ``max_groups`` (see the module docstring).

    ``seeds``: default the parent's. ``spec.verifies`` = {"study": parent id, "max_groups": the limit used,
    "groups": [[task, ...], ...], "predicted": {task: predicted score in its group}, "predicted_gain": {task: that
    minus its predicted score alone}, "metrics": {task: the metric predicted}}. Refused (ConfigError) for a parent
    that is not a finished subsets study, and when the recommendation is every task alone (nothing to verify).
    """
    _check_parent(parent)
    if seeds is not None and (isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1):
        raise ConfigError(f"The 'seeds' of a verification must be a whole number >= 1. Got {seeds!r} instead.")
    grouping, surrogate = recommended_grouping(parent, max_groups)
    limit = min(max_groups or len(grouping.predicted_gain), len(grouping.predicted_gain))
    if all(len(g) == 1 for g in grouping.groups):
        raise ConfigError(f"The surrogate of study {parent.id} predicts no gain from training any tasks together "
                          f"(best grouping under {limit} group(s): every task alone), so there is nothing to verify. "
                          "Its all-together and each-alone runs already measure the alternatives; for a sharper "
                          "prediction, run a subsets study with a larger budget or more seeds.")
    spec = spec_from_dict(parent.spec)
    spec.name = f"{parent.name} · verify k={limit}"
    spec.plan, spec.groups, spec.budget, spec.with_all = "groups", grouping.groups, None, True
    spec.seeds = seeds if seeds is not None else spec.seeds
    spec.first_seed = max((r["seed"] for r in parent.runs), default=-1) + 1  # seeds the surrogate never saw
    spec.verifies = {"study": parent.id, "max_groups": limit, "groups": grouping.groups,
                     "predicted": {t: surrogate.predict(t, g) for g in grouping.groups for t in g},
                     "predicted_gain": dict(grouping.predicted_gain), "metrics": dict(parent.lead)}
    return spec

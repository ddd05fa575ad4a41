"""More seeds for a finished study: when its intervals are too wide to tell settings apart, the same runs again with
new seeds, on the same split, beside the runs it has (kept, never trained again). The study is then queued like
any other (``queue.queue_more_seeds``) or trained here by the CLI, and its results read over all its seeds.

The new runs repeat, for each new seed, exactly the (setting, tasks) of the study's runs with its first seed: the
plan gives every seed the same runs (a subsets study's sampled subsets, a verification's groups), so the runs are
copied, not planned again. The new seeds follow the largest one the study has (seeds 0-2 get 3, 4, ...)."""
from __future__ import annotations

from mtl_core.errors import ConfigError
from mtl_core.status import SETTLED, Status
from mtl_core.store import Store
from mtl_core.training.config import RunConfig

MAX_ADDED_SEEDS = 20  # one request; a study may be given more seeds again later


def new_seed_runs(runs: list[dict], n: int) -> list[tuple[str, list[str], int]]:
    """(setting, tasks, seed) of ``n`` new seeds' runs: the runs of the study's first seed, for each new seed."""
    seeds = sorted({r["seed"] for r in runs})
    first = [(r["setting"], list(r["tasks"])) for r in runs if r["seed"] == seeds[0]]
    return [(setting, tasks, seed) for seed in range(seeds[-1] + 1, seeds[-1] + 1 + n) for setting, tasks in first]


def add_seeds(study_id: str, n: int, store: Store, backend: str = "queue") -> list[int]:
    """Add ``n`` seeds to the settled study ``study_id``: its runs for each new seed, queued, and its spec's seed
    count raised; returns the new seeds. ``backend``: who executes it ("queue": the workers; "inline": the caller).
    A study that is still queued or running, that never planned its runs, or an ``n`` out of range: ConfigError,
    nothing changed."""
    if not 1 <= n <= MAX_ADDED_SEEDS:
        raise ConfigError(f"Seeds to add must be between 1 and {MAX_ADDED_SEEDS}. Got {n} instead.")
    study = store.study(study_id)
    if study is None:
        raise ConfigError(f"No study {study_id!r} in {store.path}. See `python -m mtl_core studies` for the ids.")
    if study["status"] not in SETTLED:
        raise ConfigError(f"Study {study_id} is {study['status']}: seeds are added to a finished study. Wait for it "
                          "to finish, or cancel it first.")
    runs = store.runs(study_id)
    if not runs:
        raise ConfigError(f"Study {study_id} has no runs to repeat (its data never loaded: {study.get('error')}). "
                          "Fix the data and start a new study.")
    planned = new_seed_runs(runs, n)
    spec = {**study["spec"], "seeds": len({r["seed"] for r in runs}) + n}
    config = RunConfig.from_dict(spec.get("config", {})).to_dict()
    if not store.add_seed_runs(study_id, spec, planned, config, backend):
        raise ConfigError(f"Study {study_id} was started again meanwhile; nothing was added.")
    return sorted({seed for _, _, seed in planned})


def seconds_per_seed(runs: list[dict]) -> float | None:
    """Training seconds one seed of the study took (its done runs' summed wall time over its seeds): what each
    added seed will take on the same machine; None when no done run kept its times."""
    timed = [r for r in runs if r["status"] == Status.DONE and r.get("started") and r.get("finished")]
    if not timed:
        return None
    return sum(r["finished"] - r["started"] for r in timed) / len({r["seed"] for r in timed})

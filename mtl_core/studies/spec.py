"""What a study is, before any data is loaded: its spec (data source, tasks, plan, seeds, run settings) and the
runs its plan asks for. No torch here: every page and the CLI read specs without paying for the trainer."""
from __future__ import annotations

from dataclasses import dataclass, field, fields

from mtl_core.errors import ConfigError
from mtl_core.relatedness.subsets import sample_subsets
from mtl_core.studies.presets import get_preset

PLANS = ("singles+all", "singles", "all", "pairs", "groups", "subsets")


@dataclass
class StudySpec:
    name: str
    source: dict                       # see sources.load_source
    tasks: list[str] | None = None     # None: every task of the corpus
    seeds: int = 3
    first_seed: int = 0                # seeds first_seed .. first_seed + seeds - 1 (a verification: after its parent's)
    plan: str = "singles+all"
    config: dict = field(default_factory=dict)
    split: dict = field(default_factory=lambda: {"test_size": 0.2, "val_size": 0.1, "seed": 0})
    data_dir: str | None = None
    groups: list[list[str]] | None = None  # plan "groups": the task groups to train together
    budget: int | None = None              # plan "subsets": how many sampled task subsets to train
    with_all: bool = False                 # plan "groups": also train every task together ('all')
    verifies: dict | None = None           # a verification of a subsets study's predicted grouping (studies.verify)

    @classmethod
    def from_preset(cls, preset: str, **overrides) -> "StudySpec":
        p = get_preset(preset)
        spec = cls(name=preset, source={"preset": preset}, tasks=p.get("tasks"), config=dict(p.get("config", {})),
                   split={"seed": 0, **p.get("split", {})}, plan=p.get("plan", "singles+all"), seeds=p.get("seeds", 3))
        for key, value in overrides.items():
            if value is not None:
                setattr(spec, key, value)
        return spec

    def to_dict(self) -> dict:
        return dict(self.__dict__)

    def planned_runs(self, tasks: list[str]) -> list[tuple[str, list[str], int]]:
        """(setting, tasks, seed) of every run this study trains on ``tasks`` (see ``plan_runs``)."""
        return plan_runs(tasks, self.plan, self.seeds, self.groups, self.budget, self.with_all, self.first_seed)


def plan_runs(tasks: list[str], plan: str, seeds: int, groups: list[list[str]] | None = None,
              budget: int | None = None, with_all: bool = False,
              first_seed: int = 0) -> list[tuple[str, list[str], int]]:
    """(setting, tasks, seed) for every run, the same runs for every seed (``first_seed`` onwards).

    Settings: 'single' (a task alone), 'all' (every task together), 'pair' (two tasks; plan "pairs"),
    'group' (a custom group; plan "groups", which also trains every task alone as the baseline, and with
    ``with_all`` every task together too: a group of every task is then that 'all' run) and 'subset'
    (plan "subsets": ``budget`` task subsets sampled by ``relatedness.subsets.sample_subsets`` with seed 0, the
    same for every seed, besides every task alone and all together).
    With two tasks the pair is all of them, so "pairs" then trains it once, as 'pair'.
    """
    if plan not in PLANS:
        raise ConfigError(f"The 'plan' option must be one of {set(PLANS)}. Got {plan!r} instead.")
    alone = ("singles+all", "singles", "pairs", "groups", "subsets")
    planned = [("single", [t]) for t in tasks] if plan in alone else []
    if plan == "pairs":
        planned += [("pair", [a, b]) for k, a in enumerate(tasks) for b in tasks[k + 1:]]
    if plan == "groups":
        every = len(tasks) if with_all else None  # with 'all' trained anyway, a group of every task is that run
        planned += [("group", g) for g in _check_groups(tasks, groups) if 1 < len(g) != every]  # one task: single
    if plan == "subsets":
        planned += [("subset", s) for s in sample_subsets(tasks, budget)]  # checks the budget and the tasks
    together = ("singles+all", "all", "subsets")
    if plan == "all" or (plan in together and len(tasks) > 1) or (plan == "pairs" and len(tasks) > 2) or \
            (plan == "groups" and with_all and len(tasks) > 1):
        planned.append(("all", list(tasks)))
    return [(setting, group, seed) for seed in range(first_seed, first_seed + seeds) for setting, group in planned]


def _check_groups(tasks: list[str], groups: list[list[str]] | None) -> list[list[str]]:
    """Custom groups, each in the study's task order; errors name the bad group and the tasks there are."""
    if not groups:
        raise ConfigError("The 'groups' plan needs at least one group of tasks, e.g. [['a', 'b'], ['c']]. "
                          "Got none.")
    checked, seen = [], set()
    for k, group in enumerate(groups, 1):
        if not group:
            raise ConfigError(f"Group {k} of the 'groups' plan is empty. Give each group at least one task.")
        unknown = [t for t in group if t not in tasks]
        if unknown:
            raise ConfigError(f"Group {k} of the 'groups' plan names unknown task(s) {unknown}. "
                              f"The study's tasks are {list(tasks)}.")
        if len(set(group)) < len(group):
            raise ConfigError(f"Group {k} of the 'groups' plan lists a task twice: {list(group)}.")
        if frozenset(group) in seen:
            raise ConfigError(f"Group {k} of the 'groups' plan repeats an earlier group: {list(group)}.")
        seen.add(frozenset(group))
        checked.append([t for t in tasks if t in group])
    return checked


def spec_from_dict(values: dict) -> StudySpec:
    """A stored spec as a StudySpec again (keys this version does not know are ignored)."""
    known = {f.name for f in fields(StudySpec)}
    return StudySpec(**{k: v for k, v in values.items() if k in known})


def task_names(spec: StudySpec) -> list[str] | None:
    """The study's tasks if known without loading data: given, or a generated corpus' tasks; else None."""
    if spec.tasks:
        return list(spec.tasks)
    synthetic = spec.source.get("synthetic")
    if "preset" in spec.source:
        synthetic = get_preset(spec.source["preset"]).get("synthetic")
    return [t["name"] for t in synthetic["tasks"]] if synthetic else None

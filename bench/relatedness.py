"""Which tasks help each other, checked against the truth (issue 17): the surrogate fitted on a budget of random
task subsets, and the cheap estimates, each scored on subsets they never saw, beside the noise ceiling.

Part (a), ``--part truth`` (default preset absa, 5 tasks): the ground truth is every task subset trained x seeds
(the subsets plan at its full budget: 2^k - k - 2 subsets of 2 .. k-1 tasks, plus each task alone and all
together; the all-tasks run also measures gradient cosine and lookahead affinity). Then, for budgets of 2k, 3k
and 4k subsets: ``--draws`` balanced samples of that many subsets (``relatedness.subsets.sample_subsets``, seeds
0, 1, ...); the surrogate is fitted on the singles, the sampled subsets and all-together; every subset not
sampled (and not all-together) is held out. Per target task, Spearman between predicted and measured gain over the
held-out subsets, averaged over draws; then the mean over tasks with a 95% bootstrap CI over tasks (draws of one
task are not independent, so only tasks are resampled: with 5 tasks the CI is wide), beside the noise ceiling
on the same held-out subsets (the split-half Spearman of the measurement itself: seeds alternately into two
halves; ``relatedness.checks``) and beside
gradient cosine and lookahead affinity scored the same way (a task's gain predicted as the mean of its pairwise
values with its group-mates) and the short-runs estimate (each pair's gain over the first 3 epochs of its run's
validation curve, ``results.short_runs``; also at ``--short-epochs``). Costs: runs and training minutes each
estimate needed.

Part (b), ``--part study``: a study of 10 tasks from three datasets of three formats (``{"combine": ...}``:
SemEval-2014's 5 aspects, UCI's yelp, amazon and imdb, CoNLL-2002's POS and NER), each task trained only on its
own dataset's rows; the subsets plan at ``--budget`` (default 3k = 30); the surrogate's recommended grouping under
``--max-groups``; then that grouping verified (``studies.verify``: the grouping, each task alone and all together,
x seeds, same split) and the mean per-task score of the grouping vs all together and vs each alone, paired over
seeds. Wall time printed.

This is a benchmark, not a test: nothing is asserted. Slow on a CPU: part (a) on absa trains 31 x seeds runs,
part (b) (10 + budget + 1) x seeds and then the verification.

    MTL_LAB_DATA_DIR=../shared/datasets python bench/relatedness.py --part truth --seeds 3
    MTL_LAB_DATA_DIR=../shared/datasets python bench/relatedness.py --part study --seeds 3 --epochs 10
    python bench/relatedness.py --part truth --preset synthetic-demo --seeds 2 --set epochs=2   # a smoke run
    python bench/relatedness.py --part truth --preset synthetic-five --seeds 3   # planted relatedness, ~10 min
    python bench/relatedness.py --part truth --preset mixed-five --seeds 3 --epochs 6   # 2 datasets, 2 formats
    python bench/relatedness.py --part truth --home H --study ID   # score a finished ground-truth study again
    python bench/relatedness.py --part truth --home H --study ID --more-seeds 3   # 3 more seeds of it, then score
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from mtl_core.cli.options import parse_sets  # noqa: E402
from mtl_core.paths import DATA_DIR_ENV, HOME_ENV  # noqa: E402

UCI_FILES = ("yelp_labelled.txt", "amazon_cells_labelled.txt", "imdb_labelled.txt")
SYNTHETIC_FIVE = "synthetic-five"
MIXED_FIVE = "mixed-five"   # UCI's yelp, amazon and imdb with CoNLL-2002's POS and NER: 5 tasks, 2 datasets
# The classroom demo's generator and tiny model, five tasks: 'related' shares base's cue words with the same
# meaning, 'conflicting' half of them with the opposite meaning, 'echo' is a second related task, 'unrelated' has
# cue words of its own. Planted: related and echo help base and each other; conflicting hurts them.
FIVE_TASKS = {"base_cues": 8, "filler_words": 100, "seed": 0, "tasks": [
    {"name": "base", "n_examples": 400},
    {"name": "related", "shared_cues": 8, "private_cues": 0, "n_examples": 800},
    {"name": "echo", "shared_cues": 6, "private_cues": 2, "n_examples": 600},
    {"name": "conflicting", "shared_cues": 4, "contradicting_cues": 4, "private_cues": 0, "n_examples": 1600},
    {"name": "unrelated", "shared_cues": 0, "private_cues": 8, "n_examples": 800}]}


def data_dir(given: str | None) -> str:
    found = given or os.environ.get(DATA_DIR_ENV) or str(ROOT.parent / "shared" / "datasets")
    os.environ[DATA_DIR_ENV] = found
    return found


def train(spec, store):
    """Run every planned run of ``spec`` here; the study's results with their curves."""
    from mtl_core.results.study_results import StudyResults
    from mtl_core.studies.execute import run_study

    start = time.perf_counter()
    study_id, _ = run_study(spec, store, echo=lambda line: print(line, flush=True), save_models=False)
    print(f"study {study_id}: {time.perf_counter() - start:.0f} s wall", flush=True)
    return StudyResults.load(store, study_id)


def add_more_seeds(store, study_id: str, n: int) -> None:
    """Train ``n`` more seeds of the finished study here (its done runs kept)."""
    from mtl_core.studies.execute import execute_study
    from mtl_core.studies.more_seeds import add_seeds

    start = time.perf_counter()
    seeds = add_seeds(study_id, n, store, backend="inline")
    print(f"study {study_id}: training seeds {seeds[0]}-{seeds[-1]}", flush=True)
    execute_study(study_id, store, echo=lambda line: print(line, flush=True), save_models=False, raise_errors=True)
    print(f"study {study_id}: {n} more seeds in {time.perf_counter() - start:.0f} s wall", flush=True)


def ci_text(mean, low, high) -> str:
    if mean is None:
        return "—"
    return f"{mean:+.3f}" + (f" [{low:+.3f}, {high:+.3f}]" if low is not None else " (no interval)")


def collect(by_task: dict[str, list[float]], found: dict[str, float]) -> None:
    for task, rho in found.items():
        by_task.setdefault(task, []).append(rho)


def over_tasks(by_task: dict[str, list[float]]):
    """Mean over tasks of each task's mean over draws, with the bootstrap over tasks: the draws of one task are not
    independent (for 5 tasks, 2k is the same design at every draw), so only tasks are resampled."""
    from mtl_core.relatedness.checks import mean_over_tasks

    return mean_over_tasks([sum(v) / len(v) for v in by_task.values()])


def truth(args) -> None:
    from mtl_core.relatedness.checks import (
        SURROGATE,
        mean_over_tasks,
        measured_gains,
        pairwise_predictions,
        per_task_correlation,
        seed_halves,
    )
    from mtl_core.relatedness.subsets import possible_subsets, sample_subsets
    from mtl_core.relatedness.surrogate import fit_surrogate
    from mtl_core.results.short_runs import NAME as SHORT_RUNS
    from mtl_core.results.short_runs import short_run_cost, short_run_gains
    from mtl_core.results.study_results import StudyResults
    from mtl_core.results.subset_estimates import estimate_costs, pair_estimates, study_measurements
    from mtl_core.store import Store
    from mtl_core.studies.spec import StudySpec, task_names

    if args.preset == SYNTHETIC_FIVE:  # generated tasks whose relatedness is planted: a truth with a signal
        demo = StudySpec.from_preset("classroom-demo")
        spec = StudySpec(name=SYNTHETIC_FIVE, source={"synthetic": FIVE_TASKS}, seeds=args.seeds, plan="subsets",
                         config=demo.config, split=demo.split, data_dir=args.data_dir)
    elif args.preset == MIXED_FIVE:  # a second real truth, from two datasets of two formats: the model of part (b)
        spec = StudySpec(name=MIXED_FIVE, source=combined_source(args.data_dir, absa=False), seeds=args.seeds,
                         plan="subsets", config=study_config(args), data_dir=args.data_dir,
                         tasks=["yelp", "amazon", "imdb", "pos", "ner"])
    else:
        spec = StudySpec.from_preset(args.preset, seeds=args.seeds, plan="subsets", data_dir=args.data_dir)
    spec.config.update(parse_sets(args.set))
    tasks = task_names(spec)
    spec.budget = possible_subsets(len(tasks))
    trained_here = "" if args.study else f", {args.seeds} seeds"  # an existing study: its seeds, printed below
    print(f"(a) ground truth: {args.preset}, {len(tasks)} tasks, all {spec.budget} subsets + singles + all"
          f"{trained_here}", flush=True)
    store = Store(Path(os.environ[HOME_ENV]) / "mtl_lab.sqlite")
    if args.study and args.more_seeds:  # the same runs with new seeds, beside the study's (studies.more_seeds)
        add_more_seeds(store, args.study, args.more_seeds)
    results = StudyResults.load(store, args.study) if args.study else train(spec, store)
    measurements = study_measurements(results)
    seeds = len({m.seed for m in measurements})
    print(f"{len(results.finished_runs)} runs, {seeds} seeds", flush=True)
    measured = measured_gains(measurements)
    everything = frozenset(tasks)
    pairwise = pair_estimates(results)
    costs = estimate_costs(results)
    for epochs in args.short_epochs:  # the short-runs estimate at other lengths, read from the same curves
        pairwise[f"{SHORT_RUNS}@{epochs}"] = short_run_gains(results, epochs)
        costs[f"{SHORT_RUNS}@{epochs}"] = short_run_cost(results, epochs)
    halves = seed_halves(measurements)
    first_half, second_half = (measured_gains(measurements, h) for h in halves) if halves else ({}, {})
    k = len(tasks)
    print(f"\n{'budget':>6} {'estimate':<19} {'held-out Spearman [95% CI]':>30} {'noise ceiling [95% CI]':>28} "
          f"{'held-out':>8} {'runs':>5} {'train min':>9}")
    for budget in sorted({b for b in (2 * k, 3 * k, 4 * k) if b < spec.budget}):
        per_task: dict[str, dict[str, list[float]]] = {}   # estimate -> task -> its Spearman at each draw
        ceiling: dict[str, list[float]] = {}
        for draw in range(args.draws):
            chosen = {frozenset(s) for s in sample_subsets(tasks, budget, seed=draw)}
            fitted = [m for m in measurements if len(m.subset) == 1 or m.subset in chosen or m.subset == everything]
            held = [key for key in measured if key[1] not in chosen and key[1] != everything]
            surrogate = fit_surrogate(fitted, tasks, resamples=0)
            predictions = {SURROGATE: {key: surrogate.predicted_gain(*key) for key in held}}
            predictions.update({name: pairwise_predictions(values, held) for name, values in pairwise.items()})
            for name, predicted in predictions.items():
                collect(per_task.setdefault(name, {}), per_task_correlation(predicted, measured, held))
            collect(ceiling, per_task_correlation(first_half, second_half, held))
        runs = {SURROGATE: (k + budget + 1) * seeds}
        for name, values in per_task.items():
            mean, low, high = over_tasks(values)
            cost = costs.get(name)
            used = runs.get(name, cost.runs if cost else None)
            minutes = (cost.minutes * used / max(cost.runs, 1)) if cost and cost.minutes is not None else None
            print(f"{budget:>6} {name:<19} {ci_text(mean, low, high):>30} {ci_text(*over_tasks(ceiling)):>28} "
                  f"{len(held):>8} {used if used is not None else '—':>5} "
                  f"{minutes if minutes is not None else float('nan'):>9.1f}", flush=True)
    print("\nheld-out: (task, subset) gains predicted per draw (subsets neither sampled nor all-together); "
          "runs: what each estimate needs (surrogate: singles + budget + all, x seeds; pairwise: its probe runs); "
          "train min: their summed training minutes (surrogate: pro rata of the study's runs)")


def combined_source(root: str, absa: bool = True) -> dict:
    uci = Path(root) / "uci_sentiment"
    return {"combine": ([{"preset": "absa"}] if absa else []) +
                       [{"name": "uci", "files": [str(uci / f) for f in UCI_FILES], "format": "uci"},
                        {"preset": "conll-es"}]}


def study_config(args) -> dict:
    return {"epochs": args.epochs, "patience": max(2, args.epochs // 3), "hidden": 64, **parse_sets(args.set)}


def study(args) -> None:
    from mtl_core.results.subset_estimates import subset_analysis
    from mtl_core.results.verification import verification_rows, verification_summary
    from mtl_core.store import Store
    from mtl_core.studies.spec import StudySpec
    from mtl_core.studies.verify import verification_spec

    store = Store(Path(os.environ[HOME_ENV]) / "mtl_lab.sqlite")
    spec = StudySpec(name="ten tasks, three datasets", source=combined_source(args.data_dir), seeds=args.seeds,
                     plan="subsets", budget=args.budget, config=study_config(args), data_dir=args.data_dir)
    start = time.perf_counter()
    parent = train(spec, store)
    analysis = subset_analysis(parent, args.max_groups)
    print("\nsurrogate relevance (weight of partner for task, 95% CI) where the CI excludes 0:")
    for r in analysis.relevance:
        if r["ci_low"] is not None and (r["ci_low"] > 0 or r["ci_high"] < 0):
            print(f"  {r['task']:<10} <- {r['partner']:<10} {ci_text(r['weight'], r['ci_low'], r['ci_high'])}")
    print("\nestimates checked on held-out subsets (5-fold over the study's subsets):")
    for r in analysis.estimates:
        print(f"  {r['estimate']:<19} {ci_text(r['spearman'], r['ci_low'], r['ci_high']):>30}   ceiling "
              f"{ci_text(r['ceiling'], r['ceiling_low'], r['ceiling_high'])}")
    verify = verification_spec(parent, args.max_groups)
    print(f"\nrecommended grouping (a prediction until verified): {verify.verifies['groups']}", flush=True)
    checked = train(verify, store)
    print("\nverification, per task (predicted vs measured in its group; paired deltas over seeds):")
    for r in verification_rows(checked):
        print("  " + ", ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in r.items()))
    print("\nmean per-task score, paired over seeds:")
    for r in verification_summary(checked):
        print("  " + ", ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in r.items()))
    print(f"\nwall time, subsets study + verification: {(time.perf_counter() - start) / 60:.1f} min "
          f"on {os.cpu_count()} CPU cores")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--part", choices=["truth", "study"], default="truth")
    p.add_argument("--preset", default="absa", help=f"part truth: the study whose every subset is trained; "
                   f"'{SYNTHETIC_FIVE}': five generated tasks with planted relatedness (the classroom demo's model); "
                   f"'{MIXED_FIVE}': UCI yelp / amazon / imdb and CoNLL-2002 POS / NER (part study's model, --epochs)")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--study", default=None, help="part truth: score this finished study in --home, no training")
    p.add_argument("--more-seeds", type=int, default=0, metavar="N", help="part truth, with --study: first train N "
                   "more seeds of it (its runs kept), then score it over all its seeds")
    p.add_argument("--short-epochs", type=lambda v: [int(x) for x in v.split(",") if x], default=[1, 2],
                   help="part truth: also score the short-runs estimate at these epochs (default 1,2; 3 is the app's)")
    p.add_argument("--draws", type=int, default=20, help="part truth: sampled budgets per size (default 20; scoring "
                   "a finished study takes seconds, and 5 draws moved ABSA's 3k surrogate figure by 0.08)")
    p.add_argument("--budget", type=int, default=30, help="part study: subsets trained (default 30 = 3k)")
    p.add_argument("--max-groups", type=int, default=None, help="part study: at most this many groups")
    p.add_argument("--epochs", type=int, default=10, help=f"part study and {MIXED_FIVE}: maximum epochs per run "
                   "(default 10)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a RunConfig override")
    p.add_argument("--data-dir", default=None, help=f"folder holding the datasets (default: ${DATA_DIR_ENV})")
    p.add_argument("--home", default=None, help="MTL Lab home for the studies (default: a fresh temporary one)")
    args = p.parse_args(argv)
    if args.study and not args.home:
        p.error("--study needs --home, the MTL Lab home whose database holds that study")
    args.data_dir = data_dir(args.data_dir)
    os.environ[HOME_ENV] = args.home or tempfile.mkdtemp(prefix="mtl-relatedness-")
    print(f"{os.cpu_count()} CPU cores, load {os.getloadavg()[0]:.1f}; home {os.environ[HOME_ENV]}", flush=True)
    from mtl_core.errors import MTLLabError

    try:
        truth(args) if args.part == "truth" else study(args)
    except MTLLabError as error:  # bad data, a study not in --home: the message, not a traceback
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

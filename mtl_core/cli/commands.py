"""One function per command (``python -m mtl_core COMMAND``); each returns the exit status."""
from __future__ import annotations

import sys
import time
from pathlib import Path

from mtl_core.cli.options import (
    MORE_SEEDS_DEFAULT,
    check_parent_options,
    method_overrides,
    parse_groups,
    parse_sets,
    subsets_budget,
)
from mtl_core.cli.outputs import (
    study_report,
    write_predictions,
    write_relatedness,
    write_summary,
    write_transfer,
    write_verification,
)
from mtl_core.data.study_sources import source_from_data_args
from mtl_core.errors import MTLLabError
from mtl_core.studies.presets import load_presets, load_study_source


def verify_spec(args):
    """``--verify STUDY_ID``: the study that trains the grouping it predicts (``studies.verify``)."""
    from mtl_core.results.study_results import StudyResults
    from mtl_core.store import Store
    from mtl_core.studies.verify import verification_spec

    spec = verification_spec(StudyResults.load(Store(), args.verify, curves=False), args.max_groups, args.seeds)
    spec.name = args.name or spec.name
    return spec


def study_spec(args):
    """The StudySpec the options of ``study`` / ``submit`` describe (a preset, or data files and dataset names)."""
    from mtl_core.studies.spec import StudySpec, task_names

    overrides = {**method_overrides(args), **parse_sets(args.set)}
    if args.epochs:
        overrides["epochs"] = args.epochs
    tasks = [t.strip() for t in args.tasks.split(",")] if args.tasks else None
    groups = parse_groups(args.groups, args.plan)
    if args.preset:
        spec = StudySpec.from_preset(args.preset, tasks=tasks, seeds=args.seeds, plan=args.plan,
                                     data_dir=args.data_dir, name=args.name)
        if args.test:
            spec.source = {**spec.source, "test": args.test}
    else:
        source = source_from_data_args(args.data, args.format, args.data_dir, test=args.test,
                                       text_column=args.text_column,
                                       label_columns=args.label_columns.split(",") if args.label_columns else None)
        spec = StudySpec(name=args.name or Path(args.data[0]).stem, source=source, tasks=tasks, seeds=args.seeds or 3,
                         plan=args.plan or "singles+all", data_dir=args.data_dir)
    spec.config = {**spec.config, **overrides}
    spec.groups = groups
    loaded = None
    if not args.preset:  # bad data files (e.g. a task with one label) are refused before anything is stored or queued
        loaded = load_study_source(spec.source, spec.data_dir)
    if spec.plan == "subsets" or args.budget is not None:  # the default budget counts the study's tasks
        known = task_names(spec) or list((loaded or load_study_source(spec.source, spec.data_dir)).corpus.tasks)
        spec.budget = subsets_budget(args.budget, spec.plan, known)
    return spec


def cmd_study(args) -> int:
    from mtl_core.store import Store
    from mtl_core.studies.backends import executor_from_env
    from mtl_core.studies.dispatch import run_study

    check_parent_options(args)
    if args.more_seeds:
        return more_seeds(args)
    spec = verify_spec(args) if args.verify else study_spec(args)
    executor = executor_from_env(args.backend, args.ray_address)  # --backend / --ray-address, else the environment
    if args.command == "submit":
        return submit(spec, args.start_worker, executor)
    store = Store()
    study_id, results = run_study(spec, store, executor)  # here, or as Ray tasks this process owns
    return write_outputs(args, store, study_id, results)


def more_seeds(args) -> int:
    """``--more-seeds STUDY_ID``: the study's runs with ``--seeds`` new seeds, queued (``submit``) or trained here,
    then its outputs over all its seeds."""
    from mtl_core.store import Store
    from mtl_core.studies.dispatch import execute
    from mtl_core.studies.more_seeds import add_seeds, seconds_per_seed
    from mtl_core.studies.submit import more_seeds as queue_more_seeds

    n = MORE_SEEDS_DEFAULT if args.seeds is None else args.seeds
    store = Store()
    if args.command == "submit":
        per_seed = seconds_per_seed(store.runs(args.more_seeds))  # before: the new runs have no times yet
        seeds = queue_more_seeds(args.more_seeds, n, store, start_worker=args.start_worker)
        print(args.more_seeds)
        took = f"; about {n * per_seed / 60:.1f} min here (one seed took {per_seed / 60:.1f})" if per_seed else ""
        print(f"queued seeds {seeds[0]}-{seeds[-1]} of study {args.more_seeds}{took}", file=sys.stderr)
        return 0
    seeds = add_seeds(args.more_seeds, n, store, backend="inline")
    print(f"study {args.more_seeds}: training seeds {seeds[0]}-{seeds[-1]} (its earlier runs are kept)")
    results = execute(args.more_seeds, store, echo=print, raise_errors=True)  # where the study's executor says
    return write_outputs(args, store, args.more_seeds, results)


def write_outputs(args, store, study_id: str, results: dict) -> int:
    """The study's CSV files (and predictions of the runs trained here) in ``--out``, and its table printed."""
    from mtl_core.results.study_results import StudyResults

    out = Path(args.out)
    stored = StudyResults.load(store, study_id)  # read once for every file below
    rows = write_summary(stored, out)
    transfer = write_transfer(stored, out)
    related = write_relatedness(stored, transfer, out) + write_verification(stored, out)
    if args.save_predictions:
        write_predictions(stored, results, out / "predictions")
    print(study_report(stored, rows))  # the table, then a warning per task that learned little
    print(f"\nwrote {out / 'summary.csv'}" + (f" and {out / 'transfer.csv'}" if transfer else "")
          + "".join(f", {path}" for path in related)
          + f"  (study {study_id} in {store.path})")
    return 0


def submit(spec, start_worker: bool, executor=None) -> int:
    """Queue ``spec`` (starting a worker only with ``--start-worker``); print its id (stdout) and the time
    estimate (stderr)."""
    from mtl_core.store import Store
    from mtl_core.studies.queue import live_workers
    from mtl_core.studies.submit import queue_study
    from mtl_core.studies.time_estimates import estimate_seconds

    store = Store()
    study_id = queue_study(spec, store, start_worker=start_worker, executor=executor)
    print(study_id)
    state = "a worker is running" if live_workers(store) else "no worker yet: run `python -m mtl_core worker`"
    where = f"; its runs train on {executor.label()}" if executor is not None and executor.ray else ""
    print(f"queued; about {estimate_seconds(spec, store) / 60:.1f} min here ({state}{where})", file=sys.stderr)
    return 0


def cmd_worker(args) -> int:
    from mtl_core.studies.worker import run_workers

    return run_workers(args.store, args.workers)


def cmd_presets(args) -> int:
    presets = load_presets()
    width = max(map(len, presets))
    for name, preset in presets.items():
        data = preset.get("dataset", "generated offline")
        print(f"{name:<{width}} {preset['title']}  [data: {data}]")
    return 0


def cmd_data(args) -> int:
    from mtl_core.data import catalog

    if args.data_command == "list":
        for name, entry in catalog.load_catalog().items():
            try:
                where = str(catalog.find_dataset(name))
            except MTLLabError:
                where = "not found locally" + ("; `data fetch " + name + "`" if entry.fetch else "; import it")
            print(f"{name:<26} {entry.title}\n{'':<26} licence: {entry.licence}; {where}")
    elif args.data_command == "fetch":
        print(f"fetched into {catalog.fetch(args.name, url=args.url)}")
    elif args.data_command == "import":
        print(f"imported into {catalog.import_folder(args.name, args.folder)}")
    elif args.data_command == "check":
        from mtl_core.data.loaders import load_files

        print(load_files(args.files, args.format).report.summary())
    return 0


def cmd_export(args) -> int:
    from mtl_core.cli.share import log_to_mlflow, write_report
    from mtl_core.results.study_results import StudyResults
    from mtl_core.store import Store

    if args.tracking_uri and not args.mlflow:
        raise MTLLabError("--tracking-uri goes with --mlflow: add --mlflow, or leave --tracking-uri out.")
    if args.report or args.mlflow:
        if args.report:
            for path in write_report(Store(), args.study_id, Path(args.out or ".")):
                print(f"wrote {path}")
        if args.mlflow:
            print(log_to_mlflow(Store(), args.study_id, args.tracking_uri, args.out))
        return 0
    if not args.out:
        raise MTLLabError("export needs --out FOLDER for summary.csv, or --report (one HTML file and a CSV zip) "
                          "or --mlflow (an MLflow experiment).")
    stored = StudyResults.load(Store(), args.study_id)  # a ConfigError naming the store when there is no such study
    out = Path(args.out)
    write_summary(stored, out)
    print(f"wrote {out / 'summary.csv'}")
    transfer = write_transfer(stored, out)
    for path in ([out / "transfer.csv"] if transfer else []) + write_relatedness(stored, transfer, out) + \
            write_verification(stored, out):
        print(f"wrote {path}")
    return 0


def cmd_studies(args) -> int:
    """``studies list`` (a table), ``studies diff A B`` (settings side by side), ``studies rm ID``."""
    from mtl_core.store import Store

    store = Store()
    if args.studies_command == "list":
        rows = [{"id": s["id"], "name": s["name"], "status": s["status"], "tags": ", ".join(s["tags"]),
                 "created": time.strftime("%Y-%m-%d %H:%M", time.localtime(s["created"])),
                 "tasks": ", ".join(s["tasks"]), "runs": f"{s['runs_done']}/{s['runs']}"}
                for s in store.study_overview() if not args.tag or args.tag in s["tags"]]
        print(text_table(rows, ["id", "name", "status", "tags", "created", "tasks", "runs"])
              if rows else "No studies" + (f" tagged {args.tag!r}." if args.tag else f" in {store.path}."))
    elif args.studies_command == "diff":
        from mtl_core.studies.diff import settings_diff

        rows = settings_diff(store, args.first, args.second, every_row=args.all)
        print(text_table([{"setting": r["setting"], args.first: r["first"], args.second: r["second"]} for r in rows],
                         ["setting", args.first, args.second]) if rows else "The two studies' settings are the same.")
    elif args.studies_command == "rm":
        from mtl_core.studies.manage import delete_study

        removed = delete_study(args.study_id, store)
        print(f"deleted study {args.study_id} ({removed} saved model(s) removed)")
    return 0


def text_table(rows: list[dict], columns: list[str], width: int = 60) -> str:
    """``rows`` as a plain-text table with a header; each cell cut to ``width`` characters."""
    cells = [[str(r.get(c, ""))[:width] for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    lines = [columns, ["-" * w for w in widths], *cells]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() for line in lines)


def cmd_selftest(args) -> int:
    from mtl_core.selftest import format_report, passed, run_reliability

    sections = run_reliability(args.workdir, quick=args.quick, only=args.only)
    print(format_report(sections))
    return 0 if passed(sections) else 1


COMMANDS = {"selftest": cmd_selftest, "study": cmd_study, "submit": cmd_study, "worker": cmd_worker, "presets": cmd_presets, "data": cmd_data, "export": cmd_export, "studies": cmd_studies}

"""One function per command (``python -m mtl_core COMMAND``); each returns the exit status."""
from __future__ import annotations

import sys
from pathlib import Path

from mtl_core.cli.options import method_overrides, parse_groups, parse_sets
from mtl_core.cli.outputs import (
    write_predictions,
    write_relatedness,
    write_summary,
    write_transfer,
)
from mtl_core.errors import MTLLabError
from mtl_core.studies.presets import load_presets


def cmd_study(args) -> int:
    from mtl_core.results.study_results import StudyResults
    from mtl_core.results.summary import format_table
    from mtl_core.store import Store
    from mtl_core.studies.execute import run_study
    from mtl_core.studies.spec import StudySpec

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
        source = {"files": args.data, "format": args.format, "test": args.test, "text_column": args.text_column,
                  "label_columns": args.label_columns.split(",") if args.label_columns else None}
        spec = StudySpec(name=args.name or Path(args.data[0]).stem, source=source, tasks=tasks, seeds=args.seeds,
                         plan=args.plan or "singles+all", data_dir=args.data_dir)
    spec.config = {**spec.config, **overrides}
    spec.groups = groups
    if args.command == "submit":
        return submit(spec, args.start_worker)
    store = Store()
    study_id, results = run_study(spec, store)
    out = Path(args.out)
    stored = StudyResults.load(store, study_id)  # read once for every file below
    rows = write_summary(stored, out)
    transfer = write_transfer(stored, out)
    related = write_relatedness(stored, transfer, out)
    if args.save_predictions:
        write_predictions(stored, results, out / "predictions")
    print(format_table(rows))
    print(f"\nwrote {out / 'summary.csv'}" + (f" and {out / 'transfer.csv'}" if transfer else "")
          + "".join(f", {path}" for path in related)
          + f"  (study {study_id} in {store.path})")
    return 0


def submit(spec, start_worker: bool) -> int:
    """Queue ``spec`` (starting a worker only with ``--start-worker``); print its id (stdout) and the time
    estimate (stderr)."""
    from mtl_core.store import Store
    from mtl_core.studies.queue import live_workers
    from mtl_core.studies.submit import queue_study
    from mtl_core.studies.time_estimates import estimate_seconds

    store = Store()
    study_id = queue_study(spec, store, start_worker=start_worker)
    print(study_id)
    state = "a worker is running" if live_workers(store) else "no worker yet: run `python -m mtl_core worker`"
    print(f"queued; at most about {estimate_seconds(spec, store) / 60:.1f} min here ({state})", file=sys.stderr)
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
    from mtl_core.results.study_results import StudyResults
    from mtl_core.store import Store

    stored = StudyResults.load(Store(), args.study_id)  # a ConfigError naming the store when there is no such study
    out = Path(args.out)
    write_summary(stored, out)
    print(f"wrote {out / 'summary.csv'}")
    transfer = write_transfer(stored, out)
    for path in ([out / "transfer.csv"] if transfer else []) + write_relatedness(stored, transfer, out):
        print(f"wrote {path}")
    return 0


def cmd_selftest(args) -> int:
    from mtl_core.selftest import format_report, passed, run_reliability

    sections = run_reliability(args.workdir, quick=args.quick, only=args.only)
    print(format_report(sections))
    return 0 if passed(sections) else 1


COMMANDS = {"selftest": cmd_selftest, "study": cmd_study, "submit": cmd_study, "worker": cmd_worker, "presets": cmd_presets, "data": cmd_data, "export": cmd_export}

"""Command line: study, submit, worker, presets, data (list | fetch | import | check), export, selftest.

Errors a user can fix (bad data, bad options, missing datasets) print one clear message and exit 2;
never a traceback.
"""
from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from mtl_core.errors import MTLLabError
from mtl_core.studies.presets import load_presets


def add_method_options(s: argparse.ArgumentParser) -> None:
    """--sharing, --backbone, --weighting, --sampling, --aux: choices generated from the registries."""
    from mtl_core.auxiliary import AUXILIARY
    from mtl_core.models.backbones import BACKBONES
    from mtl_core.models.sharing import SHARING
    from mtl_core.training.config import SAMPLING
    from mtl_core.training.weighting import REGISTRY

    m = s.add_argument_group("multitask method (recorded with every run)")
    m.add_argument("--sharing", choices=list(SHARING), help="how tasks share parameters (default: hard)")
    m.add_argument("--cascade-order", help="with --sharing cascade: tasks from the lowest level up, comma-separated")
    m.add_argument("--backbone", choices=list(BACKBONES), help="encoder (default: bilstm); minilm and mpnet are pretrained")
    m.add_argument("--tune-pretrained", action="store_true", help="fine-tune the pretrained backbone (default: frozen)")
    m.add_argument("--weighting", choices=list(REGISTRY), help="loss weighting or gradient combination (default: equal)")
    m.add_argument("--sampling", choices=list(SAMPLING), help="task sampling (default: proportional)")
    m.add_argument("--aux", help=f"automatic auxiliary tasks, comma-separated: {', '.join(AUXILIARY)}")


def method_overrides(args) -> dict:
    """RunConfig options named by the method flags that were given."""
    values = {"sharing": args.sharing, "backbone": args.backbone, "weighting": args.weighting,
              "sampling": args.sampling,
              "cascade_order": [t.strip() for t in args.cascade_order.split(",")] if args.cascade_order else None,
              "aux": [a.strip() for a in args.aux.split(",") if a.strip()] if args.aux else None,
              "tune_pretrained": True if args.tune_pretrained else None}
    return {k: v for k, v in values.items() if v is not None}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m mtl_core", description="MTL Lab: which NLP tasks help each other.")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("study", help="run a study: each task alone + all together, x seeds, one split")
    source = s.add_mutually_exclusive_group(required=True)
    source.add_argument("--preset", help="a preset name (see `presets`)")
    source.add_argument("--data", nargs="+", metavar="FILE", help="data files (CSV/TSV, UCI, lines, SemEval XML, CoNLL)")
    s.add_argument("--format", help="data format, if auto-detection guesses wrong: csv, tsv, uci, lines, semeval, conll")
    s.add_argument("--text-column", help="CSV: the column holding the text")
    s.add_argument("--label-columns", help="CSV: comma-separated label columns, each a task")
    s.add_argument("--test", metavar="FILE", help="a separate test file (e.g. an official test set) replacing the test split")
    s.add_argument("--tasks", help="comma-separated tasks to use (default: all)")
    s.add_argument("--plan", default=None, choices=["singles+all", "singles", "all", "pairs", "groups"],
                   help="singles+all (default); singles; all; pairs (each alone + every pair + all together, "
                        "writes transfer.csv); groups (each alone + the --groups)")
    s.add_argument("--groups", help='with --plan groups: tasks joined by "+", groups by ",", e.g. "a+b,c"')
    s.add_argument("--seeds", type=int, default=3)
    s.add_argument("--epochs", type=int, help="maximum epochs per run (early stopping on validation)")
    add_method_options(s)
    s.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="any RunConfig option, e.g. hidden=64")
    s.add_argument("--data-dir", help="folder holding datasets (else $MTL_LAB_DATA_DIR, then ~/.mtl_lab/data)")
    s.add_argument("--out", required=True, help="folder for summary.csv (and predictions)")
    s.add_argument("--save-predictions", action="store_true", help="write every test example's gold and predicted labels")
    s.add_argument("--name", help="a name for the study")

    q = sub.add_parser("submit", parents=[s], conflict_handler="resolve",
                       help="queue a study (the options of `study`) for the background worker; returns at once")
    q.add_argument("--out", help=argparse.SUPPRESS)
    q.add_argument("--start-worker", action="store_true", help="start a background worker if none is running")
    w = sub.add_parser("worker", help="serve the study queue (the app starts one itself when needed)")
    w.add_argument("--store", help="the SQLite store whose queue to serve (default: MTL_LAB_HOME/mtl_lab.sqlite)")
    w.add_argument("--workers", type=_positive, default=1, metavar="N",
                   help="worker processes to start on this store (default 1); several may serve one store")

    sub.add_parser("presets", help="list the presets")

    d = sub.add_parser("data", help="the dataset catalog")
    dsub = d.add_subparsers(dest="data_command", required=True)
    dsub.add_parser("list", help="catalog entries and where they are found")
    f = dsub.add_parser("fetch", help="download a dataset from its original source and verify it")
    f.add_argument("name")
    f.add_argument("--url", help="a mirror URL instead of the catalog's source")
    i = dsub.add_parser("import", help="copy a dataset from a folder (or zip) you already have, verifying it")
    i.add_argument("name")
    i.add_argument("folder")
    c = dsub.add_parser("check", help="load data files and print the validation report")
    c.add_argument("files", nargs="+")
    c.add_argument("--format")

    e = sub.add_parser("export", help="write a stored study's summary.csv (and transfer.csv if it ran pairs)")
    e.add_argument("study_id")
    e.add_argument("--out", required=True)

    t = sub.add_parser("selftest", help="check this installation: --reliability prints the reliability report")
    t.add_argument("--reliability", action="store_true", required=True,
                   help="bad inputs, injected faults, concurrent load; exit 0 only if nothing failed or was lost")
    t.add_argument("--quick", action="store_true", help="the short version for CI (about a minute)")
    t.add_argument("--workdir", help="keep the section folders here (default: a new temporary folder)")
    t.add_argument("--only", action="append", metavar="SECTION", help="run only this section (repeatable): "
                   "bad_inputs, faults, concurrency")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except MTLLabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def cmd_study(args) -> int:
    from mtl_core.results.summary import format_table, summary_rows, write_summary
    from mtl_core.store import Store
    from mtl_core.studies.execute import run_study
    from mtl_core.studies.spec import StudySpec

    overrides = {**method_overrides(args), **parse_sets(args.set)}
    if args.epochs:
        overrides["epochs"] = args.epochs
    tasks = [t.strip() for t in args.tasks.split(",")] if args.tasks else None
    groups = _parse_groups(args.groups, args.plan)
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
    rows = summary_rows(store, study_id)
    out = Path(args.out)
    write_summary(rows, out / "summary.csv")
    transfer = _write_transfer(store, study_id, out)
    related = _write_relatedness(store, study_id, out)
    if args.save_predictions:
        write_predictions(store, study_id, results, out / "predictions")
    print(format_table(rows))
    print(f"\nwrote {out / 'summary.csv'}" + (f" and {transfer}" if transfer else "")
          + "".join(f", {path}" for path in related)
          + f"  (study {study_id} in {store.path})")
    return 0


def submit(spec, start_worker: bool) -> int:
    """Queue ``spec``; print its id (stdout) and the time estimate (stderr)."""
    from mtl_core.store import Store
    from mtl_core.studies.queue import ensure_worker, submit_study, worker_alive
    from mtl_core.studies.time_estimates import estimate_seconds

    store = Store()
    study_id = submit_study(spec, store)
    print(study_id)
    if start_worker:
        ensure_worker(store)
    state = "a worker is running" if worker_alive(store) else "no worker yet: run `python -m mtl_core worker`"
    print(f"queued; at most about {estimate_seconds(spec, store) / 60:.1f} min here ({state})", file=sys.stderr)
    return 0


def cmd_worker(args) -> int:
    from mtl_core.studies.worker import run_workers

    return run_workers(args.store, args.workers)


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1. Got {text!r} instead")
    return int(text)


def _parse_groups(text: str | None, plan: str | None) -> list[list[str]] | None:
    """--groups "a+b,c" -> [["a", "b"], ["c"]]; only with --plan groups (plan_runs validates the tasks)."""
    from mtl_core.errors import ConfigError

    if text is None:
        return None
    if plan != "groups":
        raise ConfigError(f"--groups needs --plan groups. Got --plan {plan or 'singles+all'} instead.")
    return [[t.strip() for t in group.split("+") if t.strip()] for group in text.split(",")]


def _write_transfer(store, study_id: str, out: Path) -> Path | None:
    """transfer.csv beside summary.csv when the study ran pairs; None otherwise."""
    from mtl_core.results.transfer import transfer_matrix, write_transfer

    rows = transfer_matrix(store, study_id)
    return write_transfer(rows, out / "transfer.csv") if rows else None


def _write_relatedness(store, study_id: str, out: Path) -> list[Path]:
    """affinity.csv (runs with affinity_every > 0), grouping.csv (recommended groupings from transfer and/or
    affinity) and estimates.csv (how well the cheap estimates rank-predict transfer), each when there is data."""
    from mtl_core.results.affinity import COLUMNS as AFFINITY_COLUMNS
    from mtl_core.results.affinity import affinity_matrix
    from mtl_core.results.estimate_quality import estimate_agreement, write_estimates
    from mtl_core.results.grouping import COLUMNS as GROUPING_COLUMNS
    from mtl_core.results.grouping import grouping_rows
    from mtl_core.results.summary import write_csv

    written = []
    affinity = affinity_matrix(store, study_id)
    if affinity:
        written.append(write_csv(affinity, out / "affinity.csv", AFFINITY_COLUMNS))
    grouping = grouping_rows(store, study_id)
    if grouping:
        written.append(write_csv(grouping, out / "grouping.csv", GROUPING_COLUMNS))
    estimates = estimate_agreement(store, study_id)
    if estimates:
        written.append(write_estimates(estimates, out / "estimates.csv"))
    return written


def parse_sets(items: list[str]) -> dict:
    """``--set KEY=VALUE`` items as RunConfig overrides (VALUE read as JSON where it parses, else text)."""
    import json

    from mtl_core.errors import ConfigError

    values = {}
    for item in items:
        if "=" not in item:
            raise ConfigError(f"--set expects KEY=VALUE. Got {item!r} instead.")
        key, raw = item.split("=", 1)
        try:
            values[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            values[key.strip()] = raw
    return values


def write_predictions(store, study_id: str, results: dict, folder: Path) -> None:
    """One file per run and task: CSV (row, text, gold, predicted) or, for tagging, CoNLL columns."""
    from mtl_core.results.summary import setting_label
    from mtl_core.studies.presets import load_study_source

    study = store.study(study_id)
    runs = {r["id"]: r for r in store.runs(study_id)}
    corpus = load_study_source(study["spec"]["source"], study["spec"].get("data_dir")).corpus
    folder.mkdir(parents=True, exist_ok=True)
    for run_id, result in results.items():
        run = runs[run_id]
        for task, items in result.predictions.items():
            safe = "".join(ch if ch.isalnum() else "_" for ch in task)
            label = setting_label(run["setting"], run["tasks"], task).replace(":", "-")  # pairs: with-<partner>
            stem = folder / f"{label}_seed{run['seed']}_{safe}"
            if items and isinstance(items[0][1], list):
                with open(f"{stem}.conll", "w", encoding="utf-8") as fh:
                    for row, gold, pred in items:
                        words = corpus.tokens[row] if corpus.tokens else corpus.texts[row].split()
                        fh.writelines(f"{w} {g} {p}\n" for w, g, p in zip(words, gold, pred))
                        fh.write("\n")
            else:
                with open(f"{stem}.csv", "w", newline="", encoding="utf-8") as fh:
                    w = csv.writer(fh)
                    w.writerow(["row", "text", "gold", "predicted"])
                    w.writerows([row, corpus.texts[row], gold, pred] for row, gold, pred in items)


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
    from mtl_core.errors import ConfigError
    from mtl_core.results.summary import summary_rows, write_summary
    from mtl_core.store import Store

    store = Store()
    if store.study(args.study_id) is None:
        raise ConfigError(f"No study {args.study_id!r} in {store.path}.")
    print(f"wrote {write_summary(summary_rows(store, args.study_id), Path(args.out) / 'summary.csv')}")
    transfer = _write_transfer(store, args.study_id, Path(args.out))
    for path in ([transfer] if transfer else []) + _write_relatedness(store, args.study_id, Path(args.out)):
        print(f"wrote {path}")
    return 0


def cmd_selftest(args) -> int:
    from mtl_core.selftest import format_report, passed, run_reliability

    sections = run_reliability(args.workdir, quick=args.quick, only=args.only)
    print(format_report(sections))
    return 0 if passed(sections) else 1


COMMANDS = {"selftest": cmd_selftest, "study": cmd_study, "submit": cmd_study, "worker": cmd_worker, "presets": cmd_presets, "data": cmd_data, "export": cmd_export}

"""The command line's options: the parser, the method options generated from the registries, and the
parsing of values given as text (groups, KEY=VALUE settings)."""
from __future__ import annotations

import argparse


MORE_SEEDS_DEFAULT = 3  # --more-seeds without --seeds


def add_method_options(s: argparse.ArgumentParser) -> None:
    """--sharing, --backbone, --weighting (and its options), --sampling, --aux: generated from the registries."""
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
    tunable = "; ".join(f"{name}: {', '.join(o.name for o in cls.options)}" for name, cls in REGISTRY.items()
                        if cls.options)
    m.add_argument("--weighting-option", action="append", default=[], metavar="NAME=VALUE",
                   help=f"an option of the chosen weighting (repeatable), e.g. temperature=1.0 for dwa. {tunable}")
    m.add_argument("--sampling", choices=list(SAMPLING), help="task sampling (default: proportional)")
    m.add_argument("--aux", help=f"automatic auxiliary tasks, comma-separated: {', '.join(AUXILIARY)}")


def method_overrides(args) -> dict:
    """RunConfig options named by the method flags that were given."""
    import json

    from mtl_core.errors import ConfigError

    options = {}
    for item in args.weighting_option:  # NAME=VALUE, VALUE read as JSON where it parses (numbers), else text
        name, equals, raw = item.partition("=")
        if not equals or not name.strip():
            raise ConfigError(f"--weighting-option expects NAME=VALUE, e.g. temperature=1.0. Got {item!r} instead.")
        try:
            options[name.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            options[name.strip()] = raw.strip()
    values = {"sharing": args.sharing, "backbone": args.backbone, "weighting": args.weighting,
              "sampling": args.sampling,
              "cascade_order": [t.strip() for t in args.cascade_order.split(",")] if args.cascade_order else None,
              "aux": [a.strip() for a in args.aux.split(",") if a.strip()] if args.aux else None,
              "tune_pretrained": True if args.tune_pretrained else None,
              "weighting_options": options or None}  # checked against the method's declared options by RunConfig
    return {k: v for k, v in values.items() if v is not None}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m mtl_core", description="MTL Lab: which NLP tasks help each other.")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("study", help="run a study: each task alone + all together, x seeds, one split")
    source = s.add_mutually_exclusive_group(required=True)
    source.add_argument("--preset", help="a preset name (see `presets`)")
    source.add_argument("--verify", metavar="STUDY_ID", help="train the grouping a finished subsets study predicts "
                        "(under --max-groups), beside each task alone and all together, on its data, tasks, split, "
                        "method and number of seeds, on seeds after its own (runs the surrogate never saw); writes "
                        "verification.csv: predicted vs measured per task")
    source.add_argument("--more-seeds", metavar="STUDY_ID", help="add --seeds N seeds (default "
                        f"{MORE_SEEDS_DEFAULT}) to a finished study: its runs again with new seeds on the same split, "
                        "its done runs kept; then its results over all its seeds")
    source.add_argument("--data", nargs="+", metavar="FILE|DATASET", help="data files (CSV/TSV, UCI, lines, SemEval "
                        "XML, CoNLL; several formats may be mixed) and/or saved or catalog dataset names: tasks of "
                        "several datasets in one study, each trained only on its own dataset's rows")
    s.add_argument("--format", help="data format, if auto-detection guesses wrong: csv, tsv, uci, lines, semeval, conll")
    s.add_argument("--text-column", help="CSV: the column holding the text")
    s.add_argument("--label-columns", help="CSV: comma-separated label columns, each a task")
    s.add_argument("--test", metavar="FILE", help="a separate test file (e.g. an official test set) replacing the test split")
    s.add_argument("--tasks", help="comma-separated tasks to use (default: all)")
    s.add_argument("--plan", default=None, choices=["singles+all", "singles", "all", "pairs", "groups", "subsets"],
                   help="singles+all (default); singles; all; pairs (each alone + every pair + all together, "
                        "writes transfer.csv); groups (each alone + the --groups); subsets (each alone + --budget "
                        "sampled task subsets + all together; writes relevance.csv, surrogate_grouping.csv and "
                        "estimates.csv)")
    s.add_argument("--groups", help='with --plan groups: tasks joined by "+", groups by ",", e.g. "a+b,c"')
    s.add_argument("--budget", type=positive, metavar="N", help="with --plan subsets: how many task subsets to "
                   "train (each x seeds), from the number of tasks k up to 2^k - k - 2; default 3k, at most "
                   "every subset")
    s.add_argument("--max-groups", type=positive, metavar="K", help="with --verify: at most K groups (default: no "
                   "limit)")
    s.add_argument("--seeds", type=int, default=None, help="repeats with other random initialisations "
                   "(default: the preset's, else 3); with --more-seeds: how many seeds to add")
    s.add_argument("--epochs", type=int, help="maximum epochs per run (early stopping on validation)")
    add_method_options(s)
    s.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="any RunConfig option, e.g. hidden=64")
    s.add_argument("--data-dir", help="folder holding datasets (else $MTL_LAB_DATA_DIR, then ~/.mtl_lab/data)")
    s.add_argument("--out", required=True, help="folder for summary.csv (and predictions)")
    s.add_argument("--save-predictions", action="store_true", help="write every test example's gold and predicted labels")
    s.add_argument("--name", help="a name for the study")
    s.add_argument("--backend", choices=["local", "ray"], help="where the runs train: this machine (local, the "
                   "default) or a Ray cluster (ray); default: $MTL_LAB_BACKEND, else local")
    s.add_argument("--ray-address", metavar="auto|HOST:PORT|ray://HOST:PORT", help="with --backend ray: the cluster "
                   "(auto: the one `ray start` started here; default: $MTL_LAB_RAY_ADDRESS, else a local Ray)")

    q = sub.add_parser("submit", parents=[s], conflict_handler="resolve",
                       help="queue a study (the options of `study`) for the background worker; returns at once")
    q.add_argument("--out", help=argparse.SUPPRESS)
    q.add_argument("--start-worker", action="store_true", help="start a background worker if none is running")
    w = sub.add_parser("worker", help="serve the study queue (the app starts one itself when needed)")
    w.add_argument("--store", help="the SQLite store whose queue to serve (default: MTL_LAB_HOME/mtl_lab.sqlite)")
    w.add_argument("--workers", type=positive, default=1, metavar="N",
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

    e = sub.add_parser("export", help="write a stored study's summary.csv (and transfer.csv if it ran pairs); "
                                      "--report: one HTML file and a zip of every CSV; --mlflow: an MLflow experiment")
    e.add_argument("study_id")
    e.add_argument("--out", help="folder for the files (required without --report/--mlflow; --report: default "
                                 "the current folder; --mlflow: the default store goes in OUT/mlruns)")
    e.add_argument("--report", action="store_true", help="write <name>-<id>.html (charts, tables, verdicts, the "
                                                         "commands to run it again; opens offline) and <name>-<id>-csv.zip")
    e.add_argument("--mlflow", action="store_true", help="log the study to MLflow: one MLflow run per training run "
                                                         "(params, per-epoch metrics, test scores, baselines); "
                                                         "re-exporting updates, never duplicates")
    e.add_argument("--tracking-uri", help="with --mlflow: the MLflow tracking URI (default: a local file: store "
                                          "in MTL_LAB_HOME/mlruns, or OUT/mlruns with --out)")

    st = sub.add_parser("studies", help="the stored studies: list them, diff two, delete one")
    stsub = st.add_subparsers(dest="studies_command", required=True)
    ls = stsub.add_parser("list", help="a table of every study: id, name, status, tags, created, tasks, runs")
    ls.add_argument("--tag", help="only studies with this tag")
    df = stsub.add_parser("diff", help="two studies' settings side by side (only the rows that differ)")
    df.add_argument("first")
    df.add_argument("second")
    df.add_argument("--all", action="store_true", help="every setting, the same ones too")
    rm = stsub.add_parser("rm", help="delete an ended study with its runs, models and queue entries")
    rm.add_argument("study_id")

    t = sub.add_parser("selftest", help="check this installation: --reliability prints the reliability report")
    t.add_argument("--reliability", action="store_true", required=True,
                   help="bad inputs, injected faults, concurrent load; exit 0 only if nothing failed or was lost")
    t.add_argument("--quick", action="store_true", help="the short version for CI (about a minute)")
    t.add_argument("--workdir", help="keep the section folders here (default: a new temporary folder)")
    t.add_argument("--only", action="append", metavar="SECTION", help="run only this section (repeatable): "
                   "bad_inputs, faults, concurrency, ray_cluster")
    return p


def positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1. Got {text!r} instead")
    return int(text)


def parse_groups(text: str | None, plan: str | None) -> list[list[str]] | None:
    """--groups "a+b,c" -> [["a", "b"], ["c"]]; only with --plan groups (plan_runs validates the tasks)."""
    from mtl_core.errors import ConfigError

    if text is None:
        return None
    if plan != "groups":
        raise ConfigError(f"--groups needs --plan groups. Got --plan {plan or 'singles+all'} instead.")
    return [[t.strip() for t in group.split("+") if t.strip()] for group in text.split(",")]


def subsets_budget(budget: int | None, plan: str | None, tasks: list[str]) -> int | None:
    """--budget for --plan subsets: as given, else 3 subsets per task (``relatedness.subsets.default_budget``);
    None for the other plans, which take no budget."""
    from mtl_core.errors import ConfigError
    from mtl_core.relatedness.subsets import default_budget

    if plan != "subsets":
        if budget is not None:
            raise ConfigError(f"--budget needs --plan subsets. Got --plan {plan or 'singles+all'} instead.")
        return None
    return budget if budget is not None else default_budget(len(tasks))


# Options a verification takes from the study it verifies (--verify), or a study given more seeds (--more-seeds)
# keeps: giving one is refused, not ignored.
PARENT_OPTIONS = ("format", "text_column", "label_columns", "test", "tasks", "plan", "groups", "budget", "epochs",
                  "sharing", "cascade_order", "backbone", "tune_pretrained", "weighting", "sampling", "aux",
                  "data_dir", "set", "weighting_option")


def check_parent_options(args) -> None:
    """--max-groups only with --verify; with --verify or --more-seeds, none of the options the earlier study
    already fixes (with --more-seeds not its name, executor or --max-groups either)."""
    from mtl_core.errors import ConfigError

    if not args.verify and args.max_groups is not None:
        raise ConfigError("--max-groups goes with --verify STUDY_ID: add --verify, or leave --max-groups out.")
    more_seeds = getattr(args, "more_seeds", None)
    if not (args.verify or more_seeds):
        return
    given = [o for o in PARENT_OPTIONS + (("name", "backend", "ray_address") if more_seeds else ())
             if getattr(args, o, None)]
    if not given:
        return
    flags = ", ".join("--" + o.replace("_", "-") for o in given)
    if args.verify:
        raise ConfigError(f"--verify trains on the verified study's data, tasks, split and method, so {flags} cannot "
                          "be given with it. Leave them out (only --max-groups, --seeds, --name and the backend "
                          "options go with --verify).")
    raise ConfigError(f"--more-seeds repeats the study's own runs on its data, split and method, so {flags} cannot "
                      "be given with it. Leave them out (only --seeds, how many seeds to add, goes with it).")


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

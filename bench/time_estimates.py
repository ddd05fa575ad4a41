"""Estimated vs measured: how close ``studies.time_estimates`` comes to the time a queued study really takes here.

What is measured
    For each study of a list, in one fresh store (so each estimate can only use the studies before it): the
    study is queued through the CLI (``python -m mtl_core submit ...``, no worker yet), its estimate computed from
    the stored spec, then a worker is started (``python -m mtl_core worker``) and the clock runs until the study
    is settled (runs, baselines and all). Measured = worker started -> study done: what a user of the app waits
    when the app starts a worker for a queued study (the study's queue time is set to that moment, as in the app,
    which estimates before it queues). The worker is stopped after each study.

Reading the result
    ratio = estimated / measured: 1.0 is exact, 1.5 / 0.67 are the limits issue 19 asks for. The first study of a
    kind of data or model has no similar run to learn from (the default speed, every epoch): its ratio shows what
    the store's history adds. The machine's load (``uptime``) is printed with each study: on a shared CPU another
    process slows a run after its estimate was made.

This is a benchmark, not a test: nothing asserts a timing.

    MTL_LAB_DATA_DIR=../shared/datasets .venv/bin/python bench/time_estimates.py [--home DIR]
"""
from __future__ import annotations

import argparse
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SMALL = ["--set", "hidden=16", "--set", "emb_dim=16"]
UCI = "{data}/uci_sentiment/"
STUDIES = [  # (what differs, submit arguments): small studies, seconds to a couple of minutes each on 2 cores
    ("synthetic, 2 tasks, 6 epochs (first of its data)",
     ["--preset", "synthetic-demo", "--tasks", "base,related", "--seeds", "1", "--epochs", "6", *SMALL]),
    ("synthetic, 3 tasks, 8 epochs, patience 2",
     ["--preset", "synthetic-demo", "--tasks", "base,related,unrelated", "--seeds", "1", "--epochs", "8",
      "--set", "patience=2", *SMALL]),
    ("synthetic, all 4 together, 2 seeds",
     ["--preset", "synthetic-demo", "--plan", "all", "--seeds", "2", "--epochs", "8", "--set", "patience=2", *SMALL]),
    ("UCI yelp + amazon (first of its data)",
     ["--data", UCI + "yelp_labelled.txt", UCI + "amazon_cells_labelled.txt", "--seeds", "1", "--epochs", "8",
      "--set", "patience=2", *SMALL]),
    ("UCI yelp + amazon, 2 seeds, 6 epochs",
     ["--data", UCI + "yelp_labelled.txt", UCI + "amazon_cells_labelled.txt", "--seeds", "2", "--epochs", "6",
      "--set", "patience=2", *SMALL]),
    ("UCI yelp + imdb + amazon (other data, same model)",
     ["--data", UCI + "yelp_labelled.txt", UCI + "imdb_labelled.txt", UCI + "amazon_cells_labelled.txt",
      "--seeds", "1", "--epochs", "8", "--set", "patience=2", *SMALL]),
    ("ABSA from scratch, food + service (other data)",
     ["--preset", "absa-scratch", "--tasks", "food,service", "--seeds", "1", "--epochs", "8", "--set", "patience=2",
      *SMALL]),
]


def load() -> str:
    return Path("/proc/loadavg").read_text().split()[0] if Path("/proc/loadavg").exists() else "?"


def cli(args: list[str], env: dict) -> str:
    done = subprocess.run([sys.executable, "-m", "mtl_core", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600)
    if done.returncode != 0:
        raise SystemExit(f"`{shlex.join(args)}` failed:\n{done.stderr[-2000:]}")
    return done.stdout.strip().splitlines()[-1]


def measure(args: list[str], env: dict) -> tuple[str, float, float]:
    """(study id, estimated seconds, measured seconds) of one study queued with ``args``."""
    from mtl_core.status import SETTLED
    from mtl_core.store import Store
    from mtl_core.studies.spec import spec_from_dict
    from mtl_core.studies.time_estimates import estimate_seconds

    store = Store()
    study_id = cli(["submit", *args], env)
    estimate = estimate_seconds(spec_from_dict(store.study(study_id)["spec"]), store)
    # The app computes the estimate before it queues and starts the worker at once: the study is queued now.
    store.update_study(study_id, created=time.time())
    start = time.perf_counter()
    worker = subprocess.Popen([sys.executable, "-m", "mtl_core", "worker"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while store.study(study_id)["status"] not in SETTLED:
            time.sleep(0.25)
        measured = time.perf_counter() - start
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)
    if store.study(study_id)["status"] != "done":
        raise SystemExit(f"study {study_id} ended {store.study(study_id)['status']}: {store.study(study_id)['error']}")
    return study_id, estimate, measured


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--home", help="the MTL_LAB_HOME to fill (default: a new temporary folder)")
    p.add_argument("--only", type=int, nargs="+", help="run only these studies of the list (1-based)")
    args = p.parse_args()
    home = Path(args.home or tempfile.mkdtemp(prefix="mtl_time_estimates_"))
    data = os.environ.get("MTL_LAB_DATA_DIR", str(ROOT.parent / "shared" / "datasets"))
    os.environ.update(MTL_LAB_HOME=str(home), MTL_LAB_DATA_DIR=data, MTL_LAB_AUTOSTART_WORKER="0")
    env = dict(os.environ)
    print(f"store: {home}\n| # | study | estimated (s) | measured (s) | estimated / measured | load before, after |")
    print("|---|---|---|---|---|---|")
    for k, (what, study_args) in enumerate(STUDIES, 1):
        if args.only and k not in args.only:
            continue
        before = load()
        _, estimate, measured = measure([a.replace("{data}", data) for a in study_args], env)
        print(f"| {k} | {what} | {estimate:.0f} | {measured:.0f} | {estimate / measured:.2f} | {before}, {load()} |",
              flush=True)


if __name__ == "__main__":
    main()

"""What an open page costs the training it shows: a background worker's training examples/s with no browser, with
the Train page open in headless Chromium, and with the Compare page open, measured side by side in one run.

    python bench/ui_overhead.py [--rounds 3] [--epochs 6] [--preset synthetic-demo]
    python bench/ui_overhead.py --page-cost [--seconds 40]

``--page-cost`` splits what an open page costs into its two parts, on a study that trains for minutes: opening it
(the browser loads and draws the app: once per visit) and keeping it open (each refresh), as CPU seconds of the
browser and the server, for the Train and the Compare page. CPU seconds, unlike examples/s, hardly depend on
what else the machine runs.

One fresh MTL Lab home, one `streamlit run app.py` server and one worker process for the whole run. Each round
queues the same one-run study three times, one per condition, in turn (so a load that changes over the minutes
hits every condition alike); the page is opened as soon as the study is queued and closed once it ends. Speed is the
trainer's own examples/s (training steps only, what the worker reports). The CPU seconds of the server, the
browser (every tab process) and the worker are read from /proc: on a machine others share, examples/s swing with
their load, while the UI's share of the CPU it and the worker used does not. Prints each condition's median over
the rounds, its ratio to no browser, and the load average.
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
CONDITIONS = ("no browser", "Train page open", "Compare page open")


def cpu_seconds(root: int) -> float:
    """CPU seconds (user + system) so far of process ``root`` and every process under it, the ended ones it has
    waited for included (Linux /proc): a browser's tabs come and go as child processes."""
    stats = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):  # not a process, or it ended meanwhile
            continue
        stats[int(entry.name)] = (int(fields[1]), sum(int(f) for f in fields[11:15]))  # ppid; utime..cstime
    tree, grew = {root}, True
    while grew:
        more = {pid for pid, (ppid, _) in stats.items() if ppid in tree} - tree
        tree, grew = tree | more, bool(more)
    return sum(stats[pid][1] for pid in tree if pid in stats) / os.sysconf("SC_CLK_TCK")


def browser_pid(marker: str) -> int:
    """The browser process launched with the command-line flag ``marker``."""
    for entry in Path("/proc").iterdir():
        try:
            if marker.encode() in (entry / "cmdline").read_bytes():
                return int(entry.name)
        except (OSError, ValueError):
            continue
    raise SystemExit("the headless browser process was not found")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def processes(home: Path):
    """The Streamlit server and one worker over ``home``: (url, server pid, worker pid) until stopped."""
    env = {**os.environ, "MTL_LAB_HOME": str(home), "MTL_LAB_AUTOSTART_WORKER": "0"}
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(REPO / "app.py"),
                               "--server.headless", "true", "--server.address", "127.0.0.1", "--server.port",
                               str(port), "--browser.gatherUsageStats", "false"], cwd=REPO, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    worker = subprocess.Popen([sys.executable, "-m", "mtl_core", "worker", "--store", str(home / "mtl_lab.sqlite")],
                              cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 90
        while True:
            try:
                urllib.request.urlopen(url + "/_stcore/health", timeout=2)
                break
            except OSError:
                if server.poll() is not None or time.time() > deadline:
                    raise SystemExit("streamlit did not start")
                time.sleep(0.5)
        yield url, server.pid, worker.pid
    finally:
        for proc in (worker, server):
            proc.terminate()
        for proc in (worker, server):
            proc.wait(timeout=30)


def open_page(browser, url: str):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(url, timeout=120_000)
    page.get_by_text("Device in use").wait_for(timeout=120_000)  # the page has rendered
    return page


def train_once(store, spec, page_url: str | None, browser, url: str) -> tuple[float, float, str]:
    """Queue ``spec`` with ``page_url`` open in a tab meanwhile ("{study}" in it: the study being trained);
    (examples/s, wall seconds, study id)."""
    from mtl_core.status import ACTIVE, Status
    from mtl_core.studies.submit import queue_study

    start = time.perf_counter()
    study_id = queue_study(spec, store, start_worker=False)
    page = open_page(browser, url + page_url.format(study=study_id)) if page_url is not None else None
    while store.study_state(study_id)["status"] in ACTIVE:
        time.sleep(0.5)
    wall = time.perf_counter() - start
    if page is not None:
        page.close()
    runs = store.runs(study_id)
    if any(r["status"] != Status.DONE for r in runs):
        raise SystemExit(f"study {study_id} did not finish: {[(r['status'], r['error']) for r in runs]}")
    return statistics.mean(r["examples_per_second"] for r in runs), wall, study_id


def page_cost(preset: str, seconds: float) -> None:
    """CPU of opening, then of keeping open, the Train and the Compare page while a long study trains."""
    from playwright.sync_api import sync_playwright

    home = Path(tempfile.mkdtemp(prefix="ui_page_cost_"))
    os.environ["MTL_LAB_HOME"] = str(home)
    from mtl_core.store import Store
    from mtl_core.studies.spec import StudySpec
    from mtl_core.studies.submit import queue_study

    store = Store(home / "mtl_lab.sqlite")
    short = StudySpec.from_preset(preset, seeds=1, plan="all", name="finished")
    short.config.update(epochs=2)
    long = StudySpec.from_preset(preset, seeds=1, plan="all", name="long")
    long.config.update(epochs=10_000, patience=10_000)
    print(f"{'page':<8} {'open: browser':>14} {'server':>7}   {'kept open: browser':>19} {'server':>7}  (CPU s; "
          f"cores over {seconds:.0f} s)")
    with processes(home) as (url, server_pid, worker_pid), sync_playwright() as pw:
        marker = f"--mtl-lab-bench={os.getpid()}"
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=[*FLAGS, marker])
        watched = {"browser": browser_pid(marker), "server": server_pid}
        finished = queue_study(short, store, start_worker=False)
        while store.study_state(finished)["status"] != "done":
            time.sleep(0.5)
        running = queue_study(long, store, start_worker=False)
        while store.study_state(running)["status"] != "running":
            time.sleep(0.5)
        for name, path in (("Train", f"/Train?study={running}"), ("Compare", f"/Compare?study={finished}")):
            open_page(browser, url + path).close()  # the server imports the page's modules once, untimed
            before = {k: cpu_seconds(pid) for k, pid in watched.items()}
            page = open_page(browser, url + path)
            page.wait_for_timeout(8_000)  # the charts draw
            opened = {k: cpu_seconds(pid) for k, pid in watched.items()}
            page.wait_for_timeout(seconds * 1000)
            kept = {k: (cpu_seconds(pid) - opened[k]) / seconds for k, pid in watched.items()}
            page.close()
            print(f"{name:<8} {opened['browser'] - before['browser']:14.2f} {opened['server'] - before['server']:7.2f}"
                  f"   {kept['browser']:19.3f} {kept['server']:7.3f}", flush=True)
        from mtl_core.studies.queue import cancel_study
        cancel_study(running, store)
        browser.close()
    shutil.rmtree(home, ignore_errors=True)
    load = os.getloadavg()
    print(f"load average: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} CPUs")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--preset", default="synthetic-demo")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--epochs", type=int, default=6)
    p.add_argument("--page-cost", action="store_true", help="CPU of opening and of keeping open each page")
    p.add_argument("--seconds", type=float, default=40, help="with --page-cost: how long each page is kept open")
    args = p.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stopped: still stop the server, worker and browser
    if args.page_cost:
        page_cost(args.preset, args.seconds)
        return
    from playwright.sync_api import sync_playwright

    home = Path(tempfile.mkdtemp(prefix="ui_overhead_"))
    os.environ["MTL_LAB_HOME"] = str(home)
    from mtl_core.store import Store
    from mtl_core.studies.spec import StudySpec

    spec = StudySpec.from_preset(args.preset, seeds=1, plan="all", name="ui overhead")
    spec.config.update(epochs=args.epochs, patience=args.epochs)  # every epoch runs: the same work each time
    store = Store(home / "mtl_lab.sqlite")
    speeds: dict[str, list[float]] = {c: [] for c in CONDITIONS}
    ui_share: dict[str, list[float]] = {c: [] for c in CONDITIONS}  # the UI's CPU / (the UI's + the worker's)
    with processes(home) as (url, server_pid, worker_pid), sync_playwright() as pw:
        marker = f"--mtl-lab-bench={os.getpid()}"  # finds the browser among the machine's processes
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=[*FLAGS, marker])
        watched = {"server": server_pid, "browser": browser_pid(marker), "worker": worker_pid}
        _, _, finished = train_once(store, spec, None, browser, url)  # warm-up; Compare shows this one
        pages = {"no browser": None, "Train page open": "/Train?study={study}",
                 "Compare page open": f"/Compare?study={finished}"}
        for path in pages.values():  # the server imports each page's modules once, before anything is timed
            if path is not None:
                open_page(browser, url + path.format(study=finished)).close()
        for k in range(args.rounds):
            for condition in CONDITIONS:
                before = {name: cpu_seconds(pid) for name, pid in watched.items()}
                speed, wall, _ = train_once(store, spec, pages[condition], browser, url)
                cpu = {name: (cpu_seconds(pid) - before[name]) / wall for name, pid in watched.items()}
                speeds[condition].append(speed)
                ui_share[condition].append((cpu["server"] + cpu["browser"]) / sum(cpu.values()))
                print(f"round {k + 1} {condition:<18} {speed:8.0f} examples/s {wall:6.1f} s   CPU (cores): "
                      + "  ".join(f"{name} {value:4.2f}" for name, value in cpu.items()), flush=True)
        browser.close()
    shutil.rmtree(home, ignore_errors=True)
    report(speeds, ui_share)


def report(speeds: dict[str, list[float]], ui_share: dict[str, list[float]]) -> None:
    base = statistics.median(speeds["no browser"])
    print(f"\n{'condition':<18} {'examples/s (median)':>20} {'ratio':>6} {'cost':>6} {'UI share of CPU':>16}")
    for condition in CONDITIONS:
        median = statistics.median(speeds[condition])
        print(f"{condition:<18} {median:20.0f} {median / base:6.2f} {100 * (1 - median / base):5.1f}% "
              f"{100 * statistics.median(ui_share[condition]):15.1f}%")
    print("UI share of CPU: the server's and the browser's CPU seconds over theirs plus the worker's, while the "
          "study trained\n(what the page takes from training on a busy machine, whatever else runs there)")
    load = os.getloadavg()
    print(f"load average: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} CPUs")

if __name__ == "__main__":
    main()

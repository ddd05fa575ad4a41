"""Fault injection with real worker processes, and the security checks; a section of the reliability self-test.

One MTL Lab home, one store, workers started and killed for real (``python -m mtl_core worker``):

(e) a study's data file deleted before the worker starts -> that study fails with an error naming the file,
    the same worker goes on to the next study;
(d) disk full while saving a checkpoint (the checkpoint's temporary file is a link to /dev/full, so the
    write really fails with "no space") -> the run keeps its scores, says why it has no model, store intact;
(a) kill -9 of the worker mid-run -> the next worker finishes the study; finished runs untouched, only the
    interrupted run started again;
(b) kill -9 of an idle worker -> its heartbeat row is cleared, a new worker serves a new study;
(f) SIGTERM during a run -> the run stops within a second and goes back to "queued", the worker exits with
    status 0 (it used to abort: huey leaves its thread inside torch at exit); the next worker finishes it;
(c) a truncated or junk checkpoint -> Predict (``predict.load_predictor``) refuses it with a clear
    PredictError; the scores are unaffected.
Not injected: out-of-memory on a GPU (CPU-only here; nothing retries smaller yet), reported under
``details["not_injected"]``.

After every fault: results lost (a run once done whose status, start time or scores changed) must be 0,
and ``PRAGMA integrity_check`` must say ok.
Security: a checkpoint holding a pickle payload is refused (weights_only=True) and its side effect never
happens; upload names with folders are refused; the app binds to 127.0.0.1.
"""
from __future__ import annotations

import os
import signal
import tomllib
import warnings
from pathlib import Path

from mtl_core.selftest.procs import (
    ROOT,
    Checks,
    Processes,
    SelfTestTimeout,
    integrity,
    tiny_spec,
    wait_for,
)
from mtl_core.status import SETTLED, Status
from mtl_core.store import Store
from mtl_core.studies.processes import identity_alive
from mtl_core.studies.queue import submit_study
from mtl_core.studies.spec import StudySpec

NAME = "faults"
NOT_INJECTED = {"gpu_out_of_memory": "Not injected with a real GPU here (training runs on the CPU). A run that "
                                     "raises CUDA's out-of-memory error is trained again with half the batch, up "
                                     "to 3 times (study.train_fitting_memory; tests/test_faults.py injects it)."}


def _done_snapshot(store: Store) -> dict[int, tuple]:
    """Every done run's (start, end, test scores), to find later whether a finished result vanished or changed."""
    snap = {}
    for study in store.studies():
        scores: dict[int, list] = {}
        for s in store.scores(study["id"]):
            scores.setdefault(s["run_id"], []).append((s["task"], s["metric"], s["value"]))
        for run in store.runs(study["id"]):
            if run["status"] == Status.DONE:
                snap[run["id"]] = (run["started"], run["finished"], sorted(scores.get(run["id"], [])))
    return snap


def results_lost(store: Store, before: dict[int, tuple]) -> list[int]:
    now = _done_snapshot(store)
    return [run_id for run_id, result in before.items() if now.get(run_id) != result or not result[2]]


def _study_done(store: Store, study_id: str) -> bool:
    return store.study(study_id)["status"] in SETTLED


def _attempts(store: Store, study_id: str) -> dict[int, int]:
    return {r["id"]: r["attempts"] for r in store.runs(study_id)}


class _Payload:
    """Unpickling this runs ``open(marker, "w")``: the side effect a malicious checkpoint would have."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return open, (self.marker, "w")


def _security(home: Path, store: Store, run_id: int, report: Checks) -> dict:
    import torch

    from mtl_core.data.library import save_upload
    from mtl_core.predict import PredictError, load_predictor

    out = {}
    marker = home / "payload_ran.txt"
    checkpoint = Path(store.run(run_id)["checkpoint"])
    torch.save({"embedding.weight": _Payload(marker)}, checkpoint)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's note on the pickle protocol of the refused file
            load_predictor(store, run_id)
        refused = False
    except PredictError as exc:
        refused = "cannot be read as plain weights" in str(exc)
    out["pickle_checkpoint_refused"] = report.check("a checkpoint holding a pickle payload is refused",
                                                    refused and not marker.exists())
    loaded = torch.load(checkpoint, weights_only=False)  # the same file, unsafely: the payload is live
    for value in loaded.values():
        value.close()
    out["payload_is_live"] = report.check("the refused payload really runs code when loaded unsafely",
                                          marker.exists())
    old_home = os.environ.get("MTL_LAB_HOME")
    os.environ["MTL_LAB_HOME"] = str(home)  # save_upload writes under this process' home
    try:
        refused_names = []
        for name in ("../escape.csv", "..\\escape.csv", "/tmp/escape.csv", "sub/escape.csv", "..", ""):
            try:
                save_upload(name, b"text,label\nhello,1\n")
            except Exception as exc:  # noqa: BLE001 - a DataError is expected; anything else is reported
                refused_names.append(type(exc).__name__ == "DataError")
            else:
                refused_names.append(False)
        escaped = [p for p in (home.parent / "escape.csv", home / "escape.csv") if p.exists()]
        out["upload_names_refused"] = report.check("upload names with folders are refused",
                                                   all(refused_names) and not escaped, f"{refused_names}")
    finally:
        if old_home is None:
            os.environ.pop("MTL_LAB_HOME", None)
        else:
            os.environ["MTL_LAB_HOME"] = old_home
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    address = config.get("server", {}).get("address")
    out["app_binds_localhost"] = report.check("the app binds to 127.0.0.1", address == "127.0.0.1", str(address))
    return out


def run(workdir: Path, quick: bool = False) -> dict:
    workdir = Path(workdir)
    home = workdir / "mtl_home"
    store = Store(home / "mtl_lab.sqlite")
    procs = Processes(home)
    report = Checks()
    kinds: list[str] = []
    lost: list[int] = []
    details: dict = {"not_injected": dict(NOT_INJECTED)}
    epochs = 4 if quick else 8
    try:
        # (e) + (d) + (a): three studies queued before the first worker starts.
        gone = home / "vanishing.csv"
        gone.write_text("text,label\nfine,1\nbad,0\n")
        s_gone = submit_study(StudySpec(name="data gone", source={"files": [str(gone)]}, tasks=["label"], seeds=1,
                                        config={"epochs": 1, "hidden": 8, "emb_dim": 8}), store)
        gone.unlink()
        s_full = submit_study(tiny_spec("disk full", plan="singles", tasks=["base"]), store)
        full_run = store.runs(s_full)[0]["id"]
        tmp = home / "checkpoints" / s_full / f"run{full_run}.tmp"
        tmp.parent.mkdir(parents=True)
        tmp.symlink_to("/dev/full")  # every write there fails with ENOSPC, as on a full disk
        s_kill = submit_study(tiny_spec("killed", seeds=1 if quick else 2, epochs=epochs, n_examples=300), store)

        w1 = procs.worker(store)
        wait_for(lambda: _study_done(store, s_gone) and _study_done(store, s_full), 60, "the first two studies")
        study = store.study(s_gone)
        kinds.append("data file gone before the worker starts")
        report.check("(e) the study whose data vanished failed, naming the file",
                     study["status"] == Status.FAILED and "vanishing.csv" in (study["error"] or ""),
                     study["error"] or "")
        report.check("(e) its runs failed with a readable error",
                     all(r["status"] == Status.FAILED and "Traceback" not in r["error"] for r in store.runs(s_gone)))
        report.check("(e) the worker survived and ran the next study", w1.poll() is None
                     and store.study(s_full)["status"] == Status.DONE)

        kinds.append("disk full while saving a checkpoint")
        run = store.runs(s_full)[0]
        report.check("(d) the run kept its scores", run["status"] == Status.DONE and bool(store.scores(s_full)))
        report.check("(d) the run says why it has no model", run["checkpoint"] is None
                     and "could not be saved" in (run["error"] or ""), run["error"] or "")
        report.check("(d) no half-written checkpoint left", not any(tmp.parent.glob("run*.pt")))
        from mtl_core.predict import PredictError, load_predictor
        try:
            load_predictor(store, full_run)
            message = ""
        except PredictError as exc:
            message = str(exc)
        report.check("(d) Predict explains the missing model", "could not be saved" in message, message)
        report.check("(d) store intact", integrity(store) == "ok")

        def midway():
            runs = store.runs(s_kill)
            done = [r for r in runs if r["status"] == Status.DONE]
            busy = [r for r in runs if r["status"] == Status.RUNNING and (r["progress"] or {}).get("epoch")]
            return busy[0] if done and busy else None

        interrupted = wait_for(midway, 60, "a run done and the next one training", poll=0.02)
        before = _done_snapshot(store)
        procs.kill(w1)  # (a) kill -9 mid-run
        kinds.append("kill -9 of the worker mid-run")
        left = next(r for r in store.runs(s_kill) if r["id"] == interrupted["id"])
        report.check("(a) the killed worker's run is left running, its owner seen dead",
                     left["status"] == Status.RUNNING and not identity_alive(left["owner"]), left["status"])
        w2 = procs.worker(store)
        wait_for(lambda: store.study(s_kill)["status"] == Status.DONE, 90, "the next worker to finish the killed study")
        lost += results_lost(store, before)
        attempts = _attempts(store, s_kill)
        report.check("(a) the next worker finished every run",
                     all(r["status"] == Status.DONE for r in store.runs(s_kill)))
        report.check("(a) only the interrupted run started twice",
                     all(n == (2 if rid == interrupted["id"] else 1) for rid, n in attempts.items()), str(attempts))
        report.check("(a) store intact", integrity(store) == "ok")

        # (b) kill -9 while idle
        before = _done_snapshot(store)
        wait_for(lambda: w2.poll() is None and store.workers(), 10, "the idle worker's heartbeat")
        procs.kill(w2)
        kinds.append("kill -9 of an idle worker")
        s_after = submit_study(tiny_spec("after idle kill", plan="singles", tasks=["base"]), store)
        s_term = submit_study(tiny_spec("terminated", plan="singles", tasks=["base", "related"], epochs=epochs * 2,
                                        n_examples=200), store)
        w3 = procs.worker(store)
        wait_for(lambda: store.study(s_after)["status"] == Status.DONE, 60, "a new worker after the idle kill")
        report.check("(b) a new worker served the next study", w3.poll() is None)
        report.check("(b) the dead worker's heartbeat row was cleared",
                     all(identity_alive(w["identity"]) for w in store.workers()))

        # (f) SIGTERM mid-run
        term_run = wait_for(lambda: next((r for r in store.runs(s_term) if r["status"] == Status.RUNNING
                                          and (r["progress"] or {}).get("epoch")), None), 60, "a run to train",
                            poll=0.02)
        lost += results_lost(store, before)
        before = _done_snapshot(store)
        status = procs.kill(w3, signal.SIGTERM, timeout=30)
        kinds.append("SIGTERM of the worker mid-run")
        left = next(r for r in store.runs(s_term) if r["id"] == term_run["id"])
        details["sigterm"] = {"exit_status": status, "run_left": left["status"],
                              "owner_alive": identity_alive(left["owner"])}
        report.check("(f) the worker exits cleanly on SIGTERM (status 0, no abort)", status == 0, str(status))
        report.check("(f) the stopped run went back to the queue at once", left["status"] == Status.QUEUED,
                     left["status"])
        w4 = procs.worker(store)
        wait_for(lambda: store.study(s_term)["status"] == Status.DONE, 90,
                 "the next worker to finish the stopped study")
        runs = store.runs(s_term)
        report.check("(f) the next worker finished it; only the stopped run started twice",
                     all(r["status"] == Status.DONE for r in runs) and _attempts(store, s_term)
                     == {r["id"]: 2 if r["id"] == term_run["id"] else 1 for r in runs}, str(_attempts(store, s_term)))
        lost += results_lost(store, before)
        report.check("(f) store intact", integrity(store) == "ok")
        procs.kill(w4)

        # (c) corrupt checkpoints: Predict refuses them clearly, scores unaffected
        before = _done_snapshot(store)
        kinds.append("truncated or junk checkpoint")
        models = [r for r in store.runs(s_kill) if r["checkpoint"]]
        load_predictor(store, models[0]["id"]).predict(["a quick check"])  # the intact model works
        for run, damage in zip(models, ("truncate", "junk")):
            path = Path(run["checkpoint"])
            data = path.read_bytes()
            path.write_bytes(data[: len(data) // 2] if damage == "truncate" else os.urandom(len(data)))
            try:
                load_predictor(store, run["id"])
                message = ""
            except PredictError as exc:
                message = str(exc)
            report.check(f"(c) a {damage}d checkpoint gets a clear error",
                         str(path) in message and "Fix:" in message, message or "no error")
        lost += results_lost(store, before)

        details["security"] = _security(home, store, models[-1]["id"] if len(models) > 2 else models[0]["id"], report)
        report.check("store intact at the end", integrity(store) == "ok")
    except (SelfTestTimeout, Exception) as exc:  # noqa: BLE001 - the section reports, the runner goes on
        report.failures.append(f"{type(exc).__name__}: {exc}\n{procs.log_tail()}")
    finally:
        procs.close()
    details.update(fault_kinds=kinds, results_lost=len(lost), lost_runs=lost, processes=len(procs.started))
    return report.section(NAME, details)

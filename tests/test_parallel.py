"""Runs trained at once: how many, how workers share out GPUs and cores, and one study spread over workers."""
from __future__ import annotations

from mtl_core.selftest.procs import tiny_spec
from mtl_core.store import Store
from mtl_core.studies.parallel import RUNS_PER_GPU, child_env, parallel_runs
from mtl_core.studies.processes import worker_command
from mtl_core.studies.queue import fan_out, get_queue, retry_study, submit_study


def test_parallel_runs_follows_the_cores_the_gpus_and_the_setting(monkeypatch):
    monkeypatch.delenv("MTL_LAB_PARALLEL_RUNS", raising=False)
    monkeypatch.setattr("mtl_core.studies.parallel.gpu_count", lambda: 0)
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    assert parallel_runs() == 1  # this 2-core machine: one worker, one core left to the app
    monkeypatch.setattr("os.cpu_count", lambda: 16)
    assert parallel_runs() == 3  # one per 4 of the 15 cores the app leaves
    monkeypatch.setattr("mtl_core.studies.parallel.gpu_count", lambda: 2)
    assert parallel_runs() == 2 * RUNS_PER_GPU
    monkeypatch.setenv("MTL_LAB_PARALLEL_RUNS", "3")
    assert parallel_runs() == 3
    monkeypatch.setenv("MTL_LAB_PARALLEL_RUNS", "zero")  # not a count: the default again
    assert parallel_runs() == 2 * RUNS_PER_GPU


def test_each_worker_gets_one_gpu_round_robin_and_a_share_of_the_cores(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 9)
    envs = [child_env({"PATH": "/bin"}, i, workers=4, gpus=2) for i in range(4)]
    assert [e["CUDA_VISIBLE_DEVICES"] for e in envs] == ["0", "1", "0", "1"]
    assert {e["MTL_LAB_THREADS"] for e in envs} == {"2"}  # (9 - 1) // 4
    assert all(e["PATH"] == "/bin" for e in envs)
    one_gpu = child_env({}, 1, workers=4, gpus=1)
    assert "CUDA_VISIBLE_DEVICES" not in one_gpu  # one card: every worker shares it
    chosen = child_env({"CUDA_VISIBLE_DEVICES": "3", "MTL_LAB_THREADS": "5"}, 1, workers=4, gpus=2)
    assert chosen["CUDA_VISIBLE_DEVICES"] == "3" and chosen["MTL_LAB_THREADS"] == "5"  # the user's own win


def test_a_study_is_queued_once_per_parallel_run(tmp_path, monkeypatch):
    store = Store(tmp_path / "mtl_lab.sqlite")
    monkeypatch.setenv("MTL_LAB_PARALLEL_RUNS", "3")
    assert fan_out(store) == 3
    study_id = submit_study(tiny_spec("spread", seeds=2), store)
    pending = [t.args[0] for t in get_queue(store).pending()]
    assert pending == [study_id] * 3
    for run in store.runs(study_id)[:1]:  # one failed run queued again: one message is enough
        store.update_run(run["id"], status="failed", error="x")
    store.update_study(study_id, status="failed")
    assert retry_study(study_id, store) == 1
    assert [t.args[0] for t in get_queue(store).pending()] == [study_id] * 4


def test_the_app_starts_as_many_workers_as_runs_at_once():
    assert worker_command("s.sqlite", 4)[-4:] == ["--store", "s.sqlite", "--workers", "4"]
    assert "--workers" not in worker_command("s.sqlite", 1)

"""The Ray backend on a real Ray: one cluster of two nodes (1 CPU each) started here, shared by the module's tests
(Ray takes seconds to start). No mocks: runs train as Ray tasks, a node is removed for real."""
from __future__ import annotations

import csv
import threading
import time
from pathlib import Path

import pytest
import ray
from ray.cluster_utils import Cluster

from mtl_core.cli.outputs import write_summary
from mtl_core.errors import ConfigError
from mtl_core.results.study_results import StudyResults
from mtl_core.selftest.procs import tiny_spec
from mtl_core.status import Status
from mtl_core.store import Store
from mtl_core.studies.backends import ClusterUnreachable, Executor, executor_from_env
from mtl_core.studies.dispatch import run_study
from mtl_core.studies.queue import cancel_study, get_queue
from mtl_core.studies.submit import queue_study


@pytest.fixture(scope="module")
def cluster():
    """A head and one more node, one CPU each (two runs train at once, one per node)."""
    ray.shutdown()
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    node = cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    yield cluster, node
    ray.shutdown()
    cluster.shutdown()


def summary_rows(store: Store, study_id: str, out: Path) -> list[dict]:
    write_summary(StudyResults.load(store, study_id), out)
    with open(out / "summary.csv", newline="") as f:
        return list(csv.DictReader(f))


def test_a_study_on_ray_gives_the_local_backends_summary_for_the_same_seeds(cluster, tmp_path):
    import torch

    store = Store(tmp_path / "mtl_lab.sqlite")
    spec = tiny_spec("same scores", seeds=2, epochs=2)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as each Ray task (1 CPU): the same arithmetic, so the same scores
    try:
        local_id, _ = run_study(spec, store, Executor())
    finally:
        torch.set_num_threads(threads)
    ray_id, results = run_study(spec, store, Executor("ray", cluster[0].address))
    local, on_ray = summary_rows(store, local_id, tmp_path / "local"), summary_rows(store, ray_id, tmp_path / "ray")
    assert len(on_ray) >= 6 and on_ray == local  # every task x setting, baselines too, the same numbers
    runs = store.runs(ray_id)
    assert len(results) == len(runs) == 6 and all(r["status"] == Status.DONE for r in runs)
    assert all(r["checkpoint"] and Path(r["checkpoint"]).is_file() for r in runs)  # written by this process
    assert all(store.curves(r["id"]) for r in runs) and store.study(ray_id)["executor"]["backend"] == "ray"
    assert store.study(local_id)["executor"] is None  # the local backend's study as before


def test_a_node_removed_mid_study_loses_no_run_and_stores_none_twice(cluster, tmp_path):
    head, node = cluster
    store = Store(tmp_path / "mtl_lab.sqlite")
    spec = tiny_spec("node dies", seeds=1, epochs=40, n_examples=300)  # runs long enough to be caught mid-run
    removed: list[int] = []

    def remove_node_mid_run() -> None:  # as soon as a run trains on the second node past its first epoch
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            for running in store.running_runs():
                progress = store.run(running["id"])["progress"] or {}
                if progress.get("node") == node.node_id and 1 <= progress.get("epoch", 0) <= 30:  # of 40: mid-run
                    head.remove_node(node)
                    removed.append(running["id"])
                    return
            time.sleep(0.05)

    killer = threading.Thread(target=remove_node_mid_run, daemon=True)
    killer.start()
    study_id, results = run_study(spec, store, Executor("ray", head.address))
    killer.join(5)
    assert removed, "no run trained on the second node"
    runs = store.runs(study_id)
    assert [r["status"] for r in runs] == [Status.DONE] * 3 and len(results) == 3
    interrupted = store.run(removed[0])
    assert interrupted["attempts"] == 2  # Ray ran it again; it was stored once
    assert all(r["progress"]["node"] == head.head_node.node_id for r in runs)  # each shown live, to its last epoch
    for run in runs:
        keys = [(c["epoch"], c["task"], c["name"]) for c in store.curves(run["id"])]
        assert len(keys) == len(set(keys)) and max(k[0] for k in keys) == run["epochs_run"]
    scores = store.scores(study_id)
    assert len({(s["run_id"], s["task"], s["metric"]) for s in scores}) == len(scores)
    assert store.study(study_id)["status"] == Status.DONE


def test_cancelling_a_ray_study_cancels_its_tasks(cluster, tmp_path):
    store = Store(tmp_path / "mtl_lab.sqlite")
    spec = tiny_spec("cancelled", seeds=2, epochs=200, n_examples=300)  # far longer than the test waits

    def cancel_when_training() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            for running in store.running_runs():
                if (store.run(running["id"])["progress"] or {}).get("epoch"):
                    cancel_study(running["study_id"], store)
                    return
            time.sleep(0.05)

    canceller = threading.Thread(target=cancel_when_training, daemon=True)
    canceller.start()
    started = time.monotonic()
    study_id, results = run_study(spec, store, Executor("ray", cluster[0].address))
    assert time.monotonic() - started < 60  # 200 epochs x 6 runs would take far longer
    statuses = [r["status"] for r in store.runs(study_id)]
    assert Status.CANCELLED in statuses and Status.RUNNING not in statuses and Status.QUEUED not in statuses
    assert store.study(study_id)["status"] == Status.CANCELLED


def test_an_unreachable_cluster_is_refused_naming_the_address_and_nothing_is_queued(tmp_path, monkeypatch):
    store = Store(tmp_path / "mtl_lab.sqlite")
    executor = Executor("ray", "127.0.0.1:9")  # the discard port: nothing listens there
    with pytest.raises(ClusterUnreachable, match=r"127\.0\.0\.1:9.*ray start --head"):
        queue_study(tiny_spec("nowhere"), store, start_worker=False, executor=executor)
    with pytest.raises(ClusterUnreachable, match=r"127\.0\.0\.1:9"):
        run_study(tiny_spec("nowhere"), store, executor)
    assert store.studies() == [] and list(get_queue(store).pending()) == []


def test_backend_settings_come_from_flags_or_the_environment_and_bad_ones_are_refused(monkeypatch):
    monkeypatch.delenv("MTL_LAB_BACKEND", raising=False)
    assert executor_from_env() == Executor()  # the local backend stays the default
    monkeypatch.setenv("MTL_LAB_BACKEND", "ray")
    monkeypatch.setenv("MTL_LAB_RAY_ADDRESS", "ray://10.0.0.5:10001")
    monkeypatch.setenv("MTL_LAB_RAY_GPUS_PER_RUN", "0.5")
    chosen = executor_from_env()
    assert (chosen.backend, chosen.address, chosen.gpus_per_run) == ("ray", "ray://10.0.0.5:10001", 0.5)
    assert executor_from_env(address="auto").address == "auto"  # the flag wins over the environment
    assert executor_from_env("local").to_dict() is None
    with pytest.raises(ConfigError, match="--backend ray"):
        executor_from_env("local", "10.0.0.5:6379")
    with pytest.raises(ConfigError, match="Got 'head-node' instead"):
        Executor("ray", "head-node")
    with pytest.raises(ConfigError, match="must be one of"):
        Executor("slurm")
    monkeypatch.setenv("MTL_LAB_RAY_GPUS_PER_RUN", "1.5")
    with pytest.raises(ConfigError, match="MTL_LAB_RAY_GPUS_PER_RUN"):
        executor_from_env()

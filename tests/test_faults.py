"""Fault injection with real worker processes (kill -9, SIGTERM, disk full, data gone, corrupt checkpoints)."""
from __future__ import annotations

import pytest

from mtl_core.selftest import faults


def test_every_injected_fault_is_survived_and_nothing_finished_is_lost(tmp_path):
    result = faults.run(tmp_path, quick=True)  # kills its own workers before returning, even on failure
    details = result["details"]
    assert result["name"] == "faults" and result["failures"] == [], "\n\n".join(result["failures"])
    assert result["ok"] == result["tried"] >= 20
    assert len(details["fault_kinds"]) >= 5 and details["processes"] >= 4  # a real worker per fault phase
    assert details["results_lost"] == 0 and details["lost_runs"] == []
    assert details["sigterm"] == {"exit_status": 0, "run_left": "queued", "owner_alive": False}
    assert all(details["security"].values()) and set(details["security"]) >= {
        "pickle_checkpoint_refused", "payload_is_live", "upload_names_refused", "app_binds_localhost"}
    assert "gpu_out_of_memory" in details["not_injected"]


def test_a_run_out_of_gpu_memory_is_trained_again_with_half_the_batch(isolated_home, monkeypatch):
    """Fault injection: the first two attempts raise the error CUDA raises when memory runs out (this machine
    has no GPU to fill); the run then trains for real with batch 32 -> 16 -> 8, and the study finishes."""
    import torch
    from studies import tiny_study

    from mtl_core.store import Store
    from mtl_core.studies import execute as study_module

    real_train_run, sizes = study_module.train_run, []

    def out_of_memory_twice(data, specs, split, config, *args, **kwargs):
        sizes.append(config.batch_size)
        if len(sizes) <= 2:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real_train_run(data, specs, split, config, *args, **kwargs)

    monkeypatch.setattr(study_module, "train_run", out_of_memory_twice)
    store = Store()
    study_id = tiny_study(store, ["base"], seeds=1, plan="singles", epochs=1)
    (run,) = store.runs(study_id)
    assert sizes == [32, 16, 8]
    assert run["status"] == "done" and "batch size 8" in run["progress"]["note"]
    assert store.study(study_id)["status"] == "done"


def test_out_of_memory_at_batch_size_one_fails_the_run_with_its_error(isolated_home, monkeypatch):
    import torch

    from mtl_core.studies.execute import train_fitting_memory
    from mtl_core.training.config import RunConfig

    tried = []

    def never_fits(config):
        tried.append(config.batch_size)
        raise torch.OutOfMemoryError("CUDA out of memory")

    with pytest.raises(torch.OutOfMemoryError):
        train_fitting_memory(never_fits, RunConfig(batch_size=4))
    assert tried == [4, 2, 1]

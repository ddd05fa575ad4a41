"""Fault injection with real worker processes (kill -9, SIGTERM, disk full, data gone, corrupt checkpoints)."""
from __future__ import annotations

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

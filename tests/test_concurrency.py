"""Three processes enqueue 51 studies at once while workers drain the queue; one worker is killed midway."""
from __future__ import annotations

from mtl_core.selftest import concurrency
from mtl_core.store import Store


def test_concurrent_submitters_and_workers_lose_nothing_and_run_nothing_twice(tmp_path):
    result = concurrency.run(tmp_path, quick=True)  # kills its own processes before returning, even on failure
    details = result["details"]
    assert result["name"] == "concurrency" and result["failures"] == [], "\n\n".join(result["failures"])
    assert result["ok"] == result["tried"] >= 9
    assert details["studies_enqueued"] >= 50 and details["processes"] >= 3
    assert details["duplicates"] == 0 and details["results_lost"] == 0
    assert details["second_worker"].startswith("exited with status 3")
    store = Store(tmp_path / "mtl_home" / "mtl_lab.sqlite")  # read back independently of the section
    studies = store.studies()
    assert len(studies) == details["studies_enqueued"] and {s["status"] for s in studies} == {"done"}
    prefixes = {s["name"].split("-")[0] for s in studies}
    assert prefixes == {"p0", "p1", "p2"}  # every submitter's studies arrived
    runs = [r for s in studies for r in store.runs(s["id"])]
    assert all(r["status"] == "done" and r["attempts"] >= 1 for r in runs)
    assert sum(r["attempts"] > 1 for r in runs) == details["runs_restarted_after_kill"] <= 1

"""One submit path (studies.submit): the Playground, the Train page's retry, the presets and the CLI queue a study,
and start a worker only when allowed (MTL_LAB_AUTOSTART_WORKER, the CLI's --start-worker)."""
from __future__ import annotations

import pytest
from app_pages import open_page

from mtl_core import cli
from mtl_core.status import Status
from mtl_core.store import Store
from mtl_core.studies import queue
from mtl_core.studies.queue import cancel_study, live_workers, submit_study
from mtl_core.studies.spec import StudySpec

AUTOSTART = {"0": 0, None: 1}  # MTL_LAB_AUTOSTART_WORKER -> worker processes the page starts


@pytest.fixture
def spawned(monkeypatch):
    """The worker processes this test makes the app start (killed at the end), one per start."""
    monkeypatch.setenv("MTL_LAB_PARALLEL_RUNS", "1")
    before = len(queue._spawned)
    yield lambda: queue._spawned[before:]
    for proc in queue._spawned[before:]:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def autostart(monkeypatch, value: str | None) -> None:
    if value is None:
        monkeypatch.delenv("MTL_LAB_AUTOSTART_WORKER", raising=False)
    else:
        monkeypatch.setenv("MTL_LAB_AUTOSTART_WORKER", value)


@pytest.mark.parametrize("setting", list(AUTOSTART))
def test_the_playground_queues_its_study_and_starts_a_worker_only_when_allowed(setting, monkeypatch, spawned):
    autostart(monkeypatch, setting)
    at = open_page("pages/6_Playground.py")
    at.button(key="pg_run").click().run()
    assert not at.exception
    (study,) = Store().studies()
    assert at.query_params["study"] == study["id"] and study["status"] in (Status.QUEUED, Status.RUNNING)
    assert len(spawned()) == AUTOSTART[setting]
    if not AUTOSTART[setting]:
        assert live_workers(Store()) == []


@pytest.mark.parametrize("setting", list(AUTOSTART))
def test_retrying_on_the_train_page_starts_a_worker_only_when_allowed(setting, monkeypatch, spawned):
    autostart(monkeypatch, setting)
    store = Store()
    spec = StudySpec.from_preset("synthetic-demo", name="retried", seeds=1, tasks=["base"])
    study_id = submit_study(spec, store)
    cancel_study(study_id, store)  # no worker: cancelled at once, its run too
    at = open_page("pages/3_Train.py", study=study_id)
    at.button(key="train_retry").click().run()
    assert not at.exception
    assert store.study(study_id)["status"] in (Status.QUEUED, Status.RUNNING)
    assert len(spawned()) == AUTOSTART[setting]
    if not AUTOSTART[setting]:
        assert live_workers(store) == []


def test_cli_submit_starts_a_worker_only_with_start_worker(monkeypatch, spawned, capsys):
    monkeypatch.delenv("MTL_LAB_AUTOSTART_WORKER", raising=False)  # the CLI follows its own flag
    args = ["submit", "--preset", "synthetic-demo", "--tasks", "base", "--seeds", "1"]
    assert cli.main(args) == 0 and spawned() == []
    assert "no worker yet" in capsys.readouterr().err
    assert cli.main([*args, "--start-worker"]) == 0 and len(spawned()) == 1
    assert len(Store().studies()) == 2

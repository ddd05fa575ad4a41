"""More seeds for a finished study (studies.more_seeds): the same runs with new seeds on the same split, the done
runs kept as they were, the results then read over every seed; from the CLI (here or queued) and refused where it
cannot apply."""
from __future__ import annotations

import csv

import pytest
from studies import tiny_study

from mtl_core import cli
from mtl_core.errors import ConfigError
from mtl_core.status import Status
from mtl_core.store import Store
from mtl_core.studies.dispatch import execute
from mtl_core.studies.more_seeds import add_seeds, new_seed_runs
from mtl_core.studies.queue import get_queue, queue_more_seeds


def settings(runs: list[dict], seed: int) -> list[tuple[str, list[str]]]:
    return [(r["setting"], r["tasks"]) for r in runs if r["seed"] == seed]


def test_new_seed_runs_repeat_the_first_seeds_runs_after_the_largest_seed():
    runs = [{"setting": "single", "tasks": ["a"], "seed": s} for s in (0, 1)] + \
           [{"setting": "subset", "tasks": ["a", "b"], "seed": s} for s in (0, 1)]
    assert new_seed_runs(runs, 2) == [("single", ["a"], 2), ("subset", ["a", "b"], 2),
                                      ("single", ["a"], 3), ("subset", ["a", "b"], 3)]


def test_the_cli_adds_seeds_here_keeping_the_done_runs_and_the_split(tmp_path, capsys):
    store = Store()
    study_id = tiny_study(store, ["base", "related"], seeds=1, epochs=2)
    before = {r["id"]: r for r in store.runs(study_id)}
    study = store.study(study_id)
    baselines = store.baselines(study_id)

    assert cli.main(["study", "--more-seeds", study_id, "--seeds", "2", "--out", str(tmp_path)]) == 0
    runs = store.runs(study_id)
    assert len(runs) == 3 * len(before) and {r["seed"] for r in runs} == {0, 1, 2}
    assert all(r["status"] == Status.DONE for r in runs)
    for run_id, run in before.items():  # the earlier runs are the same rows, not trained again
        kept = store.run(run_id)
        assert (kept["finished"], kept["seed"]) == (run["finished"], run["seed"])
    assert settings(runs, 2) == settings(runs, 0)
    after = store.study(study_id)
    assert after["status"] == Status.DONE and after["spec"]["seeds"] == 3
    assert after["split"] == study["split"] and after["vocab"] == study["vocab"]  # the same split, checked on resume
    assert len(store.baselines(study_id)) == len(baselines)  # scored once
    with open(tmp_path / "summary.csv") as f:
        rows = list(csv.DictReader(f))
    assert {r["n_seeds"] for r in rows if r["setting"] in ("single", "all")} == {"3"}
    assert all(r["ci_low"] for r in rows if r["setting"] in ("single", "all"))  # 3 seeds: an interval now
    assert "training seeds 1-2" in capsys.readouterr().out


def test_queued_seeds_wait_for_a_worker_then_train(tmp_path):
    store = Store()
    study_id = tiny_study(store, ["base"], seeds=1, epochs=2)
    assert queue_more_seeds(study_id, 1, store) == [1]
    assert store.study(study_id)["status"] == Status.QUEUED
    assert [r["status"] for r in store.runs(study_id) if r["seed"] == 1] == [Status.QUEUED]
    assert any(t.args and t.args[0] == study_id for t in get_queue(store).pending())  # a worker will take it
    execute(study_id, store)  # what the worker does with the message
    assert store.study(study_id)["status"] == Status.DONE
    assert [r["status"] for r in store.runs(study_id)] == [Status.DONE, Status.DONE]


def test_seeds_are_added_only_to_a_finished_study():
    store = Store()
    done = tiny_study(store, ["base"], seeds=1, epochs=1)
    with pytest.raises(ConfigError, match="between 1 and"):
        add_seeds(done, 0, store)
    with pytest.raises(ConfigError, match="No study 'nope'"):
        add_seeds("nope", 2, store)
    add_seeds(done, 1, store, backend="inline")  # now queued: a second request waits for it
    with pytest.raises(ConfigError, match="is queued: seeds are added to a finished study"):
        add_seeds(done, 1, store)
    assert len(store.runs(done)) == 2  # the refused request added nothing
    never_planned = store.create_study("no data", {"seeds": 1})
    store.update_study(never_planned, status=Status.FAILED, error="the file is empty")
    with pytest.raises(ConfigError, match="no runs to repeat .*the file is empty"):
        add_seeds(never_planned, 1, store)


def test_the_cli_refuses_options_the_study_already_fixes(capsys):
    assert cli.main(["study", "--more-seeds", "x", "--tasks", "a", "--epochs", "3", "--out", "o"]) == 2
    err = capsys.readouterr().err
    assert "--more-seeds repeats the study's own runs" in err and "--tasks, --epochs" in err
    assert cli.main(["submit", "--more-seeds", "x", "--seeds", "2"]) == 2
    assert "No study 'x'" in capsys.readouterr().err


def test_the_compare_page_queues_more_seeds_of_the_study_it_shows(monkeypatch):
    from app_pages import open_page

    monkeypatch.setenv("MTL_LAB_AUTOSTART_WORKER", "0")  # queued only: no worker process in this test
    store = Store()
    study_id = tiny_study(store, ["base", "related"], seeds=1, epochs=1)
    at = open_page("pages/4_Compare.py", study=study_id)
    assert not at.exception
    assert "Add seeds below" in " ".join(i.value for i in at.info)
    box = next(e for e in at.expander if "Add seeds to this study (it has 1)" in e.label)
    assert box.number_input(key="compare_more_seeds_n").value == 3
    assert any("9 runs, about" in c.value for c in box.caption)  # 3 runs a seed, x 3, with the measured time
    box.button(key="compare_more_seeds").click()
    at.run()
    assert "Queued seeds 1-3" in at.success[0].value
    assert store.study(study_id)["status"] == Status.QUEUED
    assert sorted({r["seed"] for r in store.runs(study_id)}) == [0, 1, 2, 3]


def test_cli_submit_queues_more_seeds_and_says_how_long_they_take(monkeypatch, capsys):
    monkeypatch.setenv("MTL_LAB_AUTOSTART_WORKER", "0")
    store = Store()
    study_id = tiny_study(store, ["base"], seeds=1, epochs=1)
    assert cli.main(["submit", "--more-seeds", study_id, "--seeds", "2"]) == 0
    out = capsys.readouterr()
    assert out.out.strip() == study_id
    assert f"queued seeds 1-2 of study {study_id}; about " in out.err and "min here (one seed took" in out.err
    assert store.study(study_id)["status"] == Status.QUEUED and len(store.runs(study_id)) == 3

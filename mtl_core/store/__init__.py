"""SQLite results store: studies, runs, scores, curves, baselines, worker heartbeats, saved datasets. WAL mode;
every write one transaction. The only place in MTL Lab that speaks SQL.

One connection per call, so Streamlit threads, the CLI and worker processes can share the file. Whatever
several worker processes may race for (claiming a run, putting one back, settling a study) is one statement
or one write-locked transaction, so two processes never both win. Every change of a status is one statement
that checks the status it changes from against ``status.TRANSITIONS``, so a change not listed there never happens.

    schema.py     the tables, and the tables and columns older stores get on open
    database.py   opening the file, one transaction per connection, rows as dicts, the status condition
    studies.py    studies: create, start, cancel, settle
    runs.py       runs: plan, claim, queue again, close
    results.py    progress, curves, scores, baselines, measured speeds
    workers.py    worker heartbeats
    datasets.py   saved datasets
    manage.py     a study's name, tags and note; deleting a settled study; the cheap reads pages poll
"""
from __future__ import annotations

from mtl_core.store.datasets import Datasets
from mtl_core.store.manage import Management
from mtl_core.store.results import Results
from mtl_core.store.runs import Runs
from mtl_core.store.studies import Studies
from mtl_core.store.workers import Workers


class Store(Studies, Runs, Results, Workers, Datasets, Management):
    """The store of one MTL Lab home (``paths.store_path()``), or of the file ``path``."""


__all__ = ["Store"]

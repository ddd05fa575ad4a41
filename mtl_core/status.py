"""The life of a study and of each of its runs, in one place: the statuses and which changes between them exist.

    queued --> running --> done | failed | cancelled
       |          |
       |          +--> queued          (a worker stopped or died mid-run: the run is trained again, whole;
       |                                a study retried while a worker still executes it)
       +--> failed | cancelled         (preparing the data failed; cancel asked before it started)
       +--> done                       (a study only: retried while a worker still executed it, that worker
                                        trains the retried runs too and settles it; a run is claimed first)
    failed | cancelled --> queued      (retry)
    done --> queued                    (a study only: more seeds added; its done runs stay done)

A study is deleted (with its runs) only once settled: never while a worker may still train it (``can_delete``).

A study goes through the same statuses as its runs; it is settled (done, failed or cancelled) once none of its
runs is queued or running. ``Status`` is a ``str`` enum, so the store keeps the plain words and a stored value
compares equal to its member. The store makes every status change in one statement that checks the status it
changes from (``store.database.status_condition``), so a change missing here cannot happen.
"""
from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


ACTIVE = (Status.QUEUED, Status.RUNNING)               # waiting or training: what a worker may still pick up
SETTLED = (Status.DONE, Status.FAILED, Status.CANCELLED)
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.QUEUED: frozenset({Status.RUNNING, Status.FAILED, Status.CANCELLED, Status.DONE}),
    Status.RUNNING: frozenset({Status.DONE, Status.FAILED, Status.CANCELLED, Status.QUEUED}),
    Status.DONE: frozenset({Status.QUEUED}),
    Status.FAILED: frozenset({Status.QUEUED}),
    Status.CANCELLED: frozenset({Status.QUEUED}),
}
# A run is claimed (running) before it is done, and a done run stays done; only a study goes from queued to done,
# and from done to queued again (see the diagram).
RUN_TRANSITIONS = {**TRANSITIONS, Status.QUEUED: TRANSITIONS[Status.QUEUED] - {Status.DONE},
                   Status.DONE: frozenset()}


def can_change(before: str, after: str, run: bool = False) -> bool:
    """Whether a study (or, with ``run``, a run) may go from status ``before`` to ``after`` (see the diagram)."""
    return Status(after) in (RUN_TRANSITIONS if run else TRANSITIONS)[Status(before)]


def can_delete(status: str) -> bool:
    """Whether a study in ``status`` may be deleted: only a settled one (a queued or running study is cancelled
    first, so no worker trains a run whose rows are gone)."""
    return Status(status) in SETTLED


def changes_into(after: str, run: bool = False) -> tuple[Status, ...]:
    """The statuses a study (or, with ``run``, a run) may go to ``after`` from."""
    return tuple(before for before in Status if can_change(before, after, run))

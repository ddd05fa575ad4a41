"""The life of a study and of each of its runs, in one place: the statuses and which changes between them exist.

    queued --> running --> done | failed | cancelled
       |          |
       |          +--> queued          (a worker stopped or died mid-run: the run is trained again, whole)
       +--> failed | cancelled         (preparing the data failed; cancel asked before it started)
    failed | cancelled --> queued      (retry)

A study goes through the same statuses as its runs; it is settled (done, failed or cancelled) once none of its
runs is queued or running. ``Status`` is a ``str`` enum, so the store keeps the plain words and a stored value
compares equal to its member.
"""
from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def settled(self) -> bool:
        """Whether nothing more will happen to it unless a person retries it."""
        return self in SETTLED


ACTIVE = (Status.QUEUED, Status.RUNNING)               # waiting or training: what a worker may still pick up
SETTLED = (Status.DONE, Status.FAILED, Status.CANCELLED)
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.QUEUED: frozenset({Status.RUNNING, Status.FAILED, Status.CANCELLED}),
    Status.RUNNING: frozenset({Status.DONE, Status.FAILED, Status.CANCELLED, Status.QUEUED}),
    Status.DONE: frozenset(),
    Status.FAILED: frozenset({Status.QUEUED}),
    Status.CANCELLED: frozenset({Status.QUEUED}),
}


def can_change(before: str, after: str) -> bool:
    """Whether a study or run may go from status ``before`` to ``after`` (see the diagram above)."""
    return Status(after) in TRANSITIONS[Status(before)]

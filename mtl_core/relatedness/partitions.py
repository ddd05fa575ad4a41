"""Set partitions: every way to split a list of tasks into non-empty groups."""
from __future__ import annotations

from typing import Iterator


def partitions(items: list[str], k: int) -> Iterator[list[list[str]]]:
    """Every set partition of ``items`` into at most ``k`` non-empty groups (restricted growth strings)."""
    def grow(i: int, groups: list[list[str]]) -> Iterator[list[list[str]]]:
        if i == len(items):
            yield [list(g) for g in groups]
            return
        for g in groups:
            g.append(items[i])
            yield from grow(i + 1, groups)
            g.pop()
        if len(groups) < k:
            groups.append([items[i]])
            yield from grow(i + 1, groups)
            groups.pop()
    yield from grow(0, [])

"""Errors a user can act on: each names the file, the line and the fix."""
from __future__ import annotations

from pathlib import Path


class MTLLabError(Exception):
    """Base class for errors shown to users (CLI and app) without a traceback."""


class DataError(MTLLabError):
    """Bad input data: which file, which line (1-based, optional), what is wrong, what to do."""

    def __init__(self, file: str | Path | None, problem: str, fix: str, line: int | None = None):
        self.file = str(file) if file is not None else None
        self.line = line
        self.problem = problem
        self.fix = fix
        super().__init__(self.describe())

    def describe(self) -> str:
        where = self.file or "input"
        if self.line is not None:
            where += f", line {self.line}"
        return f"{where}: {self.problem} Fix: {self.fix}"


class ConfigError(MTLLabError, ValueError):
    """A bad option value: names the option, the allowed values and what was given."""

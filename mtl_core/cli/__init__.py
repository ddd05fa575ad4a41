"""Command line: study, submit, worker, presets, data (list | fetch | import | check), export, selftest.

Errors a user can fix (bad data, bad options, missing datasets) print one clear message and exit 2;
never a traceback. ``options`` builds the parser, ``commands`` runs each command, ``outputs`` writes its files.
"""
from __future__ import annotations

import sys

from mtl_core.cli.commands import COMMANDS
from mtl_core.cli.options import build_parser
from mtl_core.errors import MTLLabError


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except MTLLabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130

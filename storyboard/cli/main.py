"""The entry point: ``storyboard validate FILE...`` without click, all else through the
click group (``cli.group``); never a traceback."""

from __future__ import annotations

import os
import sys

from storyboard.cli.output import echo


def main() -> None:
    """Entry point: never lets a traceback reach a user."""
    try:
        from storyboard.cli.fast import plain_validate, validate_files

        files = plain_validate(sys.argv[1:])
        if files is not None:  # as pre-commit runs it, on every commit
            validate_files(files)
        from storyboard.cli.group import cli

        cli.main(prog_name="storyboard")
    except SystemExit:
        raise
    except Exception as exc:  # a bug in storyboard itself
        if os.environ.get("STORYBOARD_DEBUG"):
            raise
        echo(f"internal error: {type(exc).__name__}: {exc}; this is a bug in storyboard — "
             "rerun with STORYBOARD_DEBUG=1 for the traceback and report it\n", err=True)
        sys.exit(70)

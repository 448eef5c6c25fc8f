"""Exit codes, and errors as one line on stderr with an exit code, never a traceback.

Click-free, as ``storyboard validate FILE...`` runs without click (``cli.main``); click is
imported only to read the context of a usage error (``plan --detailed-exitcode``).
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

from storyboard.cli.output import echo
from storyboard.errors import StoryboardError

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK = 0
EXIT_PROBLEMS = 1  # problems in a storyboard, over budget, failed generations
EXIT_USAGE = 2  # bad options or auxiliary files
EXIT_PENDING = 2  # plan --detailed-exitcode: renders pending (as terraform plan does)
EXIT_GATE = 3  # a --fail-over / --fail-on-increase gate was breached
EXIT_FLAGGED = 4  # run --fail-on-flag: a delivered clip has a quality flag

DETAILED_EXITCODE = "--detailed-exitcode"


def fail(lines: list[str], code: int) -> NoReturn:
    for line in lines:
        echo(f"{line}\n", err=True)
    sys.exit(code)


def _error_code(code: int) -> int:
    """With ``plan --detailed-exitcode`` every error exits 1, as Terraform's do, so that 2
    only ever means "renders pending" to the script reading it."""
    if code != EXIT_USAGE:
        return code
    import click

    context = click.get_current_context(silent=True)
    detailed = context is not None and context.params.get("detailed_exitcode")
    return EXIT_PROBLEMS if detailed else code


def reports_errors(command: F) -> F:
    """Every StoryboardError becomes its lines on stderr and an exit code, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except StoryboardError as exc:
            if os.environ.get("STORYBOARD_DEBUG"):  # where it came from, for a bug report
                import traceback

                traceback.print_exc()
            fail(exc.lines(), _error_code(exc.exit_code))
        except KeyboardInterrupt:
            fail(["interrupted"], 130)
        except OSError as exc:
            fail([f"error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": ")], 1)
        return None

    return wrapper  # type: ignore[return-value]

"""``storyboard validate FILE...`` as pre-commit runs it, without loading click.

pre-commit runs it on every commit, beside linters such as yamllint, and importing
click and every command's module was a tenth of its time (issue 9's fast start).
``main`` hands exactly that command line here: ``validate`` and one or more readable
files, nothing that looks like an option. Anything else — an option, ``--help``, a
missing file, a folder — goes to click, which parses and reports it as ever. Both paths
call ``validate_files``, so what is printed and the exit code are the same
(tests/cli/test_fast_validate.py runs both over the same files).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from storyboard.cli.errors import EXIT_OK, EXIT_PROBLEMS, reports_errors
from storyboard.cli.output import echo
from storyboard.errors import SourceError, StoryboardError

COMPLETION_VARIABLE = "_STORYBOARD_COMPLETE"  # click's shell completion, when set


def plain_validate(args: Sequence[str]) -> list[Path] | None:
    """The files of ``validate FILE...`` when every argument is a readable regular file
    (whose name does not begin with ``-``), else None: click's to parse."""
    command, *files = args or [""]
    if command != "validate" or not files or COMPLETION_VARIABLE in os.environ:
        return None
    if not all(not file.startswith("-") and os.path.isfile(file) and os.access(file, os.R_OK)
               for file in files):
        return None
    return [Path(file) for file in files]


@reports_errors
def validate_files(files: Sequence[Path], fmt: str = "text") -> NoReturn:
    """Compile each storyboard and print its problems; exit 1 when any has one."""
    failed = [file for file in files if not _validate_one(file, fmt)]
    sys.exit(EXIT_PROBLEMS if failed else EXIT_OK)


def _validate_one(file: Path, fmt: str) -> bool:
    """Compile one storyboard; print its problems (or, as text, that it is ok)."""
    from storyboard.compile import compile_file
    from storyboard.report.problems import PROBLEM_REPORTERS
    from storyboard.report.table import plural

    try:
        compiled = compile_file(file)
    except SourceError as exc:
        echo(PROBLEM_REPORTERS[fmt](exc.problems))
        return False
    except StoryboardError as exc:
        echo("\n".join(exc.lines()) + "\n", err=True)
        return False
    if fmt == "text":
        echo(f"{file}: ok ({plural(len(compiled.variants), 'variant')}, "
             f"{plural(len(compiled.generations), 'generation')})\n")
    return True

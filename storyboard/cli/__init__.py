"""The command line: parse options, call one library function, report, return an exit code.

Commands import what they use inside their own body: ``storyboard validate`` runs on
every commit (pre-commit), and ``--help`` should not wait for the compiler, the HTTP
client or the terminal UI to load (tests/cli/test_startup.py keeps it so).

The modules: ``main`` (the group and the entry point), ``errors`` (exit codes, errors as
one line), ``options`` (options several commands share, ``--state`` among them),
``types`` (option value types), ``common`` (loading a plan, finding renders, the
cutter); then one module per family of commands: ``validate`` (validate, compile,
schema, init), ``plan`` (plan, diff), ``run`` (run, reroll), ``media`` (cut, pick,
report), ``status``, ``sandbox``.
"""

from storyboard.cli.errors import (
    EXIT_FLAGGED,
    EXIT_GATE,
    EXIT_OK,
    EXIT_PENDING,
    EXIT_PROBLEMS,
    EXIT_USAGE,
)
from storyboard.cli.main import cli, main

__all__ = ["EXIT_FLAGGED", "EXIT_GATE", "EXIT_OK", "EXIT_PENDING", "EXIT_PROBLEMS",
           "EXIT_USAGE", "cli", "main"]

"""The command line: parse options, call one library function, report, return an exit code.

Commands import what they use inside their own body: ``storyboard validate`` runs on
every commit (pre-commit), and ``--help`` should not wait for the compiler, the HTTP
client or the terminal UI to load (tests/cli/test_startup.py keeps it so). Importing
this package loads no click: ``main`` runs ``validate FILE...`` without it (``fast``),
and ``cli``, the click group, is imported when first named.

The modules: ``main`` (the entry point), ``group`` (the click group, loading each
command's module on first use), ``fast`` (validate without click), ``errors`` (exit
codes, errors as one line), ``output`` (writing as click does, without it), ``options``
(options several commands share, ``--state`` among them), ``types`` (option value
types), ``common`` (loading a plan, finding renders, the cutter); then one module per
family of commands: ``validate`` (validate, compile, schema, init), ``plan`` (plan,
diff), ``run`` (run, reroll), ``media`` (cut, pick, report), ``status``, ``sandbox``.
"""

from typing import TYPE_CHECKING, Any

from storyboard.cli.errors import (
    EXIT_FLAGGED,
    EXIT_GATE,
    EXIT_OK,
    EXIT_PENDING,
    EXIT_PROBLEMS,
    EXIT_USAGE,
)
from storyboard.cli.main import main

if TYPE_CHECKING:
    from storyboard.cli.group import cli as cli
else:
    def __getattr__(name: str) -> Any:
        if name == "cli":  # the click group: loads click
            from storyboard.cli.group import cli

            return cli
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = ["EXIT_FLAGGED", "EXIT_GATE", "EXIT_OK", "EXIT_PENDING", "EXIT_PROBLEMS",
           "EXIT_USAGE", "cli", "main"]

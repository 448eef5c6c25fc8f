"""Small pieces (issue 9, item 3): no module over 400 lines and no function over 50, so
that a near-copy has nowhere to hide. Generated code (``storyboard/precompiled``) is not
written by hand and is left out."""

from __future__ import annotations

import ast
import inspect
import textwrap
from pathlib import Path
from typing import Any

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "storyboard"
GENERATED = PACKAGE / "precompiled"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 50


def _modules() -> list[Path]:
    return [p for p in sorted(PACKAGE.rglob("*.py")) if GENERATED not in p.parents]


@pytest.mark.parametrize("module", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_modules_and_functions_stay_small(module: Path) -> None:
    text = module.read_text(encoding="utf-8")
    lines = len(text.splitlines())
    assert lines <= MAX_MODULE_LINES, f"{module.name} has {lines} lines; split it by concern"
    long = [f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"
            for node in ast.walk(ast.parse(text))
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and node.end_lineno is not None
            and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES]
    assert long == [], f"{module.name}: functions over {MAX_FUNCTION_LINES} lines: {long}"


def _commands() -> list[tuple[str, Any]]:
    import click

    from storyboard.cli import cli

    context = click.Context(cli)  # the group loads its commands on use: ask it for them
    commands = [(name, cli.get_command(context, name)) for name in cli.list_commands(context)]
    return sorted((name, command.callback) for name, command in commands if command)


# named by the command alone: a callback's repr holds its address, which differs between
# processes, and pytest-xdist's workers must collect the same test ids
@pytest.mark.parametrize(("name", "callback"),
                         [pytest.param(*command, id=command[0]) for command in _commands()])
def test_every_command_is_a_thin_layer(name: str, callback: Any) -> None:
    """A command's body (its docstring aside) is at most 15 lines: parsing is click's, the
    work is the phases' (issue 9, item 2)."""
    function = inspect.unwrap(callback)
    node = ast.parse(textwrap.dedent(inspect.getsource(function))).body[0]
    assert isinstance(node, ast.FunctionDef)
    body = node.body[1:] if ast.get_docstring(node) else node.body
    lines = (body[-1].end_lineno or 0) - body[0].lineno + 1
    assert lines <= 15, f"storyboard {name}: {lines} lines in its body"

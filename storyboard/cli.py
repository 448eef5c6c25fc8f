"""The command line: parse options, call one library function, report, return an exit code."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import click

from storyboard import __version__
from storyboard.errors import BudgetExceeded, SourceError, StoryboardError
from storyboard.plan import budget_problems, parse_usd

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2


def _fail(lines: list[str], code: int) -> None:
    for line in lines:
        click.echo(line, err=True)
    sys.exit(code)


def reports_errors(command: F) -> F:
    """Every StoryboardError becomes its lines on stderr and an exit code, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except StoryboardError as exc:
            _fail(exc.lines(), exc.exit_code)
        except KeyboardInterrupt:
            _fail(["interrupted"], 130)
        except OSError as exc:
            _fail([f"error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": ")], 1)
        return None

    return wrapper  # type: ignore[return-value]


def _money(value: str | None) -> Decimal | None:
    return parse_usd(value) if value is not None else None


file_argument = click.argument(
    "file", type=click.Path(exists=False, dir_okay=False, path_type=Path))
pricing_option = click.option(
    "--pricing", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="Price table JSON to use instead of the built-in one.")
max_cost_option = click.option(
    "--max-cost", metavar="USD", default=None,
    help="Cost limit for this command, replacing budget.max_cost_usd.")


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="storyboard")
def cli() -> None:
    """Compile storyboards into Kling O3 video requests, plan their cost, and render them."""


@cli.command()
@click.argument("files", nargs=-1, required=True,
                type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "github"]), default="text",
              show_default=True, help="github: workflow annotations shown on the PR diff.")
@reports_errors
def validate(files: tuple[Path, ...], fmt: str) -> None:
    """Check storyboards: every problem as FILE:LINE:COL, exit 1 on any."""
    from storyboard.compile import compile_file
    from storyboard.reporters import PROBLEM_REPORTERS, plural

    failed = False
    for file in files:
        try:
            compiled = compile_file(file)
        except SourceError as exc:
            failed = True
            click.echo(PROBLEM_REPORTERS[fmt](exc.problems), nl=False)
            continue
        except StoryboardError as exc:
            failed = True
            click.echo("\n".join(exc.lines()), err=True)
            continue
        if fmt == "text":
            click.echo(f"{file}: ok ({plural(len(compiled.variants), 'variant')}, "
                       f"{plural(len(compiled.generations), 'generation')})")
    sys.exit(EXIT_PROBLEMS if failed else EXIT_OK)


@cli.command("compile")
@file_argument
@pricing_option
@reports_errors
def compile_command(file: Path, pricing: Path | None) -> None:
    """Print the exact API requests, one JSON object a line per generation."""
    from storyboard.compile import plan_file
    from storyboard.pricing import load_price_table
    from storyboard.reporters import compile_lines

    plan = plan_file(file, prices=load_price_table(pricing))
    click.echo(compile_lines(plan), nl=False)


@cli.command()
@file_argument
@click.option("--format", "fmt", type=click.Choice(["table", "json", "markdown"]),
              default="table", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also save the plan as JSON, to run exactly it later.")
@max_cost_option
@pricing_option
@reports_errors
def plan(file: Path, fmt: str, out: Path | None, max_cost: str | None,
         pricing: Path | None) -> None:
    """Show the cost plan; exit 1 when it is over budget."""
    from storyboard.compile import plan_file
    from storyboard.pricing import load_price_table
    from storyboard.reporters import PLAN_REPORTERS, plan_as_json
    from storyboard.store import write_atomic

    limit = _money(max_cost)
    the_plan = plan_file(file, prices=load_price_table(pricing))
    click.echo(PLAN_REPORTERS[fmt](the_plan, limit), nl=False)
    if out is not None:
        write_atomic(out, plan_as_json(the_plan, limit).encode("utf-8"))
        click.echo(f"plan saved to {out}; run it with: storyboard run {out}", err=True)
    problems = budget_problems(the_plan, limit)
    if problems:
        raise BudgetExceeded("\n".join(problems))


@cli.command()
@reports_errors
def schema() -> None:
    """Print the storyboard JSON Schema (for editors and other validators)."""
    from storyboard.resources import STORYBOARD_SCHEMA, schema_path

    click.echo(schema_path(STORYBOARD_SCHEMA).read_text(encoding="utf-8"), nl=False)


@cli.command()
@click.argument("directory", required=False, default=".",
                type=click.Path(file_okay=False, path_type=Path))
@click.option("--name", default=None, help="Storyboard name (default: the folder's name).")
@click.option("--force", is_flag=True, help="Overwrite an existing storyboard.yaml.")
@reports_errors
def init(directory: Path, name: str | None, force: bool) -> None:
    """Write a starter storyboard (and its schema, for editors) into DIRECTORY."""
    from storyboard.starter import write_starter

    written = write_starter(directory, name=name, force=force)
    for path in written:
        click.echo(f"wrote {path}", err=True)
    click.echo(f"next: storyboard plan {written[0]}", err=True)


def main() -> None:
    """Entry point: never lets a traceback reach a user."""
    try:
        cli.main(prog_name="storyboard")
    except SystemExit:
        raise
    except Exception as exc:  # a bug in storyboard itself
        if os.environ.get("STORYBOARD_DEBUG"):
            raise
        click.echo(f"internal error: {type(exc).__name__}: {exc}; this is a bug in storyboard — "
                   "rerun with STORYBOARD_DEBUG=1 for the traceback and report it", err=True)
        sys.exit(70)

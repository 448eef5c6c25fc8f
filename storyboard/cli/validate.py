"""Commands that read a storyboard without running it: validate, compile, schema, init."""

from __future__ import annotations

import shlex
from pathlib import Path

import click

from storyboard.cli.errors import reports_errors
from storyboard.cli.fast import validate_files
from storyboard.cli.options import file_argument, pricing_option
from storyboard.cli.types import NonEmptyPath


@click.command()
@click.argument("files", nargs=-1, required=True,
                type=NonEmptyPath(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "github"]), default="text",
              show_default=True, help="github: workflow annotations shown on the PR diff.")
def validate(files: tuple[Path, ...], fmt: str) -> None:
    """Check storyboards: every problem as FILE:LINE:COL, exit 1 on any."""
    validate_files(files, fmt)


@click.command("compile")
@file_argument
@pricing_option
@reports_errors
def compile_command(file: Path, pricing: Path | None) -> None:
    """Print the exact API requests, one JSON object a line per generation."""
    from storyboard.compile import plan_file
    from storyboard.plan.pricing import load_price_table
    from storyboard.report.json import compile_lines

    plan = plan_file(file, prices=load_price_table(pricing))
    click.echo(compile_lines(plan), nl=False)


@click.command()
@reports_errors
def schema() -> None:
    """Print the storyboard JSON Schema (for editors and other validators)."""
    from storyboard.resources import STORYBOARD_SCHEMA, schema_path

    click.echo(schema_path(STORYBOARD_SCHEMA).read_text(encoding="utf-8"), nl=False)


@click.command()
@click.argument("directory", required=False, default=".",
                type=NonEmptyPath(file_okay=False, path_type=Path))
@click.option("--name", default=None, help="Storyboard name (default: the folder's name).")
@click.option("--force", is_flag=True, help="Overwrite an existing storyboard.yaml.")
@reports_errors
def init(directory: Path, name: str | None, force: bool) -> None:
    """Write a starter storyboard (and its schema, for editors) into DIRECTORY."""
    from storyboard.cli.starter import write_starter

    written = write_starter(directory, name=name, force=force)
    for path in written:
        click.echo(f"wrote {path}", err=True)
    click.echo(f"next: storyboard plan {shlex.quote(str(written[0]))}", err=True)

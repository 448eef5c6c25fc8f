"""The `storyboard` group, its commands, and the entry point that never shows a traceback."""

from __future__ import annotations

import os
import sys

import click

from storyboard import __version__
from storyboard.cli import media, plan, run, sandbox, status, validate


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="storyboard")
def cli() -> None:
    """Compile storyboards into Kling O3 video requests, plan their cost, and render them."""


for _command in (validate.validate, validate.compile_command, validate.schema, validate.init,
                 plan.plan, plan.diff, run.run, run.reroll, media.cut, media.pick,
                 media.report, status.status, sandbox.sandbox):
    cli.add_command(_command)


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

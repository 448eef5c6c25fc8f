"""`status`: what the journal knows about each generation."""

from __future__ import annotations

from pathlib import Path

import click

from storyboard.cli.common import load_plan, sandbox_has_them, workspace_for
from storyboard.cli.errors import reports_errors
from storyboard.cli.options import out_option, pricing_option, state_option, target_argument


@click.command()
@target_argument
@click.option("--sandbox", is_flag=True,
              help="Show the sandbox's placeholder renders (.storyboard/sandbox/).")
@state_option
@out_option
@pricing_option
@reports_errors
def status(target: Path, sandbox: bool, state: Path | None, out: Path | None,
           pricing: Path | None) -> None:
    """Show what the journal knows about each generation."""
    from storyboard.execute.status import status as journal_status
    from storyboard.report.text import status_table

    plan = load_plan(target, pricing)
    workspace = workspace_for(plan, state=state, out=out, sandbox=sandbox)
    with workspace.open_journal(exclusive=False) as journal:
        report = journal_status(plan, journal, workspace)
        lost = journal.lost()
    click.echo(status_table(report), nl=False)
    if lost:
        click.echo(f"warning: `storyboard run` will refuse this state: {lost}", err=True)
    if not sandbox and not any(r.attempt for r in report.rows) and sandbox_has_them(
            plan, sandbox, state):
        click.echo("note: the sandbox's renders are shown with --sandbox", err=True)

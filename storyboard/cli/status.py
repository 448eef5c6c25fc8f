"""`status`: what the journal knows about each generation."""

from __future__ import annotations

from pathlib import Path

import click

from storyboard.cli.common import load_plan
from storyboard.cli.errors import reports_errors
from storyboard.cli.options import out_option, pricing_option, state_option, target_argument


@click.command()
@target_argument
@state_option
@out_option
@pricing_option
@reports_errors
def status(target: Path, state: Path | None, out: Path | None, pricing: Path | None) -> None:
    """Show what the journal knows about each generation."""
    from storyboard.execute.status import status as journal_status
    from storyboard.execute.workspace import Workspace
    from storyboard.journal.sqlite import Journal
    from storyboard.report.text import status_table

    plan = load_plan(target, pricing)
    workspace = Workspace.beside(Path(plan.root), plan.name, state=state, out=out)
    with Journal.open(workspace.state_dir, exclusive=False) as journal:
        report = journal_status(plan, journal, workspace)
    click.echo(status_table(report), nl=False)

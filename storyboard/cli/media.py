"""Commands on the renders already made, with no API and no cost: cut, pick, report."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from storyboard.cli.common import (
    cutter,
    refresh_report,
    renders_of,
    sandbox_has_them,
    workspace_for,
)
from storyboard.cli.errors import EXIT_OK, EXIT_PROBLEMS, reports_errors
from storyboard.cli.options import file_argument, out_option, state_option
from storyboard.cli.types import Bounded
from storyboard.errors import UsageError

if TYPE_CHECKING:
    from storyboard.execute.workspace import Workspace
    from storyboard.plan.model import Plan


@click.command()
@file_argument
@click.option("--sandbox", is_flag=True,
              help="Cut the sandbox's placeholder renders (renders/sandbox/).")
@state_option
@out_option
@reports_errors
def cut(file: Path, sandbox: bool, state: Path | None, out: Path | None) -> None:
    """Assemble each variant's final cut from the renders already made: no API, no key, $0."""
    from storyboard.report.text import cut_report

    plan, workspace = renders_of(file, "storyboard cut", sandbox, state, out)
    reasons, attempts = _journaled(plan, workspace)
    summary = cutter(plan, workspace, attempts).cut_all(reasons)
    click.echo(cut_report(summary), nl=False)
    if not summary.complete and sandbox_has_them(plan, sandbox, state):
        click.echo("note: the sandbox's renders are cut with --sandbox", err=True)
    sys.exit(EXIT_OK if summary.complete else EXIT_PROBLEMS)


def _journaled(plan: Plan, workspace: Workspace) -> tuple[dict[str, str], dict[str, Any]]:
    """Why generations have no render, and each one's latest attempt here (none without
    a state folder)."""
    from storyboard.media.cut import missing_reasons

    reasons: dict[str, str] = {}
    attempts: dict[str, Any] = {}
    if workspace.has_state():
        with workspace.open_journal(exclusive=False) as journal:
            reasons = missing_reasons(plan, journal.latest_all())
            attempts = journal.latest_all(workspace.origin)
    return reasons, attempts


@click.command()
@file_argument
@click.argument("generation_id", metavar="ID")
@click.argument("candidate", metavar="N", type=Bounded(1, 100, "candidate", integer=True))
@click.option("--sandbox", is_flag=True, help="Pick among the sandbox's placeholder renders.")
@state_option
@out_option
@reports_errors
def pick(file: Path, generation_id: str, candidate: int, sandbox: bool, state: Path | None,
         out: Path | None) -> None:
    """Pin candidate N as ID's keeper in FILE.lock (commit it), then re-cut: no API, $0."""
    from storyboard.media import require
    from storyboard.report.text import cut_report

    plan, workspace, attempts = _rendered(file, sandbox, state, out)
    _pin(plan, file, attempts, workspace, generation_id, candidate)
    require("storyboard pick")
    summary = cutter(plan, workspace, attempts).cut_all()
    click.echo(cut_report(summary), nl=False)
    refresh_report(plan, workspace)  # the review shows the new pick at once
    sys.exit(EXIT_OK if summary.complete else EXIT_PROBLEMS)


def _rendered(file: Path, sandbox: bool, state: Path | None,
              out: Path | None) -> tuple[Plan, Workspace, dict[str, Any]]:
    """The plan, its workspace and each generation's latest attempt there, for `pick`."""
    from storyboard.compile import plan_file

    plan = plan_file(file)
    workspace = workspace_for(plan, state=state, out=out, sandbox=sandbox)
    if not workspace.has_state():
        raise UsageError(f"{workspace.state_dir}: no state here, so nothing is rendered to "
                         "pick from; `storyboard run FILE` renders the candidates")
    with workspace.open_journal(exclusive=False) as journal:
        attempts = journal.latest_all(workspace.origin)
    return plan, workspace, attempts


def _pin(plan: Plan, file: Path, attempts: dict[str, Any], workspace: Workspace,
         generation_id: str, candidate: int) -> None:
    """Write the lock file with the candidate pinned, and say so."""
    from storyboard.execute.candidates import pick as pin
    from storyboard.plan.lock import lock_path, read_lock, write_lock

    lock = pin(plan, read_lock(lock_path(file)), attempts, workspace, generation_id, candidate)
    write_lock(lock)
    entry = lock.entries[generation_id]
    click.echo(f"picked {generation_id} candidate {candidate} (sha256 {entry.sha256}, job "
               f"{entry.job_id}) in {lock.path}")


@click.command()
@file_argument
@click.option("--sandbox", is_flag=True,
              help="Review the sandbox's placeholder renders (renders/sandbox/).")
@state_option
@out_option
@reports_errors
def report(file: Path, sandbox: bool, state: Path | None, out: Path | None) -> None:
    """Write the offline HTML review (renders/<name>/report/index.html) and print its path."""
    from storyboard.report.html import build_report
    from storyboard.report.text import flag_lines

    plan, workspace = renders_of(file, "storyboard report", sandbox, state, out)
    _require_renders(workspace, file, sandbox)
    with workspace.open_journal(exclusive=False) as journal:
        page, review = build_report(plan, journal, workspace)
    click.echo(flag_lines(review.flagged), nl=False, err=True)
    click.echo(str(page))
    if not review.count("delivered") and sandbox_has_them(plan, sandbox, state):
        click.echo("note: nothing is rendered here; the sandbox's renders are reviewed with "
                   "--sandbox", err=True)


def _require_renders(workspace: Workspace, file: Path, sandbox: bool) -> None:
    if not workspace.has_state():
        raise UsageError(f"{workspace.state_dir}: no renders to review yet; run `storyboard "
                         f"run {shlex.quote(str(file))}`{' --sandbox' if sandbox else ''} first")

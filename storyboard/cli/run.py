"""Commands that render (and pay): `run`, and `reroll` for one more candidate."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from storyboard.cli.common import cutter, load_plan, refresh_report, workspace_for
from storyboard.cli.errors import EXIT_FLAGGED, fail, reports_errors
from storyboard.cli.options import (
    api_base_option,
    callback_options,
    file_argument,
    lease_option,
    max_cost_option,
    out_option,
    poll_options,
    pricing_option,
    run_sandbox_option,
    sandbox_fault_option,
    sandbox_latency_option,
    state_option,
    target_argument,
    yes_option,
)
from storyboard.cli.types import Bounded
from storyboard.errors import UsageError

if TYPE_CHECKING:
    from decimal import Decimal

    from storyboard.execute.workspace import Workspace
    from storyboard.media.cut import Cutter
    from storyboard.plan.lock import Lock
    from storyboard.plan.model import Plan


@click.command()
@target_argument
@yes_option
@run_sandbox_option
@api_base_option
@max_cost_option
@click.option("--only", multiple=True, metavar="GLOB",
              help="Only generations whose id matches (repeatable), e.g. 'us-*/hero'.")
@click.option("--concurrency", type=Bounded(1, 1000, "jobs in flight", integer=True),
              default=4, show_default=True, help="Jobs in flight at once.")
@click.option("--rate", type=Bounded(0.01, 10_000, "requests per second"), default=None,
              metavar="N", help="At most N API requests per second.")
@poll_options
@callback_options
@click.option("--resubmit-unknown", is_flag=True,
              help="Send again creates whose outcome is unknown (may pay twice).")
@click.option("--no-cut", is_flag=True,
              help="Render only; make the final cuts and the review later with `storyboard "
              "cut FILE` and `storyboard report FILE`.")
@click.option("--accept-lost-journal", is_flag=True,
              help="Go on with a journal that is missing, empty or older than its state "
              "folder shows (jobs it lost may be created and charged again).")
@state_option
@lease_option
@out_option
@pricing_option
@sandbox_latency_option
@sandbox_fault_option
@click.option("--fail-on-flag", is_flag=True,
              help=f"Exit {EXIT_FLAGGED} when a delivered clip has a quality flag (black, "
              "frozen, silent, duration, aspect) and nothing else failed.")
@reports_errors
def run(target: Path, yes: bool, sandbox: bool, api_base: str | None, max_cost: Decimal | None,
        only: tuple[str, ...], concurrency: int, rate: float | None, poll_start: float | None,
        poll_max: float | None, job_timeout: float | None, callback_url: str | None,
        callback_listen: str | None, resubmit_unknown: bool, accept_lost_journal: bool,
        no_cut: bool, state: Path | None, out: Path | None, pricing: Path | None,
        sandbox_latency: str | None, sandbox_fault: tuple[str, ...], fail_on_flag: bool
        ) -> None:
    """Plan, confirm, then create, poll and download every generation; resume by rerunning.
    Then cut each variant whose renders are all there into one video, and refresh the
    HTML review."""
    from storyboard.execute.options import run_options, sandbox_config

    local_api = sandbox_config(sandbox=sandbox, latency=sandbox_latency, faults=sandbox_fault)
    options = run_options(sandbox=sandbox, concurrency=concurrency, poll_start=poll_start,
                          poll_max=poll_max, job_timeout=job_timeout, only=only,
                          resubmit_unknown=resubmit_unknown, callback_url=callback_url,
                          callback_listen=callback_listen)
    plan = load_plan(target, pricing, to_run=True)
    sys.exit(execute_plan(plan, options, yes=yes, sandbox=sandbox, local_api=local_api,
                          api_base=api_base, max_cost=max_cost, rate=rate,
                          concurrency=concurrency, accept_lost_journal=accept_lost_journal,
                          no_cut=no_cut, state=state, out=out, fail_on_flag=fail_on_flag))


@click.command()
@file_argument
@click.argument("ids", nargs=-1, required=True, metavar="ID...")
@yes_option
@run_sandbox_option
@api_base_option
@max_cost_option
@poll_options
@callback_options
@state_option
@lease_option
@out_option
@pricing_option
@sandbox_latency_option
@sandbox_fault_option
@reports_errors
def reroll(file: Path, ids: tuple[str, ...], yes: bool, sandbox: bool, api_base: str | None,
           max_cost: Decimal | None, poll_start: float | None, poll_max: float | None,
           job_timeout: float | None, callback_url: str | None, callback_listen: str | None,
           state: Path | None, out: Path | None,
           pricing: Path | None, sandbox_latency: str | None,
           sandbox_fault: tuple[str, ...]) -> None:
    """Render one more candidate of each generation ID names (an id or a glob, e.g.
    'us-wide/hero', 'us-*/hero.2'); the cost is shown and the budget kept first, and
    the lock file records the added candidate once it is confirmed."""
    from storyboard.execute.options import run_options, sandbox_config
    from storyboard.plan.lock import write_lock

    local_api = sandbox_config(sandbox=sandbox, latency=sandbox_latency, faults=sandbox_fault)
    plan, lock, added = _with_candidates(file, pricing, ids)
    options = run_options(sandbox=sandbox, concurrency=4, poll_start=poll_start,
                          poll_max=poll_max, job_timeout=job_timeout, only=added,
                          callback_url=callback_url, callback_listen=callback_listen)
    sys.exit(execute_plan(plan, options, yes=yes, sandbox=sandbox, local_api=local_api,
                          api_base=api_base, max_cost=max_cost, rate=None, concurrency=4,
                          accept_lost_journal=False, no_cut=False, state=state, out=out,
                          before=lambda: write_lock(lock)))


def _with_candidates(file: Path, pricing: Path | None,
                     ids: tuple[str, ...]) -> tuple[Plan, Lock, tuple[str, ...]]:
    """The plan with one more candidate of each generation IDS names, the lock file that
    records them (written once the run is confirmed), and the added generations' ids."""
    from storyboard.compile import plan_file
    from storyboard.execute.candidates import reroll as add_candidates
    from storyboard.plan.lock import lock_path, read_lock
    from storyboard.plan.pricing import load_price_table
    from storyboard.report.table import plural

    prices = load_price_table(pricing)
    lock, added = add_candidates(plan_file(file, prices=prices), read_lock(lock_path(file)),
                                 ids)
    plan = plan_file(file, prices=prices, lock=lock)
    click.echo(f"adding {plural(len(added), 'candidate')}: {', '.join(added)}", err=True)
    return plan, lock, added


def execute_plan(plan: Plan, options: Any, *, yes: bool, sandbox: bool, local_api: Any,
                 api_base: str | None, max_cost: Decimal | None, rate: float | None,
                 concurrency: int, accept_lost_journal: bool, no_cut: bool,
                 state: Path | None, out: Path | None,
                 before: Callable[[], None] = lambda: None, fail_on_flag: bool = False) -> int:
    """What `run` and `reroll` share: show the plan, keep the budget, confirm, call
    ``before`` (reroll writes its lock file there), execute, cut. Returns the exit code."""
    from storyboard.execute.callbacks import listening
    from storyboard.execute.entry import execute
    from storyboard.execute.options import api_for
    from storyboard.execute.preflight import check_before_creating
    from storyboard.execute.prepare import prepare
    from storyboard.report.progress import progress_for
    from storyboard.report.text import run_summary

    workspace, placeholders = _workspace(plan, sandbox=sandbox, api_base=api_base,
                                         state=state, out=out)
    # bound before the plan is shown: a port in use fails before anything is asked or paid
    with listening(options.callback_listen) as listener, \
            workspace.open_journal(accept_lost=accept_lost_journal) as journal:
        if journal.imported:
            click.echo(f"note: copied {journal.imported} attempts from "
                       f"{workspace.state_dir / 'journal.sqlite3'} into {journal.path}: what "
                       "this folder paid for is not paid for again", err=True)
        prepared = prepare(plan, journal, workspace, options)
        _show_prepared(prepared, max_cost, workspace, placeholders=placeholders,
                       sandbox=sandbox)
        _agree(prepared, max_cost, yes=yes, placeholders=placeholders)
        # after the question (declining writes nothing), before the first create
        check_before_creating(prepared, workspace, journal.state_id or "")
        before()
        with api_for(sandbox=local_api, api_base=api_base, env=os.environ, rate=rate,
                     concurrency=concurrency) as api, \
                progress_for(prepared.plan, sys.stderr) as progress:
            summary = execute(prepared, journal=journal, workspace=workspace, options=options,
                              api=api, plan=plan, on_event=progress, on_stop=_stopping,
                              listener=listener)
        attempts = journal.latest_all(workspace.origin)
    click.echo(run_summary(summary, workspace.manifest), nl=False)
    return _after_run(plan, workspace, summary, attempts, no_cut=no_cut,
                      fail_on_flag=fail_on_flag)


def _workspace(plan: Plan, *, sandbox: bool, api_base: str | None, state: Path | None,
               out: Path | None) -> tuple[Workspace, bool]:
    """Where this run's files go, and whether its API is a sandbox (placeholder videos,
    kept apart from renders)."""
    from storyboard.execute.manifest import refuse_placeholders_among_renders
    from storyboard.execute.options import on_a_sandbox

    placeholders = on_a_sandbox(sandbox=sandbox, api_base=api_base, env=os.environ)
    workspace = workspace_for(plan, state=state, out=out, sandbox=placeholders)
    refuse_placeholders_among_renders(workspace)
    return workspace, placeholders


def _show_prepared(prepared: Any, limit: Decimal | None, workspace: Workspace, *,
                   placeholders: bool, sandbox: bool) -> None:
    """The plan as this run will do it, and notes on what the journal found."""
    from storyboard.report.table import plural
    from storyboard.report.text import plan_as_table

    click.echo(plan_as_table(prepared.plan, limit), nl=False)
    if placeholders:
        where = "the built-in sandbox on loopback" if sandbox else "a sandbox"
        click.echo(f"Running against {where}: no cost; its placeholder videos go to "
                   f"{workspace.out_dir} and are never taken for renders.")
    if prepared.interrupted:
        click.echo(f"note: a run that stopped abruptly was sending "
                   f"{plural(len(prepared.interrupted), 'create')}; their outcome is "
                   "unknown, so they are not sent again (see --resubmit-unknown)",
                   err=True)
    if prepared.adopted:
        click.echo(f"note: journaled {plural(len(prepared.adopted), 'job id')} that a "
                   f"previous run could not record ({', '.join(prepared.adopted[:3])}"
                   f"{', …' if len(prepared.adopted) > 3 else ''}); they are polled, "
                   "not created again", err=True)
    if prepared.damaged:
        ids = ", ".join(prepared.damaged[:3]) + (", …" if len(prepared.damaged) > 3 else "")
        click.echo(f"note: {plural(len(prepared.damaged), 'cached video')} changed since "
                   f"downloaded (sha256 differs from the journal's: {ids}); fetching again "
                   "by job id, no new job", err=True)


def _agree(prepared: Any, limit: Decimal | None, *, yes: bool, placeholders: bool) -> None:
    """Keep the budget, then ask (unless --yes) before anything is created."""
    from storyboard.plan.price import check_budget
    from storyboard.plan.pricing import format_usd
    from storyboard.report.table import plural

    check_budget(prepared.plan, limit)
    if prepared.creates and not yes:
        _confirm(f"Render {plural(prepared.creates, 'new generation')} for "
                 f"${format_usd(prepared.plan.due_cost)}"
                 f"{' (sandbox: no cost)' if placeholders else ''}?")


def _confirm(question: str) -> None:
    """Declining exits 2 (nothing was run); Ctrl-C at the question exits 130, as anywhere."""
    if not sys.stdin.isatty():
        raise UsageError("no terminal to confirm on: pass --yes to run without asking")
    try:
        confirmed = click.confirm(question, default=False, err=True)
    except click.Abort:  # click's word for Ctrl-C (or end of input) at a prompt
        fail(["", "interrupted at the confirmation; nothing was submitted"], 130)
    if not confirmed:
        raise UsageError("cancelled; nothing was submitted")


def _stopping() -> None:
    click.echo("\nstopping: no new jobs will be submitted; jobs already created stay in the "
               "journal (Ctrl-C again to quit at once)", err=True)


def _after_run(plan: Plan, workspace: Workspace, summary: Any, attempts: Any, *,
               no_cut: bool, fail_on_flag: bool) -> int:
    """Publish the keepers, cut and review (unless --no-cut); return the exit code."""
    cuts = flagged = 0
    if not summary.interrupted:
        the_cutter = cutter(plan, workspace, attempts)  # publishes each generation's keeper
        if not no_cut:
            cuts = _cut_after_run(the_cutter, summary)
            flagged = refresh_report(plan, workspace)
    return summary.exit_code or cuts or (EXIT_FLAGGED if fail_on_flag and flagged else 0)


def _cut_after_run(the_cutter: Cutter, summary: Any) -> int:
    """Cut every variant whose renders are all there; say which got none and why."""
    from storyboard.media.cut import outcome_reasons
    from storyboard.report.text import cut_report

    cuts = the_cutter.cut_all(outcome_reasons(summary.outcomes))
    click.echo(cut_report(cuts), nl=False)
    return cuts.exit_code

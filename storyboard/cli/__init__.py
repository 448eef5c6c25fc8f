"""The command line: parse options, call one library function, report, return an exit code.

Commands import what they use inside their own body: ``storyboard validate`` runs on
every commit (pre-commit), and ``--help`` should not wait for the compiler, the HTTP
client or the terminal UI to load (tests/cli/test_startup.py keeps it so).
"""

from __future__ import annotations

import functools
import os
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from storyboard import __version__
from storyboard.cli.types import SECONDS, Bounded, NonEmptyPath, Usd
from storyboard.errors import BudgetExceeded, SourceError, StoryboardError, UsageError

if TYPE_CHECKING:
    from decimal import Decimal

    from storyboard.execute.workspace import Workspace
    from storyboard.media.cut import Cutter
    from storyboard.model import Plan
    from storyboard.plan.diff import PlanDiff
    from storyboard.plan.pricing import PriceTable

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK = 0
EXIT_PROBLEMS = 1  # problems in a storyboard, over budget, failed generations
EXIT_USAGE = 2  # bad options or auxiliary files
EXIT_PENDING = 2  # plan --detailed-exitcode: renders pending (as terraform plan does)
EXIT_GATE = 3  # a --fail-over / --fail-on-increase gate was breached
EXIT_FLAGGED = 4  # run --fail-on-flag: a delivered clip has a quality flag


def _fail(lines: list[str], code: int) -> NoReturn:
    for line in lines:
        click.echo(line, err=True)
    sys.exit(code)


DETAILED_EXITCODE = "--detailed-exitcode"


def _error_code(code: int) -> int:
    """With ``plan --detailed-exitcode`` every error exits 1, as Terraform's do, so that 2
    only ever means "renders pending" to the script reading it."""
    context = click.get_current_context(silent=True)
    detailed = context is not None and context.params.get("detailed_exitcode")
    return EXIT_PROBLEMS if detailed and code == EXIT_USAGE else code


class _DetailedExitcodeCommand(click.Command):
    """Click's own usage errors (a bad ``--format``) follow ``_error_code`` too."""

    def make_context(self, info_name: str | None, args: list[str],
                     parent: click.Context | None = None, **extra: Any) -> click.Context:
        detailed = DETAILED_EXITCODE in args  # parsing consumes ``args``
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.ClickException as exc:
            if not detailed or exc.exit_code != EXIT_USAGE:
                raise
            exc.show()
            sys.exit(EXIT_PROBLEMS)


def reports_errors(command: F) -> F:
    """Every StoryboardError becomes its lines on stderr and an exit code, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except StoryboardError as exc:
            _fail(exc.lines(), _error_code(exc.exit_code))
        except KeyboardInterrupt:
            _fail(["interrupted"], 130)
        except OSError as exc:
            _fail([f"error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": ")], 1)
        return None

    return wrapper  # type: ignore[return-value]


file_argument = click.argument(
    "file", type=NonEmptyPath(exists=False, dir_okay=False, path_type=Path))
pricing_option = click.option(
    "--pricing", type=NonEmptyPath(dir_okay=False, path_type=Path), default=None,
    help="Price table JSON to use instead of the built-in one.")
state_option = click.option("--state", type=NonEmptyPath(file_okay=False, path_type=Path),
                            default=None, help="State folder (default: .storyboard/ beside "
                            "the storyboard).")
out_option = click.option("--out", type=NonEmptyPath(file_okay=False, path_type=Path),
                          default=None, help="Renders folder (default: renders/ beside the "
                          "storyboard).")
max_cost_option = click.option(
    "--max-cost", metavar="USD", type=Usd(), default=None,
    help="Limit on this run's new spend (what is due now); budget.max_cost_usd still "
    "bounds what the storyboard spends over all its runs.")


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="storyboard")
def cli() -> None:
    """Compile storyboards into Kling O3 video requests, plan their cost, and render them."""


@cli.command()
@click.argument("files", nargs=-1, required=True,
                type=NonEmptyPath(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "github"]), default="text",
              show_default=True, help="github: workflow annotations shown on the PR diff.")
@reports_errors
def validate(files: tuple[Path, ...], fmt: str) -> None:
    """Check storyboards: every problem as FILE:LINE:COL, exit 1 on any."""
    from storyboard.compile import compile_file
    from storyboard.report.reporters import PROBLEM_REPORTERS, plural

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
    from storyboard.plan.pricing import load_price_table
    from storyboard.report.reporters import compile_lines

    plan = plan_file(file, prices=load_price_table(pricing))
    click.echo(compile_lines(plan), nl=False)


@cli.command(cls=_DetailedExitcodeCommand)
@file_argument
@click.option("--format", "fmt", type=click.Choice(["table", "json", "markdown", "html"]),
              default="table", show_default=True,
              help="html: each variant's timeline as a page (clips sized by duration).")
@click.option("--out", type=NonEmptyPath(dir_okay=False, path_type=Path), default=None,
              help="Also save the plan as JSON, to run exactly it later.")
@click.option("--against", metavar="REF", default=None,
              help="Compare with the storyboard as it was at this git ref (cost diff).")
@click.option("--fail-over", metavar="USD", type=Usd(), default=None,
              help=f"Exit {EXIT_GATE} when the plan costs more than USD.")
@click.option("--fail-on-increase", metavar="USD|PCT", default=None,
              help=f"With --against: exit {EXIT_GATE} when the cost rises by more than "
              "USD (2.50) or PCT (10%).")
@click.option(DETAILED_EXITCODE, is_flag=True,
              help="Exit 0 when the journal holds every render, 2 when renders are pending, "
              "1 on any error (as terraform plan -detailed-exitcode).")
@max_cost_option
@pricing_option
@state_option
@reports_errors
def plan(file: Path, fmt: str, out: Path | None, against: str | None,
         fail_over: Decimal | None, fail_on_increase: str | None, detailed_exitcode: bool,
         max_cost: Decimal | None,
         pricing: Path | None, state: Path | None) -> None:
    """Show the cost plan (or, with --against, the cost diff); exit 1 over budget."""
    from storyboard.compile import plan_file
    from storyboard.execute.prepare import with_journal
    from storyboard.execute.workspace import Workspace
    from storyboard.plan.diff import Increase, gate_failures
    from storyboard.plan.price import budget_problems
    from storyboard.plan.pricing import format_usd, load_price_table
    from storyboard.report.reporters import (
        DIFF_REPORTERS,
        PLAN_REPORTERS,
        diff_as_json,
        plan_as_json,
    )
    from storyboard.store import write_atomic

    limit, over = max_cost, fail_over
    increase = Increase.parse(fail_on_increase) if fail_on_increase is not None else None
    if increase is not None and against is None:
        raise UsageError("--fail-on-increase needs --against REF to know the old cost")
    prices = load_price_table(pricing)
    the_plan = plan_file(file, prices=prices)
    the_plan = with_journal(the_plan, Workspace.beside(Path(the_plan.root), the_plan.name,
                                                       state=state))
    if against is not None:
        diff = _diff_against(file, against, the_plan, prices)
        gates = gate_failures(diff, fail_over=over, fail_on_increase=increase)
        if fmt == "html":
            raise UsageError("--format html draws one plan; with --against use table, json "
                             "or markdown")
        click.echo(diff_as_json(diff, limit, gates) if fmt == "json"
                   else DIFF_REPORTERS[fmt](diff, limit), nl=False)
    else:
        click.echo(PLAN_REPORTERS[fmt](the_plan, limit), nl=False)
        cost = the_plan.totals().cost
        gates = [f"plan costs ${format_usd(cost)}, over --fail-over "
                 f"${format_usd(over)}"] if over is not None and cost > over else []
    if out is not None:
        write_atomic(out, plan_as_json(the_plan, limit, base=out.parent).encode("utf-8"))
        click.echo(f"plan saved to {out}; run it with: storyboard run {out}", err=True)
    _exit_for(budget_problems(the_plan, limit), gates,
              the_plan.pending if detailed_exitcode else None)


def _diff_against(file: Path, ref: str, new: Plan, prices: PriceTable) -> PlanDiff:
    from storyboard.compile import plan_file
    from storyboard.plan.diff import diff_plans
    from storyboard.plan.gitref import checkout
    from storyboard.report.reporters import plural

    note = ""
    with checkout(file, ref) as snapshot:
        old = None
        if snapshot.path is not None:
            try:
                old = plan_file(snapshot.path, prices=prices, display=snapshot.display)
            except SourceError as exc:  # the change that fixes a storyboard still gets a plan
                count = plural(len(exc.problems), "problem")
                note = (f"{snapshot.display} did not compile ({count}; first: "
                        f"{exc.problems[0].format()})")
    return diff_plans(old, new, old_label=snapshot.display, new_label=str(file),
                      old_note=note)


def _exit_for(budget: list[str], gates: list[str], pending: bool | None) -> None:
    """Over budget: 1. A CI gate breached: 3. --detailed-exitcode: 2 if renders pending."""
    if budget:
        raise BudgetExceeded("\n".join(budget))
    if gates:
        _fail([f"error: {line}" for line in gates], EXIT_GATE)
    if pending:
        sys.exit(EXIT_PENDING)


@cli.command()
@click.argument("old", type=NonEmptyPath(dir_okay=False, path_type=Path))
@click.argument("new", type=NonEmptyPath(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["table", "json", "markdown"]),
              default="table", show_default=True)
@click.option("--fail-over", metavar="USD", type=Usd(), default=None,
              help=f"Exit {EXIT_GATE} when the new plan costs more than USD.")
@click.option("--fail-on-increase", metavar="USD|PCT", default=None,
              help=f"Exit {EXIT_GATE} when the cost rises by more than USD or PCT.")
@pricing_option
@reports_errors
def diff(old: Path, new: Path, fmt: str, fail_over: Decimal | None,
         fail_on_increase: str | None, pricing: Path | None) -> None:
    """Compare two storyboards (or two saved plan JSONs) generation by generation."""
    from storyboard.plan.diff import Increase, diff_plans, gate_failures
    from storyboard.report.reporters import DIFF_REPORTERS, diff_as_json

    increase = Increase.parse(fail_on_increase) if fail_on_increase is not None else None
    result = diff_plans(_load_plan(old, pricing), _load_plan(new, pricing),
                        old_label=str(old), new_label=str(new))
    gates = gate_failures(result, fail_over=fail_over, fail_on_increase=increase)
    click.echo(diff_as_json(result, None, gates) if fmt == "json"
               else DIFF_REPORTERS[fmt](result, None), nl=False)
    _exit_for([], gates, None)


@cli.command()
@reports_errors
def schema() -> None:
    """Print the storyboard JSON Schema (for editors and other validators)."""
    from storyboard.resources import STORYBOARD_SCHEMA, schema_path

    click.echo(schema_path(STORYBOARD_SCHEMA).read_text(encoding="utf-8"), nl=False)


@cli.command()
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


def _load_plan(target: Path, pricing: Path | None, *, to_run: bool = False) -> Plan:
    """A storyboard is compiled and priced; a saved plan JSON is taken exactly as saved
    (and, to be run, must sit where its storyboard's state is)."""
    from storyboard.compile import plan_file
    from storyboard.plan.price import check_runnable, load_plan
    from storyboard.plan.pricing import load_price_table

    prices = load_price_table(pricing)
    if target.suffix.lower() == ".json":
        plan = load_plan(target, prices)
        if to_run:
            check_runnable(plan, target)
        return plan
    return plan_file(target, prices=prices)




def _poll_options(command: F) -> F:
    """How often to ask about a job, and for how long: `run` and `reroll` alike."""
    for option in reversed((
        click.option("--poll-start", type=SECONDS, default=None, metavar="S",
                     help="First poll interval in seconds [default: 5; 0.1 with --sandbox]."),
        click.option("--poll-max", type=SECONDS, default=None, metavar="S",
                     help="Longest poll interval in seconds [default: 30; 1 with --sandbox]."),
        click.option("--job-timeout", type=Bounded(0.1, 7 * 24 * 3600, "seconds"),
                     default=None, metavar="S",
                     help="Stop waiting for one job after S seconds (it stays journaled) "
                     "[default: 3600; 300 with --sandbox]."),
    )):
        command = option(command)
    return command


@cli.command()
@click.argument("target", metavar="FILE|PLAN.json",
                type=NonEmptyPath(dir_okay=False, path_type=Path))
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation (for scripts).")
@click.option("--sandbox", is_flag=True,
              help="Run against a local sandbox API on loopback: no key, no cost.")
@click.option("--api-base", default=None, metavar="URL",
              help="API base URL (default: $SHORTAPI_BASE_URL or https://api.shortapi.ai).")
@max_cost_option
@click.option("--only", multiple=True, metavar="GLOB",
              help="Only generations whose id matches (repeatable), e.g. 'us-*/hero'.")
@click.option("--concurrency", type=Bounded(1, 1000, "jobs in flight", integer=True),
              default=4, show_default=True, help="Jobs in flight at once.")
@click.option("--rate", type=Bounded(0.01, 10_000, "requests per second"), default=None,
              metavar="N", help="At most N API requests per second.")
@_poll_options
@click.option("--callback-url", default=None, metavar="URL",
              help="Passed to the API with every create.")
@click.option("--resubmit-unknown", is_flag=True,
              help="Send again creates whose outcome is unknown (may pay twice).")
@click.option("--no-cut", is_flag=True,
              help="Render only; make the final cuts and the review later with `storyboard "
              "cut FILE` and `storyboard report FILE`.")
@click.option("--accept-lost-journal", is_flag=True,
              help="Go on with a journal that is missing, empty or older than its state "
              "folder shows (jobs it lost may be created and charged again).")
@state_option
@out_option
@pricing_option
@click.option("--sandbox-latency", default=None, metavar="SPEC",
              help="With --sandbox: job latency in seconds, a range A-B, or "
              "lognormal:MEDIAN,SIGMA [default: 1].")
@click.option("--sandbox-fault", multiple=True, metavar="NAME[=RATE]",
              help="With --sandbox: inject a fault, e.g. http503=0.2 (repeatable).")
@click.option("--fail-on-flag", is_flag=True,
              help=f"Exit {EXIT_FLAGGED} when a delivered clip has a quality flag (black, "
              "frozen, silent, duration, aspect) and nothing else failed.")
@reports_errors
def run(target: Path, yes: bool, sandbox: bool, api_base: str | None, max_cost: Decimal | None,
        only: tuple[str, ...], concurrency: int, rate: float | None, poll_start: float | None,
        poll_max: float | None, job_timeout: float | None, callback_url: str | None,
        resubmit_unknown: bool, accept_lost_journal: bool, no_cut: bool, state: Path | None,
        out: Path | None, pricing: Path | None, sandbox_latency: str | None,
        sandbox_fault: tuple[str, ...], fail_on_flag: bool) -> None:
    """Plan, confirm, then create, poll and download every generation; resume by rerunning.
    Then cut each variant whose renders are all there into one video, and refresh the
    HTML review."""
    from storyboard.execute.options import run_options, sandbox_config

    local_api = sandbox_config(sandbox=sandbox, latency=sandbox_latency, faults=sandbox_fault)
    options = run_options(sandbox=sandbox, concurrency=concurrency, poll_start=poll_start,
                          poll_max=poll_max, job_timeout=job_timeout, only=only,
                          resubmit_unknown=resubmit_unknown, callback_url=callback_url)
    plan = _load_plan(target, pricing, to_run=True)
    sys.exit(_execute(plan, options, yes=yes, sandbox=sandbox, local_api=local_api,
                      api_base=api_base, max_cost=max_cost, rate=rate, concurrency=concurrency,
                      accept_lost_journal=accept_lost_journal, no_cut=no_cut, state=state,
                      out=out, fail_on_flag=fail_on_flag))


def _execute(plan: Plan, options: Any, *, yes: bool, sandbox: bool, local_api: Any,
             api_base: str | None, max_cost: Decimal | None, rate: float | None,
             concurrency: int, accept_lost_journal: bool, no_cut: bool, state: Path | None,
             out: Path | None, before: Callable[[], None] = lambda: None,
             fail_on_flag: bool = False) -> int:
    """What `run` and `reroll` share: show the plan, keep the budget, confirm, call
    ``before`` (reroll writes its lock file there), execute, cut. Returns the exit code."""
    from storyboard.execute.executor import execute
    from storyboard.execute.manifest import refuse_placeholders_among_renders
    from storyboard.execute.options import api_for, on_a_sandbox
    from storyboard.execute.preflight import check_before_creating
    from storyboard.execute.prepare import prepare
    from storyboard.execute.workspace import Workspace
    from storyboard.journal.sqlite import Journal
    from storyboard.plan.price import check_budget
    from storyboard.plan.pricing import format_usd
    from storyboard.report.progress import progress_for
    from storyboard.report.reporters import plan_as_table, plural, run_summary

    limit = max_cost
    placeholders = on_a_sandbox(sandbox=sandbox, api_base=api_base, env=os.environ)
    workspace = Workspace.beside(Path(plan.root), plan.name, state=state, out=out,
                                 sandbox=placeholders)
    refuse_placeholders_among_renders(workspace)
    with Journal.open(workspace.state_dir, traces=workspace.traces,
                      accept_lost=accept_lost_journal) as journal:
        prepared = prepare(plan, journal, workspace, options)
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
        check_budget(prepared.plan, limit)
        if prepared.creates and not yes:
            _confirm(f"Render {plural(prepared.creates, 'new generation')} for "
                     f"${format_usd(prepared.plan.due_cost)}"
                     f"{' (sandbox: no cost)' if placeholders else ''}?")
        # after the question (declining writes nothing), before the first create
        check_before_creating(prepared, workspace, journal.state_id or "")
        before()
        with api_for(sandbox=local_api, api_base=api_base, env=os.environ, rate=rate,
                     concurrency=concurrency) as api, \
                progress_for(prepared.plan, sys.stderr) as progress:
            summary = execute(prepared, journal=journal, workspace=workspace, options=options,
                              api=api, plan=plan, on_event=progress, on_stop=_stopping)
        attempts = journal.latest_all(workspace.origin)
    click.echo(run_summary(summary, workspace.manifest), nl=False)
    cuts = flagged = 0
    if not summary.interrupted:
        cutter = _cutter(plan, workspace, attempts)  # publishes each generation's keeper
        if not no_cut:
            cuts = _cut_after_run(cutter, summary)
            flagged = _report_after_run(plan, workspace)
    return summary.exit_code or cuts or (EXIT_FLAGGED if fail_on_flag and flagged else 0)


def _report_after_run(plan: Plan, workspace: Any) -> int:
    """Refresh the HTML review; say where it is and list the quality flags (how many)."""
    from storyboard.journal.sqlite import Journal
    from storyboard.report.html import build_report
    from storyboard.report.reporters import flag_lines

    with Journal.open(workspace.state_dir, exclusive=False) as journal:
        page, review = build_report(plan, journal, workspace)
    click.echo(flag_lines(review.flagged), nl=False)
    click.echo(f"report: {page}")
    return len(review.flagged)


def _cut_after_run(cutter: Cutter, summary: Any) -> int:
    """Cut every variant whose renders are all there; say which got none and why."""
    from storyboard.media.cut import outcome_reasons
    from storyboard.report.reporters import cut_report

    cuts = cutter.cut_all(outcome_reasons(summary.outcomes))
    click.echo(cut_report(cuts), nl=False)
    return cuts.exit_code


@cli.command()
@file_argument
@click.option("--sandbox", is_flag=True,
              help="Cut the sandbox's placeholder renders (renders/sandbox/).")
@state_option
@out_option
@reports_errors
def cut(file: Path, sandbox: bool, state: Path | None, out: Path | None) -> None:
    """Assemble each variant's final cut from the renders already made: no API, no key, $0."""
    from storyboard.journal.sqlite import Journal
    from storyboard.media.cut import missing_reasons
    from storyboard.report.reporters import cut_report

    plan, workspace = _renders_of(file, "storyboard cut", sandbox, state, out)
    reasons: dict[str, str] = {}
    attempts: dict[str, Any] = {}
    if workspace.state_dir.is_dir():
        with Journal.open(workspace.state_dir, exclusive=False) as journal:
            reasons = missing_reasons(plan, journal.latest_all())
            attempts = journal.latest_all(workspace.origin)
    summary = _cutter(plan, workspace, attempts).cut_all(reasons)
    click.echo(cut_report(summary), nl=False)
    if not summary.complete and _sandbox_has_them(plan, sandbox, state):
        click.echo("note: the sandbox's renders are cut with --sandbox", err=True)
    sys.exit(EXIT_OK if summary.complete else EXIT_PROBLEMS)


def _renders_of(file: Path, command: str, sandbox: bool, state: Path | None,
                out: Path | None) -> tuple[Plan, Workspace]:
    """What `cut` and `report` work on: the storyboard's plan and where its renders are
    (the media extra is needed for both)."""
    from storyboard.compile import plan_file
    from storyboard.execute.workspace import Workspace
    from storyboard.media import require

    require(command)
    plan = plan_file(file)
    return plan, Workspace.beside(Path(plan.root), plan.name, state=state, out=out,
                                  sandbox=sandbox)


def _sandbox_has_them(plan: Plan, sandbox: bool, state: Path | None) -> bool:
    """Whether a command that found nothing here should point at the sandbox's renders."""
    from storyboard.execute.workspace import Workspace

    return not sandbox and state is None and Workspace.beside(
        Path(plan.root), plan.name, sandbox=True).state_dir.is_dir()


def _cutter(plan: Plan, workspace: Any, attempts: Any) -> Cutter:
    """The final cut's cutter, taking each generation's keeper (the lock file's pick, else
    the lowest-numbered delivered candidate), which is first published at its own path."""
    from storyboard.execute.candidates import Keepers, publish_keepers
    from storyboard.media.cut import Cutter
    from storyboard.plan.lock import lock_path, read_lock

    lock = read_lock(lock_path(Path(plan.root) / Path(plan.source).name))
    keepers = Keepers(plan, workspace, lock, attempts)
    publish_keepers(keepers)
    return Cutter(plan, workspace, render_of=keepers.render_of)


@cli.command()
@file_argument
@click.argument("ids", nargs=-1, required=True, metavar="ID...")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation (for scripts).")
@click.option("--sandbox", is_flag=True,
              help="Run against a local sandbox API on loopback: no key, no cost.")
@click.option("--api-base", default=None, metavar="URL",
              help="API base URL (default: $SHORTAPI_BASE_URL or https://api.shortapi.ai).")
@max_cost_option
@_poll_options
@state_option
@out_option
@pricing_option
@click.option("--sandbox-latency", default=None, metavar="SPEC",
              help="With --sandbox: job latency in seconds, a range A-B, or "
              "lognormal:MEDIAN,SIGMA [default: 1].")
@click.option("--sandbox-fault", multiple=True, metavar="NAME[=RATE]",
              help="With --sandbox: inject a fault, e.g. http503=0.2 (repeatable).")
@reports_errors
def reroll(file: Path, ids: tuple[str, ...], yes: bool, sandbox: bool, api_base: str | None,
           max_cost: Decimal | None, poll_start: float | None, poll_max: float | None,
           job_timeout: float | None, state: Path | None, out: Path | None,
           pricing: Path | None, sandbox_latency: str | None,
           sandbox_fault: tuple[str, ...]) -> None:
    """Render one more candidate of each generation ID names (an id or a glob, e.g.
    'us-wide/hero', 'us-*/hero.2'); the cost is shown and the budget kept first, and
    the lock file records the added candidate once it is confirmed."""
    from storyboard.compile import plan_file
    from storyboard.execute.candidates import reroll as add_candidates
    from storyboard.execute.options import run_options, sandbox_config
    from storyboard.plan.lock import lock_path, read_lock, write_lock
    from storyboard.plan.pricing import load_price_table
    from storyboard.report.reporters import plural

    local_api = sandbox_config(sandbox=sandbox, latency=sandbox_latency, faults=sandbox_fault)
    prices = load_price_table(pricing)
    lock, added = add_candidates(plan_file(file, prices=prices), read_lock(lock_path(file)),
                                 ids)
    plan = plan_file(file, prices=prices, lock=lock)
    options = run_options(sandbox=sandbox, concurrency=4, poll_start=poll_start,
                          poll_max=poll_max, job_timeout=job_timeout, only=added)
    click.echo(f"adding {plural(len(added), 'candidate')}: {', '.join(added)}", err=True)
    sys.exit(_execute(plan, options, yes=yes, sandbox=sandbox, local_api=local_api,
                      api_base=api_base, max_cost=max_cost, rate=None, concurrency=4,
                      accept_lost_journal=False, no_cut=False, state=state, out=out,
                      before=lambda: write_lock(lock)))


@cli.command()
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
    from storyboard.compile import plan_file
    from storyboard.execute.candidates import pick as pin
    from storyboard.execute.workspace import Workspace
    from storyboard.journal.sqlite import Journal
    from storyboard.media import require
    from storyboard.plan.lock import lock_path, read_lock, write_lock
    from storyboard.report.reporters import cut_report

    plan = plan_file(file)
    workspace = Workspace.beside(Path(plan.root), plan.name, state=state, out=out,
                                 sandbox=sandbox)
    if not workspace.state_dir.is_dir():
        raise UsageError(f"{workspace.state_dir}: no state here, so nothing is rendered to "
                         "pick from; `storyboard run FILE` renders the candidates")
    with Journal.open(workspace.state_dir, exclusive=False) as journal:
        attempts = journal.latest_all(workspace.origin)
    lock = pin(plan, read_lock(lock_path(file)), attempts, workspace, generation_id, candidate)
    write_lock(lock)
    entry = lock.entries[generation_id]
    click.echo(f"picked {generation_id} candidate {candidate} (sha256 {entry.sha256}, job "
               f"{entry.job_id}) in {lock.path}")
    require("storyboard pick")
    summary = _cutter(plan, workspace, attempts).cut_all()
    click.echo(cut_report(summary), nl=False)
    sys.exit(EXIT_OK if summary.complete else EXIT_PROBLEMS)


@cli.command()
@file_argument
@click.option("--sandbox", is_flag=True,
              help="Review the sandbox's placeholder renders (renders/sandbox/).")
@state_option
@out_option
@reports_errors
def report(file: Path, sandbox: bool, state: Path | None, out: Path | None) -> None:
    """Write the offline HTML review (renders/<name>/report/index.html) and print its path."""
    from storyboard.journal.sqlite import Journal
    from storyboard.report.html import build_report
    from storyboard.report.reporters import flag_lines

    plan, workspace = _renders_of(file, "storyboard report", sandbox, state, out)
    if not workspace.state_dir.is_dir():
        raise UsageError(f"{workspace.state_dir}: no renders to review yet; run `storyboard "
                         f"run {shlex.quote(str(file))}`{' --sandbox' if sandbox else ''} first")
    with Journal.open(workspace.state_dir, exclusive=False) as journal:
        page, review = build_report(plan, journal, workspace)
    click.echo(flag_lines(review.flagged), nl=False, err=True)
    click.echo(str(page))
    if not review.count("delivered") and _sandbox_has_them(plan, sandbox, state):
        click.echo("note: nothing is rendered here; the sandbox's renders are reviewed with "
                   "--sandbox", err=True)


def _confirm(question: str) -> None:
    """Declining exits 2 (nothing was run); Ctrl-C at the question exits 130, as anywhere."""
    if not sys.stdin.isatty():
        raise UsageError("no terminal to confirm on: pass --yes to run without asking")
    try:
        confirmed = click.confirm(question, default=False, err=True)
    except click.Abort:  # click's word for Ctrl-C (or end of input) at a prompt
        _fail(["", "interrupted at the confirmation; nothing was submitted"], 130)
    if not confirmed:
        raise UsageError("cancelled; nothing was submitted")


def _stopping() -> None:
    click.echo("\nstopping: no new jobs will be submitted; jobs already created stay in the "
               "journal (Ctrl-C again to quit at once)", err=True)


@cli.command()
@click.argument("target", metavar="FILE|PLAN.json",
                type=NonEmptyPath(dir_okay=False, path_type=Path))
@state_option
@out_option
@pricing_option
@reports_errors
def status(target: Path, state: Path | None, out: Path | None, pricing: Path | None) -> None:
    """Show what the journal knows about each generation."""
    from storyboard.execute.status import status as journal_status
    from storyboard.execute.workspace import Workspace
    from storyboard.journal.sqlite import Journal
    from storyboard.report.reporters import status_table

    plan = _load_plan(target, pricing)
    workspace = Workspace.beside(Path(plan.root), plan.name, state=state, out=out)
    with Journal.open(workspace.state_dir, exclusive=False) as journal:
        report = journal_status(plan, journal, workspace)
    click.echo(status_table(report), nl=False)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8765, show_default=True, help="0 picks a free port.")
@click.option("--key", default=None, help="Accept only this bearer key (default: any).")
@click.option("--latency", default="3", show_default=True, metavar="SPEC",
              help="Job latency: seconds, a range A-B, or lognormal:MEDIAN,SIGMA.")
@click.option("--fault", multiple=True, metavar="NAME[=RATE]",
              help="Inject faults, e.g. http503=0.2, drop-after=0.05, fail (repeatable).")
@click.option("--seed", default=0, show_default=True, help="Seed for faults and latencies.")
@reports_errors
def sandbox(host: str, port: int, key: str | None, latency: str, fault: tuple[str, ...],
            seed: int) -> None:
    """Serve the sandbox job API on loopback (speaks ShortAPI's contract; charges nothing)."""
    from storyboard.api.sandbox import Faults, SandboxConfig, parse_latency, serve

    config = SandboxConfig(host=host, port=port, api_key=key, seed=seed,
                           latency=parse_latency(latency, seed=seed),
                           faults=Faults.parse(fault))

    def ready(url: str) -> None:
        click.echo(f"sandbox listening on {url} (faults: {config.faults.describe()})")
        click.echo(f"  export SHORTAPI_BASE_URL={url} SHORTAPI_KEY={key or 'anything'}")
        click.echo(f"  ledger: {url}/_sandbox/ledger — Ctrl-C to stop", nl=True)

    serve(config, ready=ready)


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

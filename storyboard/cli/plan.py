"""What a storyboard costs: `plan` (with --against, the cost diff) and `diff`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from storyboard.cli.common import load_plan
from storyboard.cli.errors import (
    DETAILED_EXITCODE,
    EXIT_GATE,
    EXIT_PENDING,
    EXIT_PROBLEMS,
    EXIT_USAGE,
    fail,
    reports_errors,
)
from storyboard.cli.options import (
    file_argument,
    max_cost_option,
    pricing_option,
    state_option,
)
from storyboard.cli.types import NonEmptyPath, Usd
from storyboard.errors import BudgetExceeded, SourceError, UsageError

if TYPE_CHECKING:
    from decimal import Decimal

    from storyboard.plan.diff import Increase, PlanDiff
    from storyboard.plan.model import Plan
    from storyboard.plan.pricing import PriceTable


class DetailedExitcodeCommand(click.Command):
    """Click's own usage errors (a bad ``--format``) exit 1 too with --detailed-exitcode."""

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


@click.command(cls=DetailedExitcodeCommand)
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
    from storyboard.plan.price import budget_problems
    from storyboard.plan.pricing import load_price_table

    increase = _increase(fail_on_increase, against)
    prices = load_price_table(pricing)
    the_plan = _journaled_plan(file, prices, state)
    if against is None:
        gates = _show_plan(the_plan, fmt, max_cost, fail_over)
    else:
        gates = _show_diff(file, against, the_plan, prices, fmt=fmt, limit=max_cost,
                           fail_over=fail_over, increase=increase)
    if out is not None:
        _save_plan(the_plan, max_cost, out)
    _exit_for(budget_problems(the_plan, max_cost), gates,
              the_plan.pending if detailed_exitcode else None)


def _increase(fail_on_increase: str | None, against: str | None) -> Increase | None:
    from storyboard.plan.diff import Increase

    increase = Increase.parse(fail_on_increase) if fail_on_increase is not None else None
    if increase is not None and against is None:
        raise UsageError("--fail-on-increase needs --against REF to know the old cost")
    return increase


def _journaled_plan(file: Path, prices: PriceTable, state: Path | None) -> Plan:
    """The storyboard's plan, with what its journal already holds marked as such."""
    from storyboard.cli.common import workspace_for
    from storyboard.compile import plan_file
    from storyboard.execute.prepare import with_journal

    the_plan = plan_file(file, prices=prices)
    return with_journal(the_plan, workspace_for(the_plan, state=state))


def _show_plan(the_plan: Plan, fmt: str, limit: Decimal | None,
               over: Decimal | None) -> list[str]:
    """Print the plan; return the --fail-over gate it breaches, if any."""
    from storyboard.plan.pricing import format_usd
    from storyboard.report.reporters import PLAN_REPORTERS

    click.echo(PLAN_REPORTERS[fmt](the_plan, limit), nl=False)
    cost = the_plan.totals().cost
    return [f"plan costs ${format_usd(cost)}, over --fail-over "
            f"${format_usd(over)}"] if over is not None and cost > over else []


def _show_diff(file: Path, ref: str, the_plan: Plan, prices: PriceTable, *, fmt: str,
               limit: Decimal | None, fail_over: Decimal | None,
               increase: Increase | None) -> list[str]:
    """Print the cost diff against REF; return the gates it breaches."""
    from storyboard.plan.diff import gate_failures
    from storyboard.report.reporters import DIFF_REPORTERS, diff_as_json

    diff = _diff_against(file, ref, the_plan, prices)
    gates = gate_failures(diff, fail_over=fail_over, fail_on_increase=increase)
    if fmt == "html":
        raise UsageError("--format html draws one plan; with --against use table, json "
                         "or markdown")
    click.echo(diff_as_json(diff, limit, gates) if fmt == "json"
               else DIFF_REPORTERS[fmt](diff, limit), nl=False)
    return gates


def _save_plan(the_plan: Plan, limit: Decimal | None, out: Path) -> None:
    from storyboard.report.json import plan_as_json
    from storyboard.store import write_atomic

    write_atomic(out, plan_as_json(the_plan, limit, base=out.parent).encode("utf-8"))
    click.echo(f"plan saved to {out}; run it with: storyboard run {out}", err=True)


def _diff_against(file: Path, ref: str, new: Plan, prices: PriceTable) -> PlanDiff:
    from storyboard.compile import plan_file
    from storyboard.plan.diff import diff_plans
    from storyboard.plan.gitref import checkout
    from storyboard.report.table import plural

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
        fail([f"error: {line}" for line in gates], EXIT_GATE)
    if pending:
        sys.exit(EXIT_PENDING)


@click.command()
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
    result = diff_plans(load_plan(old, pricing), load_plan(new, pricing),
                        old_label=str(old), new_label=str(new))
    gates = gate_failures(result, fail_over=fail_over, fail_on_increase=increase)
    click.echo(diff_as_json(result, None, gates) if fmt == "json"
               else DIFF_REPORTERS[fmt](result, None), nl=False)
    _exit_for([], gates, None)

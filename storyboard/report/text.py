"""Reports as text for a terminal: the plan table, the plan diff, run and cut summaries,
the status table and quality flags."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from storyboard.journal.base import Status
from storyboard.media.timeline import seconds_text, timeline_text
from storyboard.plan.diff import Change, PlanDiff
from storyboard.plan.model import IN_FLIGHT, NEW, REUSED, SHARED, UNKNOWN, Plan, PlanItem, Totals
from storyboard.plan.price import budget_problems, spending, usd
from storyboard.plan.pricing import format_usd
from storyboard.report.table import aligned, plural

if TYPE_CHECKING:
    from storyboard.media.cut import CutSummary
    from storyboard.media.flags import Flag
    from storyboard.results import RunSummary, StatusReport

STATE_LABELS = {NEW: "new", REUSED: "reused", IN_FLIGHT: "paid, in flight",
                UNKNOWN: "unknown outcome", SHARED: "shared"}
HELD_LABELS = {SHARED: "saved", REUSED: "paid before", IN_FLIGHT: "paid",
               UNKNOWN: "maybe paid"}
PLAN_HEADER = ["GENERATION", "MODE", "SOUND", "ASPECT", "SECONDS", "RATE/S", "COST", "STATE",
               "DUE NOW"]


def _state(item: PlanItem) -> str:
    return f"= {item.same_as}" if item.state == SHARED else STATE_LABELS.get(item.state,
                                                                              item.state)


def plan_rows(items: Iterable[PlanItem]) -> list[list[str]]:
    """One row per generation, as the table and the markdown show it: the COST column
    adds up to the plan's cost, the DUE NOW column to what a run spends now."""
    return [[i.generation.id, i.generation.mode, i.generation.sound,
             str(i.generation.args["aspect_ratio"]), f"{i.generation.seconds}",
             usd(i.rate), usd(i.charge), _state(i), usd(i.due)] for i in items]


def _subtotal(label: str, totals: Totals) -> list[str]:
    return [label, "", "", "", str(totals.seconds), "", usd(totals.cost), "",
            usd(totals.due)]


def plan_as_table(plan: Plan, max_cost: Decimal | None = None) -> str:
    rows: list[list[str]] = []
    groups = plan.by_variant()
    subtotals = plan.variant_totals()
    for variant, items in groups.items():
        rows.extend(plan_rows(items))
        if len(groups) > 1:
            rows.append(_subtotal(f"  {variant} subtotal", subtotals[variant]))
    out = [f"Plan for {plan.name} ({plan.source}) — {plural(len(plan.items), 'generation')}, "
           f"{plural(len(groups), 'variant')}, prices {plan.pricing_version}", ""]
    out += aligned([PLAN_HEADER, *rows], numeric={4, 5, 6, 8})
    if plan.timelines:  # before the totals: the budget's verdict stays the last line
        out += ["", f"Final cuts ({plan.name}/<variant>.mp4, assembled locally for $0):"]
        width = max(len(t.variant) for t in plan.timelines)
        out += [f"  {t.variant.ljust(width)}  {timeline_text(t)}" for t in plan.timelines]
    out.append("")
    out.append(total_line(plan.totals()))
    out.append(budget_line(plan, max_cost))
    return "\n".join(out) + "\n"


def total_line(totals: Totals) -> str:
    held = [f"{n} {STATE_LABELS.get(state, state)}: {usd(totals.state_costs[state])} "
            f"{HELD_LABELS.get(state, '')}".rstrip()
            for state, n in totals.states.items() if n and state != NEW]
    rendered = (f" ({totals.rendered_seconds} s rendered, the rest shared)"
                if totals.rendered_seconds != totals.seconds else "")
    line = (f"Total: {plural(totals.generations, 'generation')}, {totals.seconds} s of video"
            f"{rendered}, cost {usd(totals.cost)}")
    if held:
        line += f" ({', '.join(held)})"
    return line + f"; due now {usd(totals.due)}"


def budget_line(plan: Plan, max_cost: Decimal | None) -> str:
    problems = budget_problems(plan, max_cost)
    if problems:
        return "Budget: EXCEEDED — " + "; ".join(problems)
    parts = []
    totals = plan.totals()
    if plan.budget.max_cost_usd is not None:
        parts.append(f"{spending(plan.spent, totals.due)} of {usd(plan.budget.max_cost_usd)}")
    if max_cost is not None:
        parts.append(f"{usd(totals.due)} due now of --max-cost {usd(max_cost)}")
    if plan.budget.max_seconds is not None:
        parts.append(f"{totals.rendered_seconds} s rendered of {plan.budget.max_seconds} s")
    if not parts:
        return f"Budget: none set ({spending(plan.spent, totals.due)})"
    return "Budget: within (" + "; ".join(parts) + ")"


def run_summary(summary: RunSummary, manifest: Path | None = None) -> str:
    """What happened: delivered, reused, failed (why, refunded?), unknown; money; files."""
    from storyboard.results import Result

    out = ["", "Summary"]
    if summary.interrupted and not summary.outcomes:
        return "\n".join([*out, (
            "  interrupted at once: jobs being created may have been charged and are marked "
            "unknown; `storyboard status FILE` shows what the journal holds, and the same "
            "command resumes"), ""])
    for result in Result:
        outcomes = summary.by_result(result)
        if not outcomes:
            continue
        out.append(f"  {result.value}: {len(outcomes)}")
        if result in (Result.DELIVERED, Result.REUSED):
            continue
        for o in outcomes:
            refund = ""
            if result is Result.FAILED and o.job_id:
                refund = " (refunded)" if o.refunded else " (not refunded)"
            job = f" [job {o.job_id}]" if o.job_id else ""
            out.append(f"    {o.item.generation.id}{job}{refund}: {o.reason or result.value}")
    maybe = (f", plus up to {usd(summary.unknown)} in creates of unknown outcome"
             if summary.unknown else "")
    out.append(f"  money: estimated {usd(summary.estimated)} for new jobs; charged "
               f"{usd(summary.charged)}{maybe}")
    if summary.workspace.sandbox:
        out.append("  sandbox: its charges are simulated; nothing real was paid")
    for line in summary.kept:
        out.append(f"  not journaled: {line}")
    out.extend(_callback_lines(summary))
    files = [o for o in summary.outcomes if o.file is not None]
    if files:
        out.append(f"  files: {summary.workspace.out_dir / summary.workspace.name}/ "
                   f"({plural(len(files), 'video')})")
    if manifest is not None:
        out.append(f"  manifest: {manifest}")
    if summary.interrupted:
        out.append("  interrupted: the journal keeps every job; run the same command again "
                   "to resume (paid jobs are polled, not re-created)")
    return "\n".join(out) + "\n"


def _callback_lines(summary: RunSummary) -> list[str]:
    """Said only when polls found jobs done before their callbacks: none at all came is a
    callback URL the API cannot reach, and every job waited for the sparse safety net."""
    calls = summary.callbacks
    if calls is None or not calls.polled:
        return []
    if not calls.received:
        return [f"  warning: no callback reached {calls.url}; "
                f"{plural(calls.polled, 'finished job')} found by the slower safety-net polls "
                "instead — check that the API can reach --callback-url (or --callback-listen)"]
    return [f"  callbacks: {calls.received} received; {plural(calls.polled, 'job')} found done "
            "by a poll first (its callback lost or late)"]


def cut_report(summary: CutSummary) -> str:
    """The final cuts: each published file with its runtime and how it was made, and each
    variant that got none, with why."""
    from storyboard.media.cut import CUT, FAILED, REUSED, SKIPPED

    out = ["Final cuts"]
    if summary.note:
        out.append(f"  {summary.note}")
    made = {CUT: "cut", REUSED: "reused, nothing encoded"}
    for r in summary.results:
        if r.status in made and r.file is not None and r.seconds is not None:
            captions = f" + {r.captions.name}" if r.captions else ""
            copied = ", stream copy" if r.method == "copy" and r.status == CUT else ""
            out.append(f"  {r.variant}: {r.file}{captions} ({seconds_text(r.seconds)} s, "
                       f"{made[r.status]}{copied})")
    for status, label in ((SKIPPED, "no cut"), (FAILED, "cut failed")):
        for r in summary.by_status(status):
            out.append(f"  {r.variant}: {label}: {r.reason}")
    counts = [f"{len(summary.by_status(s))} {label}" for s, label in
              ((CUT, "cut"), (REUSED, "reused"), (SKIPPED, "skipped"), (FAILED, "failed"))
              if summary.by_status(s)]
    if counts:
        out.append(f"  {', '.join(counts)} ($0: assembled locally)")
    return "\n".join(out) + "\n"


def status_table(report: StatusReport) -> str:
    """Each generation's state, job, estimated cost and charge; the columns add up to the
    totals below them, and a generation sharing another's render is never charged twice."""
    header = ["GENERATION", "STATE", "JOB", "ESTIMATED", "CHARGED", "FILE"]
    lines = []
    estimated = charged = unknown = Decimal(0)
    keepers = report.keepers()
    for row in report.rows:
        a, item = row.attempt, row.item
        if item.state == SHARED:
            state, job, charge = f"shared = {item.same_as}", "", ""
        elif a is None:
            p = row.placeholder
            state = "not rendered" + (" (a sandbox placeholder only)" if p else "")
            job, charge = "", ""
        else:
            state = "rendered" if row.cached else a.status.value
            if a.status is Status.FAILED and a.refunded:
                state += " (refunded)"
            job = a.job_id or ""
            charged += a.charge
            unknown += a.possible_charge
            charge = (usd(a.charge) if a.job_id else
                      f"up to {usd(a.possible_charge)}" if a.possible_charge else "")
        estimated += item.charge
        if item.generation.id in keepers:
            state += ", picked" if item.generation.base_id in report.picks else ", kept (no pick)"
        lines.append([item.generation.id, state, job, usd(item.charge), charge,
                      str(row.file) if row.file else ""])
    out = aligned([header, *lines])
    out.append("")
    maybe = f", plus up to {usd(unknown)} in creates of unknown outcome" if unknown else ""
    out.append(f"Total: estimated {usd(estimated)}; charged {usd(charged)}{maybe}")
    spent = report.spent
    out.append(f"Spent by this storyboard in this state, earlier versions included: "
               f"{usd(spent.charged)}" + (f", plus up to {usd(spent.unknown)} in creates "
                                           "of unknown outcome" if spent.unknown else ""))
    if report.others:
        out.append(f"(the journal also holds {plural(report.others, 'generation')} of earlier "
                   "versions of this storyboard)")
    if report.sandbox:
        out.append("sandbox: its placeholder videos, never renders; its charges are "
                   "simulated, nothing real was paid")
    return "\n".join(out) + "\n"


# --- plan diffs (plan --against REF, storyboard diff OLD NEW) ------------------------

DIFF_SIGN = {"added": "+", "removed": "-", "changed": "~", "unchanged": " "}


def _signed(amount: Decimal) -> str:
    sign = "+" if amount > 0 else "-" if amount < 0 else "±"
    return f"{sign}${format_usd(abs(amount))}"


def diff_headline(diff: PlanDiff) -> str:
    return (f"${format_usd(diff.old_total)} → ${format_usd(diff.new_total)} "
            f"({_signed(diff.delta)})")


def diff_counts(diff: PlanDiff) -> str:
    return ", ".join(f"{diff.count(c)} {c.value}" for c in Change)


def pick_changes(diff: PlanDiff, quote: str) -> str:
    """``us/open: candidate 1 → candidate 2; …`` (``quote`` wraps ids for markdown)."""
    return "; ".join(f"{quote}{p.id}{quote}{p.text()[len(p.id):]}" for p in diff.picks)


def diff_render_line(diff: PlanDiff) -> str:
    needed = [g for g in diff.generations if g.to_render > 0]
    return (f"this change renders {plural(len(needed), 'generation')} for "
            f"${format_usd(diff.to_render)}")


def diff_as_table(diff: PlanDiff, max_cost: Decimal | None = None) -> str:
    out = [f"Plan diff for {diff.new.name}: {diff.old_label} → {diff.new_label}"]
    if diff.old is None:
        out.append(f"({diff.old_note or f'{diff.old_label} does not exist'}: every "
                   "generation is added)")
    out.append("")
    rows = [[DIFF_SIGN[g.change.value], g.change.value, g.id,
             str(g.seconds),
             usd(g.old_cost) if g.old else "", usd(g.new_cost) if g.new else ""]
            for g in diff.generations if g.change.value != "unchanged"]
    header = ["", "CHANGE", "GENERATION", "SECONDS", "OLD COST", "NEW COST"]
    if rows:
        out += aligned([header, *rows], numeric={3, 4, 5})
    else:
        out.append("No changes: every generation is unchanged.")
    if diff.picks:
        out += ["", f"Picks changed (re-cut only, $0): {pick_changes(diff, '')}"]
    out.append("")
    out.append(f"Generations: {diff_counts(diff)}")
    out.append(f"Total: {diff_headline(diff)}; {diff_render_line(diff)}")
    out.append(budget_line(diff.new, max_cost))
    return "\n".join(out) + "\n"


def flag_lines(flagged: Sequence[tuple[str, Flag]]) -> str:
    """The quality flags of delivered clips, one line each, for the run summary."""
    return "".join(f"flag: {generation}: {flag.text()}\n" for generation, flag in flagged)

"""Reporters: results are data, these turn them into text.

``PLAN_REPORTERS`` and ``PROBLEM_REPORTERS`` map ``--format`` names to functions, so
every output can be tested without the CLI (check-jsonschema's REPORTER_BY_NAME).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from storyboard.errors import Problem
from storyboard.media.timeline import seconds_text, timeline_text
from storyboard.model import IN_FLIGHT, NEW, REUSED, SHARED, UNKNOWN, Plan, PlanItem, Totals
from storyboard.perf import fewer_collections
from storyboard.plan.diff import Change, PlanDiff
from storyboard.plan.price import budget_problems, generation_json, plan_json, spending, usd
from storyboard.plan.pricing import format_usd

if TYPE_CHECKING:
    from storyboard.media.cut import CutSummary
    from storyboard.media.flags import Flag
    from storyboard.results import RunSummary, StatusReport

_JSON = json.JSONEncoder(ensure_ascii=False)  # one encoder, not one per json.dumps() call

PlanReporter = Callable[[Plan, Decimal | None], str]
ProblemReporter = Callable[[Sequence[Problem]], str]


@fewer_collections()
def compile_lines(plan: Plan) -> str:
    """One JSON object a line per generation, in storyboard order."""
    return "".join(_JSON.encode(generation_json(i)) + "\n" for i in plan.items)


@fewer_collections()
def plan_as_json(plan: Plan, max_cost: Decimal | None = None, *,
                 base: Path | None = None) -> str:
    """The plan as JSON: the summary indented, then one variant and one generation a line.

    That keeps a 50k-generation plan diffable line by line and lets the C encoder do
    the bulk (``indent`` makes CPython fall back to its pure-Python encoder). Paths are
    relative to ``base`` (see ``plan_json``).
    """
    data = plan_json(plan, max_cost, base=base)
    generations = data.pop("generations")
    variants = data.pop("variants")
    timelines = data.pop("timelines")
    encode = _JSON.encode
    head = json.dumps(data, indent=2, ensure_ascii=False)[:-2]  # without the closing "\n}"
    parts = [head]
    for key, rows in (("variants", [f"{encode(v)}: {encode(t)}" for v, t in variants.items()]),
                      ("timelines", list(map(encode, timelines))),
                      ("generations", list(map(encode, generations)))):
        opening, closing = ("{", "}") if key == "variants" else ("[", "]")
        inner = ",\n    ".join(rows)
        parts.append(f'  "{key}": {opening}\n    {inner}\n  {closing}' if rows
                     else f'  "{key}": {opening}{closing}')
    return ",\n".join(parts) + "\n}\n"


def plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


_usd = usd

STATE_LABELS = {NEW: "new", REUSED: "reused", IN_FLIGHT: "paid, in flight",
                UNKNOWN: "unknown outcome", SHARED: "shared"}
HELD_LABELS = {SHARED: "saved", REUSED: "paid before", IN_FLIGHT: "paid",
               UNKNOWN: "maybe paid"}
PLAN_HEADER = ["GENERATION", "MODE", "SOUND", "ASPECT", "SECONDS", "RATE/S", "COST", "STATE",
               "DUE NOW"]


def _state(item: PlanItem) -> str:
    return f"= {item.same_as}" if item.state == SHARED else STATE_LABELS.get(item.state,
                                                                              item.state)


def _rows(items: Iterable[PlanItem]) -> list[list[str]]:
    """One row per generation, as the table and the markdown show it: the COST column
    adds up to the plan's cost, the DUE NOW column to what a run spends now."""
    return [[i.generation.id, i.generation.mode, i.generation.sound,
             str(i.generation.args["aspect_ratio"]), f"{i.generation.seconds}",
             _usd(i.rate), _usd(i.charge), _state(i), _usd(i.due)] for i in items]


def _subtotal(label: str, totals: Totals) -> list[str]:
    return [label, "", "", "", str(totals.seconds), "", _usd(totals.cost), "",
            _usd(totals.due)]


def plan_as_table(plan: Plan, max_cost: Decimal | None = None) -> str:
    rows: list[list[str]] = []
    groups = plan.by_variant()
    subtotals = plan.variant_totals()
    for variant, items in groups.items():
        rows.extend(_rows(items))
        if len(groups) > 1:
            rows.append(_subtotal(f"  {variant} subtotal", subtotals[variant]))
    header = PLAN_HEADER
    widths = [max(len(r[c]) for r in [header, *rows]) for c in range(len(header))]
    numeric = {4, 5, 6, 8}

    def line(cells: list[str]) -> str:
        return "  ".join(cell.rjust(widths[c]) if c in numeric else cell.ljust(widths[c])
                         for c, cell in enumerate(cells)).rstrip()

    out = [f"Plan for {plan.name} ({plan.source}) — {plural(len(plan.items), 'generation')}, "
           f"{plural(len(groups), 'variant')}, prices {plan.pricing_version}", "",
           line(header)]
    out += [line(r) for r in rows]
    if plan.timelines:  # before the totals: the budget's verdict stays the last line
        out += ["", f"Final cuts ({plan.name}/<variant>.mp4, assembled locally for $0):"]
        width = max(len(t.variant) for t in plan.timelines)
        out += [f"  {t.variant.ljust(width)}  {timeline_text(t)}" for t in plan.timelines]
    out.append("")
    out.append(_total_line(plan.totals()))
    out.append(_budget_line(plan, max_cost))
    return "\n".join(out) + "\n"


def _total_line(totals: Totals) -> str:
    held = [f"{n} {STATE_LABELS.get(state, state)}: {_usd(totals.state_costs[state])} "
            f"{HELD_LABELS.get(state, '')}".rstrip()
            for state, n in totals.states.items() if n and state != NEW]
    rendered = (f" ({totals.rendered_seconds} s rendered, the rest shared)"
                if totals.rendered_seconds != totals.seconds else "")
    line = (f"Total: {plural(totals.generations, 'generation')}, {totals.seconds} s of video"
            f"{rendered}, cost {_usd(totals.cost)}")
    if held:
        line += f" ({', '.join(held)})"
    return line + f"; due now {_usd(totals.due)}"


def _budget_line(plan: Plan, max_cost: Decimal | None) -> str:
    problems = budget_problems(plan, max_cost)
    if problems:
        return "Budget: EXCEEDED — " + "; ".join(problems)
    parts = []
    totals = plan.totals()
    if plan.budget.max_cost_usd is not None:
        parts.append(f"{spending(plan.spent, totals.due)} of {_usd(plan.budget.max_cost_usd)}")
    if max_cost is not None:
        parts.append(f"{_usd(totals.due)} due now of --max-cost {_usd(max_cost)}")
    if plan.budget.max_seconds is not None:
        parts.append(f"{totals.rendered_seconds} s rendered of {plan.budget.max_seconds} s")
    if not parts:
        return f"Budget: none set ({spending(plan.spent, totals.due)})"
    return "Budget: within (" + "; ".join(parts) + ")"


def plan_as_markdown(plan: Plan, max_cost: Decimal | None = None) -> str:
    totals = plan.totals()
    groups = plan.by_variant()
    out = [f"### storyboard plan: `{plan.name}`", "",
           f"**{_usd(totals.due)}** due now; the plan costs {_usd(totals.cost)} for "
           f"{totals.seconds} s of video in {plural(totals.generations, 'generation')} across "
           f"{plural(len(groups), 'variant')} (prices {plan.pricing_version}).", "",
           _total_line(totals), "", _budget_line(plan, max_cost), ""]
    subtotals = plan.variant_totals()
    timelines = {t.variant: t for t in plan.timelines}
    for variant, items in groups.items():
        sub = subtotals[variant]
        out.append(f"<details><summary><code>{variant}</code> — "
                   f"{plural(sub.generations, 'generation')}, {sub.seconds} s, "
                   f"cost {_usd(sub.cost)}, due now {_usd(sub.due)}</summary>")
        out.append("")
        out.append("| " + " | ".join(h.lower() for h in PLAN_HEADER) + " |")
        out.append("| --- | --- | --- | --- | ---: | ---: | ---: | --- | ---: |")
        out += ["| " + " | ".join(f"`{r[0]}`" if n == 0 else r[n] for n in range(len(r))) + " |"
                for r in _rows(items)]
        out.append("")
        if variant in timelines:
            out.append(f"Final cut: {timeline_text(timelines[variant])}")
            out.append("")
        out.append("</details>")
        out.append("")
    return "\n".join(out)


def plan_as_html(plan: Plan, max_cost: Decimal | None = None) -> str:
    """The timeline page (report/html.py), imported only when asked for."""
    from storyboard.report.html import plan_as_html as page

    return page(plan, max_cost)


PLAN_REPORTERS: dict[str, PlanReporter] = {
    "table": plan_as_table,
    "json": plan_as_json,
    "markdown": plan_as_markdown,
    "html": plan_as_html,
}


def problems_as_text(problems: Sequence[Problem]) -> str:
    return "".join(p.format() + "\n" for p in problems)


def problems_as_github(problems: Sequence[Problem]) -> str:
    """GitHub Actions workflow commands, so problems show on the pull request's diff."""
    lines = []
    for p in problems:
        where = f" (at {p.location.json_path})" if p.location and p.location.json_path else ""
        message = _gh_escape(p.message + where)
        if p.location:
            lines.append(f"::error file={_gh_escape(p.location.file, prop=True)},"
                         f"line={p.location.line},col={p.location.column}::{message}")
        else:
            lines.append(f"::error::{message}")
    return "".join(line + "\n" for line in lines)


def _gh_escape(text: str, *, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


PROBLEM_REPORTERS: dict[str, ProblemReporter] = {
    "text": problems_as_text,
    "github": problems_as_github,
}


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
    maybe = (f", plus up to {_usd(summary.unknown)} in creates of unknown outcome"
             if summary.unknown else "")
    out.append(f"  money: estimated {_usd(summary.estimated)} for new jobs; charged "
               f"{_usd(summary.charged)}{maybe}")
    if summary.workspace.sandbox:
        out.append("  sandbox: its charges are simulated; nothing real was paid")
    for line in summary.kept:
        out.append(f"  not journaled: {line}")
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
            if a.status.value == "failed" and a.refunded:
                state += " (refunded)"
            job = a.job_id or ""
            charged += a.charge
            unknown += a.possible_charge
            charge = (_usd(a.charge) if a.job_id else
                      f"up to {_usd(a.possible_charge)}" if a.possible_charge else "")
        estimated += item.charge
        if item.generation.id in keepers:
            state += ", picked" if item.generation.base_id in report.picks else ", kept (no pick)"
        lines.append([item.generation.id, state, job, _usd(item.charge), charge,
                      str(row.file) if row.file else ""])
    widths = [max(len(r[c]) for r in [header, *lines]) for c in range(len(header))]
    out = ["  ".join(cell.ljust(widths[c]) for c, cell in enumerate(r)).rstrip()
           for r in [header, *lines]]
    out.append("")
    maybe = f", plus up to {_usd(unknown)} in creates of unknown outcome" if unknown else ""
    out.append(f"Total: estimated {_usd(estimated)}; charged {_usd(charged)}{maybe}")
    spent = report.spent
    out.append(f"Spent by this storyboard in this state, earlier versions included: "
               f"{_usd(spent.charged)}" + (f", plus up to {_usd(spent.unknown)} in creates "
                                           "of unknown outcome" if spent.unknown else ""))
    if report.others:
        out.append(f"(the journal also holds {plural(report.others, 'generation')} of earlier "
                   "versions of this storyboard)")
    return "\n".join(out) + "\n"


# --- plan diffs (plan --against REF, storyboard diff OLD NEW) ------------------------

DIFF_SIGN = {"added": "+", "removed": "-", "changed": "~", "unchanged": " "}


def _signed(amount: Decimal) -> str:
    sign = "+" if amount > 0 else "-" if amount < 0 else "±"
    return f"{sign}${format_usd(abs(amount))}"


def _diff_headline(diff: PlanDiff) -> str:
    return (f"${format_usd(diff.old_total)} → ${format_usd(diff.new_total)} "
            f"({_signed(diff.delta)})")


def _diff_counts(diff: PlanDiff) -> str:
    return ", ".join(f"{diff.count(c)} {c.value}" for c in Change)


def _pick_changes(diff: PlanDiff, quote: str) -> str:
    """``us/open: candidate 1 → candidate 2; …`` (``quote`` wraps ids for markdown)."""
    return "; ".join(f"{quote}{p.id}{quote}{p.text()[len(p.id):]}" for p in diff.picks)


def _diff_render_line(diff: PlanDiff) -> str:
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
             _usd(g.old_cost) if g.old else "", _usd(g.new_cost) if g.new else ""]
            for g in diff.generations if g.change.value != "unchanged"]
    header = ["", "CHANGE", "GENERATION", "SECONDS", "OLD COST", "NEW COST"]
    if rows:
        widths = [max(len(r[c]) for r in [header, *rows]) for c in range(len(header))]
        numeric = {3, 4, 5}
        for r in [header, *rows]:
            out.append("  ".join(cell.rjust(widths[c]) if c in numeric else
                                 cell.ljust(widths[c]) for c, cell in enumerate(r)).rstrip())
    else:
        out.append("No changes: every generation is unchanged.")
    if diff.picks:
        out += ["", f"Picks changed (re-cut only, $0): {_pick_changes(diff, '')}"]
    out.append("")
    out.append(f"Generations: {_diff_counts(diff)}")
    out.append(f"Total: {_diff_headline(diff)}; {_diff_render_line(diff)}")
    out.append(_budget_line(diff.new, max_cost))
    return "\n".join(out) + "\n"


def diff_as_markdown(diff: PlanDiff, max_cost: Decimal | None = None) -> str:
    out = [f"### storyboard plan: `{diff.new.name}` {_diff_headline(diff)}", "",
           f"Compared with `{diff.old_label}`: {_diff_counts(diff)}; "
           f"**{_diff_render_line(diff)}**.", "",
           _budget_line(diff.new, max_cost), ""]
    if diff.old is None:
        note = diff.old_note or f"`{diff.old_label}` does not exist"
        out += [f"{note}: every generation is added.", ""]
    if diff.picks:
        out += [f"**Picks changed** (re-cut only, $0): {_pick_changes(diff, '`')}", ""]
    for variant, rows in diff.by_variant().items():
        changed = [g for g in rows if g.change.value != "unchanged"]
        if not changed:
            continue
        out.append(f"<details><summary><code>{variant}</code> — "
                   f"{', '.join(sorted({g.change.value for g in changed}))} "
                   f"({plural(len(changed), 'generation')})</summary>")
        out += ["", "| | generation | seconds | old cost | new cost |",
                "| --- | --- | ---: | ---: | ---: |"]
        for g in changed:
            out.append(f"| {g.change.value} | `{g.id}` | {g.seconds} | "
                       f"{_usd(g.old_cost) if g.old else ''} | "
                       f"{_usd(g.new_cost) if g.new else ''} |")
        out += ["", "</details>", ""]
    unchanged = [v for v, rows in diff.by_variant().items()
                 if all(g.change.value == "unchanged" for g in rows)]
    if unchanged:
        out.append(f"Unchanged variants: {', '.join(f'`{v}`' for v in unchanged)}")
        out.append("")
    return "\n".join(out)


def diff_json(diff: PlanDiff, max_cost: Decimal | None = None,
              gates: Sequence[str] = ()) -> dict[str, object]:
    """The stable JSON form of a plan diff (documented in the README)."""

    def side(plan: Plan | None, label: str) -> dict[str, object] | None:
        if plan is None:
            return {"label": label, "exists": False, "total_cost_usd": "0.00",
                    "total_seconds": 0}
        totals = plan.totals()
        return {"label": label, "exists": True, "total_cost_usd": format_usd(totals.cost),
                "total_seconds": totals.seconds}

    def item(i: PlanItem | None) -> dict[str, object] | None:
        if i is None:
            return None
        return {"hash": i.generation.hash, "seconds": i.generation.seconds,
                "cost_usd": format_usd(i.charge)}

    return {
        "format": 1,
        "name": diff.new.name,
        "old": side(diff.old, diff.old_label),
        "new": side(diff.new, diff.new_label),
        "delta_usd": format_usd(diff.delta),
        "to_render_usd": format_usd(diff.to_render),
        "counts": {c.value: diff.count(c) for c in Change},
        "budget": plan_json(diff.new, max_cost)["budget"],
        "gates": {"passed": not gates, "failures": list(gates)},
        "generations": [{"id": g.id, "variant": g.variant, "change": g.change.value,
                         "old": item(g.old), "new": item(g.new)} for g in diff.generations],
        "picks": [{"id": p.id, "old": p.old, "new": p.new} for p in diff.picks],
    }


def diff_as_json(diff: PlanDiff, max_cost: Decimal | None = None,
                 gates: Sequence[str] = ()) -> str:
    return json.dumps(diff_json(diff, max_cost, gates), indent=2, ensure_ascii=False) + "\n"


DiffReporter = Callable[[PlanDiff, Decimal | None], str]
DIFF_REPORTERS: dict[str, DiffReporter] = {
    "table": diff_as_table,
    "json": diff_as_json,
    "markdown": diff_as_markdown,
}


def flag_lines(flagged: Sequence[tuple[str, Flag]]) -> str:
    """The quality flags of delivered clips, one line each, for the run summary."""
    return "".join(f"flag: {generation}: {flag.text()}\n" for generation, flag in flagged)

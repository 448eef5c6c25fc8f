"""Reports as GitHub-flavoured markdown, for a pull request comment: the plan and the
plan diff (``--format markdown``)."""

from __future__ import annotations

from decimal import Decimal

from storyboard.media.timeline import timeline_text
from storyboard.plan.diff import PlanDiff
from storyboard.plan.model import Plan
from storyboard.plan.price import usd
from storyboard.report.table import plural
from storyboard.report.text import (
    PLAN_HEADER,
    budget_line,
    diff_counts,
    diff_headline,
    diff_render_line,
    pick_changes,
    plan_rows,
    total_line,
)


def plan_as_markdown(plan: Plan, max_cost: Decimal | None = None) -> str:
    totals = plan.totals()
    groups = plan.by_variant()
    out = [f"### storyboard plan: `{plan.name}`", "",
           f"**{usd(totals.due)}** due now; the plan costs {usd(totals.cost)} for "
           f"{totals.seconds} s of video in {plural(totals.generations, 'generation')} across "
           f"{plural(len(groups), 'variant')} (prices {plan.pricing_version}).", "",
           total_line(totals), "", budget_line(plan, max_cost), ""]
    subtotals = plan.variant_totals()
    timelines = {t.variant: t for t in plan.timelines}
    for variant, items in groups.items():
        sub = subtotals[variant]
        out.append(f"<details><summary><code>{variant}</code> — "
                   f"{plural(sub.generations, 'generation')}, {sub.seconds} s, "
                   f"cost {usd(sub.cost)}, due now {usd(sub.due)}</summary>")
        out.append("")
        out.append("| " + " | ".join(h.lower() for h in PLAN_HEADER) + " |")
        out.append("| --- | --- | --- | --- | ---: | ---: | ---: | --- | ---: |")
        out += ["| " + " | ".join(f"`{r[0]}`" if n == 0 else r[n] for n in range(len(r))) + " |"
                for r in plan_rows(items)]
        out.append("")
        if variant in timelines:
            out.append(f"Final cut: {timeline_text(timelines[variant])}")
            out.append("")
        out.append("</details>")
        out.append("")
    return "\n".join(out)


def diff_as_markdown(diff: PlanDiff, max_cost: Decimal | None = None) -> str:
    out = [f"### storyboard plan: `{diff.new.name}` {diff_headline(diff)}", "",
           f"Compared with `{diff.old_label}`: {diff_counts(diff)}; "
           f"**{diff_render_line(diff)}**.", "",
           budget_line(diff.new, max_cost), ""]
    if diff.old is None:
        note = diff.old_note or f"`{diff.old_label}` does not exist"
        out += [f"{note}: every generation is added.", ""]
    if diff.picks:
        out += [f"**Picks changed** (re-cut only, $0): {pick_changes(diff, '`')}", ""]
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
                       f"{usd(g.old_cost) if g.old else ''} | "
                       f"{usd(g.new_cost) if g.new else ''} |")
        out += ["", "</details>", ""]
    unchanged = [v for v, rows in diff.by_variant().items()
                 if all(g.change.value == "unchanged" for g in rows)]
    if unchanged:
        out.append(f"Unchanged variants: {', '.join(f'`{v}`' for v in unchanged)}")
        out.append("")
    return "\n".join(out)

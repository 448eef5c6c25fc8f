"""Reporters: results are data, these turn them into text.

``PLAN_REPORTERS`` and ``PROBLEM_REPORTERS`` map ``--format`` names to functions, so
every output can be tested without the CLI (check-jsonschema's REPORTER_BY_NAME).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal

from storyboard.errors import Problem
from storyboard.model import Plan, PlanItem
from storyboard.plan import budget_problems, generation_json, plan_json
from storyboard.pricing import format_usd

PlanReporter = Callable[[Plan, Decimal | None], str]
ProblemReporter = Callable[[Sequence[Problem]], str]


def compile_lines(plan: Plan) -> str:
    """One JSON object a line per generation, in storyboard order."""
    return "".join(json.dumps(generation_json(i), ensure_ascii=False) + "\n" for i in plan.items)


def plan_as_json(plan: Plan, max_cost: Decimal | None = None) -> str:
    return json.dumps(plan_json(plan, max_cost), indent=2, ensure_ascii=False) + "\n"


def plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _usd(amount: Decimal) -> str:
    return f"${format_usd(amount)}"


def _take(item: PlanItem) -> str:
    return "" if item.generation.take is None else str(item.generation.take)


def _rows(items: Iterable[PlanItem]) -> list[list[str]]:
    return [[i.generation.id, i.generation.mode, i.generation.sound,
             str(i.generation.args["aspect_ratio"]), f"{i.generation.seconds}",
             _usd(i.rate), "reused $0" if i.reused else _usd(i.cost)] for i in items]


def plan_as_table(plan: Plan, max_cost: Decimal | None = None) -> str:
    header = ["GENERATION", "MODE", "SOUND", "ASPECT", "SECONDS", "RATE/S", "COST"]
    rows: list[list[str]] = []
    for variant, items in plan.by_variant().items():
        rows.extend(_rows(items))
        if len(plan.by_variant()) > 1:
            seconds = sum(i.generation.seconds for i in items)
            cost = sum((i.due for i in items), Decimal(0))
            rows.append([f"  {variant} subtotal", "", "", "", str(seconds), "", _usd(cost)])
    widths = [max(len(r[c]) for r in [header, *rows]) for c in range(len(header))]
    numeric = {4, 5, 6}

    def line(cells: list[str]) -> str:
        return "  ".join(cell.rjust(widths[c]) if c in numeric else cell.ljust(widths[c])
                         for c, cell in enumerate(cells)).rstrip()

    out = [f"Plan for {plan.name} ({plan.source}) — {plural(len(plan.items), 'generation')}, "
           f"{plural(len(plan.by_variant()), 'variant')}, prices {plan.pricing_version}", "",
           line(header)]
    out += [line(r) for r in rows]
    out.append("")
    out.append(_total_line(plan))
    out.append(_budget_line(plan, max_cost))
    return "\n".join(out) + "\n"


def _total_line(plan: Plan) -> str:
    reused = sum(1 for i in plan.items if i.reused)
    line = f"Total: {plan.total_seconds} s, {_usd(plan.total_cost)}"
    if reused:
        line += f"; {reused} reused from earlier runs, due now {_usd(plan.due_cost)}"
    return line


def _budget_line(plan: Plan, max_cost: Decimal | None) -> str:
    problems = budget_problems(plan, max_cost)
    if problems:
        return "Budget: EXCEEDED — " + "; ".join(problems)
    limit = max_cost if max_cost is not None else plan.budget.max_cost_usd
    parts = []
    if limit is not None:
        parts.append(f"{_usd(plan.due_cost)} of {_usd(limit)}")
    if plan.budget.max_seconds is not None:
        parts.append(f"{plan.total_seconds} s of {plan.budget.max_seconds} s")
    return "Budget: within (" + ", ".join(parts) + ")" if parts else "Budget: none set"


def plan_as_markdown(plan: Plan, max_cost: Decimal | None = None) -> str:
    out = [f"### storyboard plan: `{plan.name}`", "",
           f"**{_usd(plan.due_cost)}** for {plan.total_seconds} s of video in "
           f"{plural(len(plan.items), 'generation')} across "
           f"{plural(len(plan.by_variant()), 'variant')} "
           f"(prices {plan.pricing_version}).", "",
           f"{_budget_line(plan, max_cost)}", ""]
    for variant, items in plan.by_variant().items():
        cost = sum((i.due for i in items), Decimal(0))
        out.append(f"<details><summary><code>{variant}</code> — "
                   f"{plural(len(items), 'generation')}, "
                   f"{_usd(cost)}</summary>")
        out.append("")
        out.append("| generation | mode | sound | aspect | seconds | rate/s | cost |")
        out.append("| --- | --- | --- | --- | ---: | ---: | ---: |")
        out += ["| " + " | ".join(f"`{r[0]}`" if n == 0 else r[n] for n in range(len(r))) + " |"
                for r in _rows(items)]
        out.append("")
        out.append("</details>")
        out.append("")
    return "\n".join(out)


PLAN_REPORTERS: dict[str, PlanReporter] = {
    "table": plan_as_table,
    "json": plan_as_json,
    "markdown": plan_as_markdown,
}


def problems_as_text(problems: Sequence[Problem]) -> str:
    return "".join(p.format() + "\n" for p in problems)


def problems_as_github(problems: Sequence[Problem]) -> str:
    """GitHub Actions workflow commands, so problems show on the pull request's diff."""
    lines = []
    for p in problems:
        message = _gh_escape(p.message + (f" (at {p.location.json_path})" if p.location else ""))
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

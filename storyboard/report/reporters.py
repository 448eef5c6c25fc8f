"""Reporters: results are data, these turn them into text.

``PLAN_REPORTERS``, ``DIFF_REPORTERS`` and ``PROBLEM_REPORTERS`` map ``--format`` names
to functions, so every output can be tested without the CLI (check-jsonschema's
REPORTER_BY_NAME). The reporters themselves live by format: ``text``, ``markdown``,
``json``, ``github`` (and ``problems``, all that ``validate`` loads; ``html``, ``review``).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from storyboard.plan.diff import PlanDiff
from storyboard.plan.model import Plan
from storyboard.report.github import problems_as_github
from storyboard.report.json import compile_lines, diff_as_json, diff_json, plan_as_json
from storyboard.report.markdown import diff_as_markdown, plan_as_markdown
from storyboard.report.problems import PROBLEM_REPORTERS, ProblemReporter, problems_as_text
from storyboard.report.table import plural
from storyboard.report.text import (
    HELD_LABELS,
    PLAN_HEADER,
    STATE_LABELS,
    cut_report,
    diff_as_table,
    flag_lines,
    plan_as_table,
    run_summary,
    status_table,
)

__all__ = [
    "DIFF_REPORTERS", "HELD_LABELS", "PLAN_HEADER", "PLAN_REPORTERS", "PROBLEM_REPORTERS",
    "STATE_LABELS", "DiffReporter", "PlanReporter", "ProblemReporter", "compile_lines",
    "cut_report", "diff_as_json", "diff_as_markdown", "diff_as_table", "diff_json",
    "flag_lines", "plan_as_html", "plan_as_json", "plan_as_markdown", "plan_as_table",
    "plural", "problems_as_github", "problems_as_text", "run_summary", "status_table",
]

PlanReporter = Callable[[Plan, Decimal | None], str]
DiffReporter = Callable[[PlanDiff, Decimal | None], str]


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


DIFF_REPORTERS: dict[str, DiffReporter] = {
    "table": diff_as_table,
    "json": diff_as_json,
    "markdown": diff_as_markdown,
}

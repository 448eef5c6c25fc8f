"""The HTML reports: the review contact sheet and the plan's timeline, one file each that
opens from ``file://`` with no server and no network (styles and script inlined, every
other asset a relative path beside the page)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import jinja2

from storyboard.journal import Journal
from storyboard.plan.model import Plan
from storyboard.plan.pricing import format_usd
from storyboard.report.review import Review, gather, report_folder, shot_lines
from storyboard.store import write_atomic

if TYPE_CHECKING:  # only named: reporters do not depend on the executor
    from storyboard.execute.workspace import Workspace

TEMPLATES = Path(__file__).resolve().parent / "templates"
INDEX = "index.html"


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True)
    env.filters["usd"] = lambda amount: format_usd(Decimal(amount))
    env.filters["seconds"] = lambda value: f"{float(Fraction(value)):g}"
    env.globals["shots"] = shot_lines
    return env


def review_html(review: Review) -> str:
    plan = review.plan
    return _environment().get_template("review.html.j2").render(
        review=review, plan=plan, totals=plan.totals(), variant_totals=plan.variant_totals(),
        storyboard=Path(plan.source).name)


def write_review(review: Review, folder: Path) -> Path:
    """``index.html`` in ``folder`` (its thumbnails are already there)."""
    page = folder / INDEX
    write_atomic(page, review_html(review).encode("utf-8"))
    return page


def plan_as_html(plan: Plan, max_cost: Decimal | None = None) -> str:
    """The storyboard as a timeline per variant, before anything is paid."""
    del max_cost  # the page shows the storyboard's budget; --max-cost bounds one run
    return _environment().get_template("plan.html.j2").render(
        plan=plan, totals=plan.totals(), variant_totals=plan.variant_totals(),
        timelines={t.variant: t for t in plan.timelines}, storyboard=Path(plan.source).name)


def build_report(plan: Plan, journal: Journal, workspace: Workspace) -> tuple[Path, Review]:
    """Gather the review (thumbnails and flags made or reused) and write its page."""
    review = gather(plan, journal, workspace)
    return write_review(review, report_folder(workspace)), review

"""Problems in a storyboard, as ``validate`` prints them: what ``--format`` names.

Kept apart from the plan reporters: ``storyboard validate`` runs on every commit, and
this is all of the reporting it loads.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from storyboard.report.github import problems_as_github

if TYPE_CHECKING:
    from storyboard.errors import Problem

ProblemReporter = Callable[[Sequence["Problem"]], str]


def problems_as_text(problems: Sequence[Problem]) -> str:
    return "".join(p.format() + "\n" for p in problems)


PROBLEM_REPORTERS: dict[str, ProblemReporter] = {
    "text": problems_as_text,
    "github": problems_as_github,
}

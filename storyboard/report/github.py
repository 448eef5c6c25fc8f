"""Problems as GitHub Actions workflow commands (``validate --format github``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from storyboard.errors import Problem


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

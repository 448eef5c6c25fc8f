"""Option and argument types: every value checked where it is typed, one line when not.

A poll interval of nan floods the API and one of inf waits forever with jobs already
paid; an empty ``--state`` silently means the current folder. These types refuse such
values before anything is compiled or sent, with the range that is allowed, as one
``error:`` line like every other error (not click's usage block).
"""

from __future__ import annotations

import math
from decimal import Decimal
from pathlib import Path
from typing import Any

import click

from storyboard.errors import UsageError


class OptionValueError(click.BadParameter):
    """A bad option value: one line, like every other error (not click's usage block)."""

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.message}", err=True)


def _option_name(param: click.Parameter | None) -> str:
    if isinstance(param, click.Option):
        return param.opts[0]
    return param.human_readable_name if param is not None else "value"


class NonEmptyPath(click.Path):
    """A path, where an empty one is refused: ``--state "$STATE"`` with the variable
    unset would otherwise put the journal in whatever folder the shell is in."""

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Any:
        if isinstance(value, str) and not value.strip():
            hint = "a file path" if self.dir_okay is False else "a path ('.' for the " \
                "current folder)"
            raise OptionValueError(f"{_option_name(param)} is empty: give {hint}",
                                   ctx=ctx, param=param)
        try:
            return super().convert(value, param, ctx)
        except click.BadParameter as exc:  # "is a directory", …: one line too
            raise OptionValueError(f"{_option_name(param)}: {exc.message}", ctx=ctx,
                                   param=param) from None


class StateLocation(NonEmptyPath):
    """``--state``: a folder, or a ``postgresql://`` URL (kept as text: a Path would fold
    its ``//``). A URL's password is never echoed back in an error."""

    name = "state"

    def __init__(self) -> None:
        super().__init__(file_okay=False, path_type=Path)

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Any:
        if isinstance(value, str) and "://" in value:
            from storyboard.journal import is_database_url

            if not is_database_url(value):
                scheme = value.split("://", 1)[0]
                raise OptionValueError(
                    f"{_option_name(param)}: {scheme}:// is not a journal storyboard keeps; "
                    "give a folder or a postgresql:// URL", ctx=ctx, param=param)
            return value
        return super().convert(value, param, ctx)


class StoreLocation(NonEmptyPath):
    """``--store``: a folder that must exist (an unmounted share is not a local folder), or
    an ``s3://bucket[/prefix]`` URL (kept as text)."""

    name = "store"

    def __init__(self) -> None:
        super().__init__(exists=True, file_okay=False, path_type=Path)

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Any:
        if isinstance(value, str) and "://" in value:
            if not value.lower().startswith("s3://") or len(value) <= len("s3://"):
                raise OptionValueError(
                    f"{_option_name(param)}: give a folder or an s3://BUCKET[/PREFIX] URL",
                    ctx=ctx, param=param)
            return value
        return super().convert(value, param, ctx)


class Bounded(click.ParamType[float | int, Any]):
    """A finite number from ``low`` to ``high``, refused where it is typed: a nan poll
    interval floods the API, an infinite one (or ``--rate 1e-300``) waits forever with
    jobs already paid."""

    name = "number"

    def __init__(self, low: float, high: float, unit: str, *, integer: bool = False) -> None:
        self.low, self.high, self.unit, self.integer = low, high, unit, integer

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> float | int:
        try:
            number = (int if self.integer else float)(value)
        except (TypeError, ValueError):
            number = math.nan
        if not (math.isfinite(number) and self.low <= number <= self.high):
            raise OptionValueError(f"{_option_name(param)} {value!r}: give {self.unit} from "
                                   f"{self.low:g} to {self.high:g}", ctx=ctx, param=param)
        return number


class Usd(click.ParamType[Decimal, Any]):
    """An amount in dollars (see ``parse_usd`` for what is allowed)."""

    name = "usd"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Decimal:
        from storyboard.plan.price import parse_usd  # the compiler stays unloaded for --help

        if isinstance(value, Decimal):
            return value
        try:
            return parse_usd(str(value), _option_name(param))
        except UsageError as exc:
            raise OptionValueError(str(exc), ctx=ctx, param=param) from None


SECONDS = Bounded(0.01, 3600, "seconds")


__all__ = ["SECONDS", "Bounded", "NonEmptyPath", "OptionValueError", "Usd"]

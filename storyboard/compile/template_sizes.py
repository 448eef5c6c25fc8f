"""How large a template's value is, and would be: sizes known before a value is built.

``weight`` measures what a value would take as text, without building the text; the
``GROWERS`` say what an operation that can make far more than it is given (repeating,
padding, joining, replacing, formatting) would make, from its arguments, so that
``template_bounds`` can refuse it before it runs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from jinja2.exceptions import SecurityError

from storyboard.compile.sizes import MAX_VALUE, weight

MAX_DIGITS = 4_300  # in a number: as many as Python will print (sys.get_int_max_str_digits)


class Exhausted(SecurityError):
    """A template went past one of the bounds; the message says which and what to do."""


def too_large(what: str, size: int | None = None) -> Exhausted:
    amount = f" ({size:,})" if size is not None and size < 10**12 else ""
    return Exhausted(f"{what} would be too large for a template{amount}; the limit is "
                     f"{MAX_VALUE:,} characters or items")


def _int(value: Any, default: int = 0) -> int:
    """A width or count as a template gave it (anything odd fails later, in the call)."""
    if isinstance(value, bool) or not isinstance(value, int):
        return default
    return value


def _count(text: Any, sub: str) -> int:
    if isinstance(text, bytes):
        return text.count(sub.encode())
    return text.count(sub) if isinstance(text, str) else 0


# --- growers: what an operation's result would weigh, known before it runs ---


def _padded(text: Any, width: Any = 0, *args: Any, **kwargs: Any) -> int:
    return max(weight(text), _int(kwargs.get("width", width)))


def _indented(text: Any, width: Any = 4, *args: Any, **kwargs: Any) -> int:
    width = kwargs.get("width", width)
    per_line = len(width) if isinstance(width, str) else _int(width)
    return weight(text) + (_count(text, "\n") + 1) * per_line


def _tabs_expanded(text: Any, tabsize: Any = 8, *args: Any, **kwargs: Any) -> int:
    return weight(text) + _count(text, "\t") * _int(kwargs.get("tabsize", tabsize), 8)


def _replaced(text: Any, old: Any = "", new: Any = "", count: Any = None,
              *args: Any, **kwargs: Any) -> int:
    if not isinstance(text, str | bytes) or not isinstance(old, str | bytes):
        return weight(text)
    times = len(text) + 1 if not old else text.count(old)  # type: ignore[arg-type]
    limit = _int(kwargs.get("count", count), -1)
    if limit >= 0:
        times = min(times, limit)
    return len(text) + times * weight(new)


def _joined_with(separator: Any, items: Any, *args: Any, **kwargs: Any) -> int:
    count = len(items) if hasattr(items, "__len__") else 0
    return weight(items) + count * weight(separator)


def _join_filter(items: Any, separator: Any = "", *args: Any, **kwargs: Any) -> int:
    return _joined_with(kwargs.get("d", separator), items)


def _wrapped(text: Any, width: Any = 79, break_long_words: Any = True,
             wrapstring: Any = None, *args: Any, **kwargs: Any) -> int:
    wrap = kwargs.get("wrapstring", wrapstring) or "\n"
    lines = weight(text) // max(_int(kwargs.get("width", width), 1), 1) \
        + _count(text, " ") + _count(text, "-") + 1
    return weight(text) + lines * weight(wrap)


def _translated(text: Any, table: Any = None, *args: Any, **kwargs: Any) -> int:
    biggest = max((weight(v) for v in table.values()), default=1) \
        if isinstance(table, dict) else 1
    return weight(text) * biggest


def _urlized(text: Any, *args: Any, **kwargs: Any) -> int:
    extra = sum(weight(v) for v in (*args, *kwargs.values()))
    return weight(text) * (2 + extra)


def _sliced(items: Any, slices: Any = 1, *args: Any, **kwargs: Any) -> int:
    return weight(items) + 2 * _int(slices)


def _batched(items: Any, linecount: Any = 1, fill_with: Any = None,
             *args: Any, **kwargs: Any) -> int:
    return weight(items) + 2 * _int(linecount) * weight(kwargs.get("fill_with", fill_with))


def _to_bytes(number: Any, length: Any = 1, *args: Any, **kwargs: Any) -> int:
    return _int(kwargs.get("length", length))


_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d*)(?:\.(\*|\d*))?[hlL]?(.?)", re.S)


def _percent_formatted(text: Any, values: Any = (), *args: Any, **kwargs: Any) -> int:
    """``text % values``: each ``%`` spec prints at most its width and precision plus the
    largest value; ``*`` (a width taken from the values) is refused outright."""
    text = str(text)
    widths = 0
    specs = 0
    for width, precision, _ in _PERCENT_SPEC.findall(text):
        if "*" in (width, precision):
            raise Exhausted("a %-format with a '*' width is not allowed in a template; "
                            "write the width as a number")
        for digits in (width, precision):
            widths += int(digits or 0) if len(digits) <= 7 else 10**8
        specs += 1
    if isinstance(values, dict):
        items: Iterable[Any] = values.values()
    elif isinstance(values, tuple):
        items = values
    else:
        items = (values,)
    biggest = max((weight(v) for v in items), default=0)
    return len(text) + widths + specs * biggest


def _format_filter(text: Any, *args: Any, **kwargs: Any) -> int:
    return _percent_formatted(text, kwargs or args)


# One table for str/bytes/int methods and for filters: the name's meaning is the same.
GROWERS: Mapping[str, Callable[..., int]] = {
    "center": _padded, "ljust": _padded, "rjust": _padded, "zfill": _padded,
    "indent": _indented, "expandtabs": _tabs_expanded, "replace": _replaced,
    "translate": _translated, "to_bytes": _to_bytes, "wordwrap": _wrapped,
    "urlize": _urlized, "slice": _sliced, "batch": _batched, "format": _format_filter,
}
FILTER_GROWERS: Mapping[str, Callable[..., int]] = {**GROWERS, "join": _join_filter}
METHOD_GROWERS: Mapping[str, Callable[..., int]] = {**GROWERS, "join": _joined_with}


def check_growth(name: str, estimate: int) -> None:
    if estimate > MAX_VALUE:
        raise too_large(f"the result of {name}", estimate)


def binop_estimate(operator: str, left: Any, right: Any) -> int:
    if operator == "+":
        sized = isinstance(left, str | bytes | list | tuple)
        return weight(left) + weight(right) if sized else 0
    if operator == "*":
        for seq, times in ((left, right), (right, left)):
            if isinstance(seq, str | bytes | list | tuple) and isinstance(times, int):
                return weight(seq) * max(times, 0)
        return 0
    if operator == "%" and isinstance(left, str):
        return _percent_formatted(left, right)
    return 0


def check_digits(operator: str, left: Any, right: Any) -> None:
    """``a * b`` and ``a ** b`` on whole numbers: the digits they would have, beforehand
    (``7 ** 10**8`` takes minutes and prints as an error anyway)."""
    if not (isinstance(left, int) and isinstance(right, int)) or operator not in ("*", "**"):
        return
    if operator == "*":
        digits = weight(left) + weight(right)
    elif abs(left) > 1 and right > 0:
        digits = weight(left) * right
    else:
        return
    if digits > MAX_DIGITS:
        raise Exhausted(f"the result of '{operator}' would be a number of about {digits:,} "
                        f"digits; the limit is {MAX_DIGITS:,}")


__all__ = ["FILTER_GROWERS", "MAX_DIGITS", "MAX_VALUE", "METHOD_GROWERS", "Exhausted",
           "binop_estimate", "check_digits", "check_growth", "too_large", "weight"]

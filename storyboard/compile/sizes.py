"""How large a value is as text, known without building the text (``weight``).

Apart from ``template_sizes`` so that a storyboard without templates is measured
without loading Jinja2: its ``namespace()`` objects can only exist once Jinja2 is.
"""

from __future__ import annotations

import sys
from typing import Any

MAX_VALUE = 100_000  # characters (items, digits) in any one value; prompts are ≤ 2,500


def _namespace() -> type | None:
    """Jinja2's ``Namespace`` class when Jinja2 is loaded (else no value can be one)."""
    utils = sys.modules.get("jinja2.utils")
    found = getattr(utils, "Namespace", None)
    return found if isinstance(found, type) else None


def weight(value: Any, limit: int = MAX_VALUE) -> int:
    """About how many characters ``str(value)`` takes (a container: its items'), counted
    only until ``limit`` is passed, so measuring a huge value costs no more than a small
    one. Shared items count each time they appear: ``[s] * 1000`` weighs 1,000 ``s``."""
    total = 0
    pending: list[Any] = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str | bytes):
            total += len(item)
        elif isinstance(item, bool) or item is None or isinstance(item, float):
            total += 24  # the longest float repr
        elif isinstance(item, int):
            total += item.bit_length() // 3 + 1  # decimal digits, rounded up
        elif isinstance(item, dict):
            total += 2 + 4 * len(item)  # braces, then quotes and separators per item
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            total += 2 + 4 * len(item)
            pending.extend(item)
        elif (namespace := _namespace()) is not None and isinstance(item, namespace):
            attrs = object.__getattribute__(item, "_Namespace__attrs")
            total += 12 + 4 * len(attrs)
            pending.extend(attrs.keys())
            pending.extend(attrs.values())
        else:  # a range, a macro, a loop, an undefined name: a short repr
            total += 16
        if total > limit:
            return total
    return total

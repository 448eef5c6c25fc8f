"""Plain words and aligned columns, as every text report writes them."""

from __future__ import annotations

from collections.abc import Collection, Sequence


def plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def aligned(rows: Sequence[Sequence[str]], numeric: Collection[int] = ()) -> list[str]:
    """Each row as one line, its columns as wide as their widest cell, the ``numeric``
    ones right-aligned, with no trailing spaces: the one rule every table follows."""
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    return ["  ".join(cell.rjust(widths[c]) if c in numeric else cell.ljust(widths[c])
                      for c, cell in enumerate(row)).rstrip() for row in rows]

"""Where a value was written: JSON paths and the source map every stage points back with.

Loading builds the map; validation, rendering, budgeting and the plan use it to name a
file, line and column, so it lives here rather than in any one stage.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TypeAlias

from storyboard.errors import SourceLocation

__all__ = ["JsonPath", "Position", "SourceMap", "format_json_path"]

JsonPath: TypeAlias = tuple[str | int, ...]
Position: TypeAlias = tuple[int, int]


# --------------------------------------------------------------------------- paths

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_QUOTE_ESCAPES = {"\\": "\\\\", "'": "\\'", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _quote_key(key: str) -> str:
    out = []
    for ch in key:
        if ch in _QUOTE_ESCAPES:
            out.append(_QUOTE_ESCAPES[ch])
        elif not ch.isprintable():
            out.append(f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}")
        else:
            out.append(ch)
    return "'" + "".join(out) + "'"


def format_json_path(path: Iterable[str | int]) -> str:
    """The one spelling of a path in messages, so every stage points at data the same way."""
    parts = ["$"]
    for part in path:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        elif _IDENTIFIER.fullmatch(part):
            parts.append(f".{part}")
        else:
            parts.append(f"[{_quote_key(part)}]")
    return "".join(parts)


# ---------------------------------------------------------------------- source map


@dataclass(frozen=True)
class SourceMap:
    """Where each value (and each mapping key) was written, so later stages can point back.

    Positions are 1-based ``(line, column)``. A value reached through an alias is placed
    at the alias itself; what lies inside it is placed where the anchor's content is.
    """

    file: str
    values: Mapping[JsonPath, Position] = field(
        default_factory=lambda: MappingProxyType({}), repr=False, compare=False
    )
    keys: Mapping[JsonPath, Position] = field(
        default_factory=lambda: MappingProxyType({}), repr=False, compare=False
    )

    def locate(self, path: Iterable[str | int]) -> SourceLocation:
        """The value's position, or its nearest known ancestor's (a missing property is
        reported at the object that should hold it); the JSON path is always the one asked."""
        wanted = tuple(path)
        for length in range(len(wanted), -1, -1):
            position = self.values.get(wanted[:length])
            if position is not None:
                return SourceLocation(self.file, *position, format_json_path(wanted))
        return SourceLocation(self.file, 1, 1, format_json_path(wanted))

    def locate_key(self, path: Iterable[str | int]) -> SourceLocation:
        """The key's position: the right place for "unknown property" and similar."""
        wanted = tuple(path)
        position = self.keys.get(wanted)
        if position is None:
            return self.locate(wanted)
        return SourceLocation(self.file, *position, format_json_path(wanted))

    def __contains__(self, path: object) -> bool:
        return isinstance(path, tuple) and path in self.values

"""Names that become file and folder names: one check for storyboards and saved plans.

A storyboard's ``name`` names ``renders/<name>/``, a variant id a folder under it and a
clip id a file in that. Whatever brings them in — a storyboard (schema, variant
expansion) or a saved plan JSON, which anyone can edit — they pass the same check,
so no value can reach outside ``renders/<name>/`` (``..``, ``/``, a newline).
The storyboard name and clip id rules are the JSON Schema's own (its ``pattern`` and
``maxLength``: the schema is the single source of truth); variant ids, made by a
template, add ``.`` but never start with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Literal

Kind = Literal["name", "variant", "clip"]

VARIANT_ID = re.compile(r"[a-z0-9][a-z0-9_.-]*\Z")
VARIANT_ID_MAX = 128  # a folder name, well under the 255 bytes a file system allows
VARIANT_RULE = "[a-z0-9][a-z0-9_.-]*"


# What a slug keeps, and what it trims from its ends, for each kind of name it makes.
_SLUGS = {"variant": ("a-z0-9_.", "-."), "name": ("a-z0-9_-", "-_")}


def slug(text: str, kind: Literal["variant", "name"], fallback: str) -> str:
    """``text`` as a name: lowercase ASCII (accents folded: é is e), every run of other
    characters one '-', trimmed at both ends; ``fallback`` when nothing is left. Default
    variant ids and ``storyboard init``'s default name are made here."""
    keep, trim = _SLUGS[kind]
    ascii_text = text
    if not text.isascii():  # ASCII is its own NFKD form: only then load the C extension
        import unicodedata

        ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(f"[^{keep}]+", "-", ascii_text.lower()).strip(trim) or fallback


@cache
def ecma_pattern(pattern: str) -> re.Pattern[str]:
    """A JSON Schema (ECMA-262) regex as Python reads it: ``$`` is the end of the text.

    Python's ``$`` also matches before a final newline, so ``name: "aurora\\n"`` would
    pass ``^[a-z0-9][a-z0-9_-]*$`` and become a folder name with a newline in it.
    """
    out, escaped, in_class = [], False, False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "[":
            in_class = True
        elif char == "]":
            in_class = False
        elif char == "$" and not in_class:
            out.append(r"\Z")
            continue
        out.append(char)
    return re.compile("".join(out))


@dataclass(frozen=True, slots=True)
class Rule:
    """What a kind of name must match, how long it may be, and the rule as shown."""

    pattern: re.Pattern[str]
    max_length: int
    shown: str  # the rule as a user reads it


@cache
def rule(kind: Kind) -> Rule:
    if kind == "variant":
        return Rule(VARIANT_ID, VARIANT_ID_MAX, VARIANT_RULE)
    from storyboard.resources import STORYBOARD_SCHEMA, load_schema

    schema = load_schema(STORYBOARD_SCHEMA)
    spec = schema["properties"]["name"] if kind == "name" else schema["$defs"]["id"]
    text = str(spec["pattern"])
    return Rule(ecma_pattern(text), int(spec["maxLength"]), text.strip("^$"))


def name_problem(kind: Kind, value: object) -> str | None:
    """Why ``value`` cannot be a ``kind`` (a storyboard name, variant or clip id); None
    when it can."""
    if not isinstance(value, str):
        return f"must be a string, got {_json_type(value)}"
    r = rule(kind)
    if len(value) > r.max_length:
        return f"is {len(value)} characters long, over the limit of {r.max_length}"
    if not r.pattern.fullmatch(value):
        return f"{value[:80]!r} must match {r.shown} (lowercase letters, digits, '-', '_')"
    return None


def is_safe(kind: Kind, value: object) -> bool:
    return name_problem(kind, value) is None


def _json_type(value: object) -> str:
    """The JSON name of a value's type, never Python's (``NoneType``)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return "a string" if isinstance(value, str) else "something else"

"""YAML 1.2 core-schema scalars: what a plain or tagged scalar means (PyYAML's YAML 1.1
defaults would read ``on`` as ``True`` and ``16:9`` as 969).
"""

from __future__ import annotations

import math
import re
from typing import Any

_CORE = "tag:yaml.org,2002:"


_STR, _INT, _FLOAT, _BOOL, _NULL = (_CORE + t for t in ("str", "int", "float", "bool", "null"))


_SEQ, _MAP = _CORE + "seq", _CORE + "map"


_NULLS = frozenset({"", "~", "null", "Null", "NULL"})


_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}


_DECIMAL = re.compile(r"[-+]?[0-9]+")


_OCTAL = re.compile(r"0o[0-7]+")


_HEX = re.compile(r"0x[0-9a-fA-F]+")


_FLOAT_NUMBER = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")


_INFINITY = re.compile(r"[-+]?\.(?:inf|Inf|INF)")


_NAN = re.compile(r"\.(?:nan|NaN|NAN)")


# Only these first characters can start a non-string plain scalar; most prompts skip all regexes.
_NON_STRING_START = frozenset("0123456789+-.~nNtTfF")


class _ScalarProblem(Exception):
    """A scalar that cannot become the value its tag (or its looks) asks for."""


def _to_int(text: str) -> int | None:
    try:
        if _DECIMAL.fullmatch(text):
            return int(text, 10)
        if _OCTAL.fullmatch(text):
            return int(text[2:], 8)
        if _HEX.fullmatch(text):
            return int(text[2:], 16)
    except ValueError as exc:  # more digits than int() converts (CVE-2020-10735 guard)
        raise _ScalarProblem(
            f"the number {text[:20]}... has {len(text)} digits, too many to read; "
            "put it in quotes if it is meant as text"
        ) from exc
    return None


def _to_float(text: str) -> float | None:
    if _FLOAT_NUMBER.fullmatch(text):
        return float(text)
    if _INFINITY.fullmatch(text):
        return -math.inf if text.startswith("-") else math.inf
    if _NAN.fullmatch(text):
        return math.nan
    return None


def _resolve_plain(text: str) -> Any:
    """YAML 1.2 core schema: what an untagged plain scalar means."""
    if not text:
        return None
    if text[0] not in _NON_STRING_START:
        return text
    if text in _NULLS:
        return None
    if text in _BOOLS:
        return _BOOLS[text]
    number: int | float | None = _to_int(text)
    if number is None:
        number = _to_float(text)
    return text if number is None else number


def _tag_name(tag: str) -> str:
    return "!!" + tag[len(_CORE) :] if tag.startswith(_CORE) else tag


def _unknown_tag(tag: str) -> _ScalarProblem:
    return _ScalarProblem(
        f"unknown tag {_tag_name(tag)!r}; storyboards use plain YAML values "
        "(text, numbers, true/false, null, lists, mappings) — remove the tag"
    )


def _resolve_tagged(tag: str, text: str) -> Any:
    """An explicitly tagged scalar: only the core schema's own tags are understood."""
    if tag == _STR:
        return text
    if tag == _NULL and text in _NULLS:
        return None
    if tag == _BOOL and text in _BOOLS:
        return _BOOLS[text]
    if tag == _INT:
        number = _to_int(text)
        if number is not None:
            return number
    if tag == _FLOAT:
        whole = _to_int(text)
        value = float(whole) if whole is not None else _to_float(text)
        if value is not None:
            return value
    if tag in (_NULL, _BOOL, _INT, _FLOAT):
        raise _ScalarProblem(
            f"{text!r} is not a valid {_tag_name(tag)} value; fix the value or remove the tag"
        )
    raise _unknown_tag(tag)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _join_surrogates(text: str) -> str:
    """JSON writes characters outside the BMP as escaped UTF-16 pairs; make them one."""
    try:
        return text.encode("utf-16", "surrogatepass").decode("utf-16")
    except UnicodeDecodeError as exc:
        raise _ScalarProblem(
            "a \\u escape is half of a UTF-16 surrogate pair with no other half; "
            "fix the escape or write the character itself"
        ) from exc

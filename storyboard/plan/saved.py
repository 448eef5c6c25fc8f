"""A saved plan's JSON is untrusted input: read it bounded, check every value's type and
every name that becomes a path, and run it only in its own project.

``storyboard plan --out PLAN.json`` writes it; anyone can edit it before ``storyboard run
PLAN.json``. A plan whose variant was ``../../../tmp/x`` wrote renders and a manifest
outside the project, and ``"pricing": true`` or ``cost_usd: "1e999"`` ended in a crash.
Names pass the same check as a storyboard's (``names.name_problem``); every problem is
one line.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from storyboard.compile.load import load_file
from storyboard.compile.names import Kind, name_problem
from storyboard.errors import StoryboardError, UsageError
from storyboard.files import Unreadable, read_limited
from storyboard.model import MAX_TRIES, candidate_id

PLAN_FORMAT = 1
MAX_PLAN_BYTES = 64 * 1024 * 1024  # a 100,000-variant campaign's plan fits many times over
MAX_TAKE = 99
_AMOUNT = re.compile(r"[0-9]{1,9}(\.[0-9]{1,12})?\Z")  # what format_usd writes, bounded
_HASH = re.compile(r"[0-9a-f]{64}(\.[1-9][0-9]*)?\Z")
REGENERATE = "regenerate the plan with `storyboard plan STORYBOARD --out PLAN.json`"


def read_plan(path: Path) -> dict[str, Any]:
    """The plan's JSON, every value of the shape ``plan --out`` writes; else a UsageError
    with one line per problem (the first few)."""
    file = str(path)
    raw = _read_json(path, file)
    problems = list(_shape_problems(raw))
    if problems:
        more = f" (and {len(problems) - 3} more problems)" if len(problems) > 3 else ""
        raise UsageError("\n".join(f"{file}: {p}" for p in problems[:3])
                         + f"{more}; {REGENERATE}")
    return dict(raw)


def _read_json(path: Path, file: str) -> Any:
    """The plan's JSON, from a regular file of bounded size: a folder, ``/dev/zero`` or a
    pipe is never opened (opening a pipe would wait for a writer)."""
    make = "make one with `storyboard plan STORYBOARD --out PLAN.json`"
    try:
        if path.exists() and not path.is_file():
            raise Unreadable(f"not a regular file; {make}")
        data = read_limited(path, MAX_PLAN_BYTES, kind="saved plan")
    except Unreadable as exc:
        raise UsageError(f"{file}: {exc}") from None
    try:
        return json.loads(data.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        why = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
        raise UsageError(f"{file}: not a plan JSON file ({why}); {make}") from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _shape_problems(raw: Any) -> Iterator[str]:
    """Every way the plan's JSON differs from what ``plan --out`` writes, one line each."""
    if not isinstance(raw, dict) or raw.get("format") != PLAN_FORMAT or not isinstance(
            raw.get("generations"), list):
        yield (f"not a storyboard plan (format {PLAN_FORMAT}, with a list of generations); "
               "make one with `storyboard plan STORYBOARD --out PLAN.json`")
        return
    yield from _named("name", "name", raw.get("name"))
    for key in ("source", "root"):
        if raw.get(key) is not None and not _text(raw[key]):
            yield f"{key} must be a path (text without control characters), got {_kind(raw[key])}"
    pricing = raw.get("pricing", {})
    if not isinstance(pricing, dict) or not all(
            _text(pricing.get(k, "")) for k in ("version", "source")):
        yield f"pricing must be an object with text version and source, got {_kind(pricing)}"
    budget = raw.get("budget", {})
    if not isinstance(budget, dict):
        yield f"budget must be an object, got {_kind(budget)}"
    else:
        yield from _amount("budget.max_cost_usd", budget.get("max_cost_usd"), optional=True)
        seconds = budget.get("max_seconds")
        if seconds is not None and not _whole(seconds, 10**9):
            yield f"budget.max_seconds must be a whole number of seconds, got {_kind(seconds)}"
    seen: set[str] = set()
    for n, entry in enumerate(raw["generations"]):
        where = f"generation {n + 1}"
        if not isinstance(entry, dict):
            yield f"{where} must be an object, got {_kind(entry)}"
            continue
        found = list(_generation_problems(entry, where))
        yield from found
        if not found:
            gid = _generation_id(entry)
            if gid in seen:
                yield f"{where} ({gid}): a second generation with this id (ids are unique)"
            seen.add(gid)


def _generation_problems(entry: dict[str, Any], where: str) -> Iterator[str]:
    named = [*_named(f"{where}: variant", "variant", entry.get("variant")),
             *_named(f"{where}: clip", "clip", entry.get("clip"))]
    take = entry.get("take")
    if take is not None and not (_whole(take, MAX_TAKE) and take >= 1):
        named.append(f"{where}: take must be null or a whole number 1–{MAX_TAKE}, "
                     f"got {_kind(take)}")
    candidate, candidates = entry.get("candidate", 1), entry.get("candidates", 1)
    if not (_whole(candidates, MAX_TRIES) and candidates >= 1
            and _whole(candidate, candidates) and candidate >= 1):
        named.append(f"{where}: candidate and candidates must be whole numbers with "
                     f"1 ≤ candidate ≤ candidates ≤ {MAX_TRIES}, got "
                     f"{_kind(candidate)} of {_kind(candidates)}")
    yield from named
    if not named and "id" in entry and entry["id"] != _generation_id(entry):
        yield f"{where}: id {_kind(entry['id'])} is not {_generation_id(entry)!r}"
    if not (isinstance(entry.get("hash"), str) and _HASH.match(entry["hash"])):
        yield (f"{where}: hash must be 64 lowercase hex digits (and .N for candidate N), got "
               f"{_kind(entry.get('hash'))}")
    for key in ("rate_usd", "cost_usd"):
        yield from _amount(f"{where}: {key}", entry.get(key))
    request = entry.get("request")
    if not (isinstance(request, dict) and isinstance(request.get("model"), str)
            and isinstance(request.get("args"), dict)):
        yield f"{where}: request must be an object with a text model and an args object"


def _generation_id(entry: dict[str, Any]) -> str:
    take = entry.get("take")
    return candidate_id(f"{entry['variant']}/{entry['clip']}{'' if take is None else f'.{take}'}",
                        entry.get("candidate", 1))


def _named(label: str, kind: Kind, value: Any) -> Iterator[str]:
    problem = name_problem(kind, value)
    if problem:
        yield f"{label} {problem}"


def _amount(label: str, value: Any, *, optional: bool = False) -> Iterator[str]:
    if value is None and optional:
        return
    if not (isinstance(value, str) and _AMOUNT.match(value)):
        yield f"{label} must be an amount in dollars as text, e.g. \"1.14\"; got {_kind(value)}"


def _whole(value: Any, most: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= most


def _text(value: Any) -> bool:
    return isinstance(value, str) and len(value) <= 4096 and value.isprintable()


def _kind(value: Any) -> str:
    """A value as a user reads it in a message: short, with its JSON type."""
    if isinstance(value, str):
        return repr(value[:60] + ("…" if len(value) > 60 else ""))
    if value is None or isinstance(value, bool | int | float):
        return json.dumps(value) if not isinstance(value, float) or math.isfinite(value) \
            else "a non-finite number"
    return "a list" if isinstance(value, list) else "an object"


def storyboard_name(path: Path) -> str | None:
    """The ``name`` of the storyboard at ``path`` (None when it is not one)."""
    try:
        data = load_file(path).data
    except (StoryboardError, OSError):
        return None
    name = data.get("name") if isinstance(data, dict) else None
    return name if isinstance(name, str) else None

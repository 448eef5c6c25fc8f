"""Price generations into a plan, check it against the budget, save and reload it.

A saved plan (``storyboard plan FILE --out PLAN.json``) is what ``storyboard run
PLAN.json`` executes, exactly: every request is stored whole and its hash re-checked
on load, so an edited or corrupted plan file is refused rather than paid for.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from storyboard.emit import request_is_valid
from storyboard.errors import BudgetExceeded, SourceLocation, StoryboardError, UsageError
from storyboard.load import load_file
from storyboard.model import NEW, SHARED, Budget, Generation, Plan, PlanItem, request_hash
from storyboard.names import Kind, name_problem
from storyboard.pricing import PriceTable, format_usd

PLAN_FORMAT = 1


def price(name: str, source: str, generations: Iterable[Generation], budget: Budget,
          prices: PriceTable, root: str = "") -> Plan:
    items = []
    first: dict[str, str] = {}
    for g in generations:
        rate = prices.rate(g.model, g.mode, g.sound)
        if g.hash in first:  # identical requests (a clip that does not vary) render once
            items.append(PlanItem(g, rate, rate * g.seconds, SHARED, first[g.hash]))
        else:
            first[g.hash] = g.id
            items.append(PlanItem(g, rate, rate * g.seconds))
    return Plan(name=name, source=source, items=tuple(items), budget=budget,
                pricing_version=prices.version, pricing_source=prices.source,
                root=root)


def with_states(plan: Plan, states: Mapping[str, str]) -> Plan:
    """The plan with each generation's state (by hash) from the journal and cache; later
    generations with the same request as an earlier one stay shared."""
    items: list[PlanItem] = []
    first: dict[str, str] = {}
    for i in plan.items:
        h = i.generation.hash
        if h in first:  # identical requests (a clip that does not vary) render once
            items.append(replace(i, state=SHARED, same_as=first[h]))
        else:
            first[h] = i.generation.id
            items.append(replace(i, state=states.get(h, NEW), same_as=None))
    return replace(plan, items=tuple(items))


def budget_problems(plan: Plan, max_cost: Decimal | None = None) -> list[str]:
    """Why the plan is over budget, one line each; empty when it is within.

    The cost limit applies to what running the plan would spend now (reused
    generations cost nothing); ``max_cost`` (``--max-cost``) replaces the storyboard's.
    """
    problems = []
    limit = max_cost if max_cost is not None else plan.budget.max_cost_usd
    where = _where(plan.budget.cost_location, "budget.max_cost_usd") if max_cost is None \
        else "--max-cost"
    if limit is not None and plan.due_cost > limit:
        problems.append(
            f"plan costs ${format_usd(plan.due_cost)}, over the budget of ${format_usd(limit)} "
            f"({where}); raise the budget or pass --max-cost {format_usd(plan.due_cost)}")
    if plan.budget.max_seconds is not None and plan.total_seconds > plan.budget.max_seconds:
        problems.append(
            f"plan has {plan.total_seconds} s of video, over the budget of "
            f"{plan.budget.max_seconds} s "
            f"({_where(plan.budget.seconds_location, 'budget.max_seconds')}); raise max_seconds or "
            "render fewer variants")
    return problems


def check_budget(plan: Plan, max_cost: Decimal | None = None) -> None:
    problems = budget_problems(plan, max_cost)
    if problems:
        raise BudgetExceeded("\n".join(problems))


def _where(location: SourceLocation | None, key: str) -> str:
    return f"{key} at {location}" if location else key


def parse_usd(text: str, option: str = "--max-cost") -> Decimal:
    try:
        value = Decimal(text.strip().lstrip("$"))
    except InvalidOperation:
        raise UsageError(f"{option} {text!r} is not an amount in dollars, e.g. 12.50") from None
    if not value.is_finite() or value < 0:
        raise UsageError(f"{option} must be a non-negative amount, got {text!r}")
    return value


# --- the plan as JSON: the `compile` lines and `plan --format json` share one shape ---


def generation_json(item: PlanItem) -> dict[str, Any]:
    g = item.generation
    args = g.args
    return {
        "id": g.id,
        "variant": g.variant,
        "clip": g.clip,
        "take": g.take,
        "hash": g.hash,
        "seconds": args["duration"],
        "mode": args["mode"],
        "sound": args["sound"],
        "rate_usd": format_usd(item.rate),
        "cost_usd": format_usd(item.cost),
        "state": item.state,
        "same_as": item.same_as,
        "request": {"model": g.model, "args": args},
    }


def plan_json(plan: Plan, max_cost: Decimal | None = None) -> dict[str, Any]:
    problems = budget_problems(plan, max_cost)
    limit = max_cost if max_cost is not None else plan.budget.max_cost_usd
    return {
        "format": PLAN_FORMAT,
        "name": plan.name,
        "source": plan.source,
        "root": plan.root,
        "pricing": {"version": plan.pricing_version, "source": plan.pricing_source},
        "generations": [generation_json(i) for i in plan.items],
        "variants": _variant_totals(plan),
        "total_seconds": plan.total_seconds,
        "total_cost_usd": format_usd(plan.total_cost),
        "due_cost_usd": format_usd(plan.due_cost),
        "budget": {
            "max_cost_usd": format_usd(limit) if limit is not None else None,
            "max_seconds": plan.budget.max_seconds,
            "within": not problems,
            "problems": problems,
        },
    }


def _variant_totals(plan: Plan) -> dict[str, dict[str, Any]]:
    seconds: dict[str, int] = {}
    cost: dict[str, Decimal] = {}
    for item in plan.items:
        v = item.generation.variant
        seconds[v] = seconds.get(v, 0) + item.generation.args["duration"]
        cost[v] = cost.get(v, Decimal(0)) + item.cost
    return {v: {"seconds": seconds[v], "cost_usd": format_usd(cost[v])} for v in seconds}


MAX_PLAN_BYTES = 64 * 1024 * 1024  # a 100,000-variant campaign's plan fits many times over
MAX_TAKE = 99
_AMOUNT = re.compile(r"[0-9]{1,9}(\.[0-9]{1,12})?\Z")  # what format_usd writes, bounded
_HASH = re.compile(r"[0-9a-f]{64}\Z")
_REGENERATE = "regenerate the plan with `storyboard plan STORYBOARD --out PLAN.json`"


def load_plan(path: str | Path, *, in_project: bool = False) -> Plan:
    """A plan saved by ``storyboard plan --out``; every request's hash is re-checked.

    A plan file is untrusted input (anyone can edit it): its size is bounded, every
    value's JSON type is checked, and every name that becomes a path passes the same
    check as a storyboard's (``names.name_problem``). ``in_project`` (to run it, or read
    its state) also requires its ``root`` to be the folder of the storyboard that made it.
    """
    file = str(path)
    raw = _read_plan_json(Path(path), file)
    problems = list(_shape_problems(raw))
    if problems:
        more = f" (and {len(problems) - 3} more problems)" if len(problems) > 3 else ""
        raise UsageError("\n".join(f"{file}: {p}" for p in problems[:3])
                         + f"{more}; {_REGENERATE}")
    items = tuple(_item(entry, file, n) for n, entry in enumerate(raw["generations"]))
    budget_raw = raw.get("budget") or {}
    cost, seconds = budget_raw.get("max_cost_usd"), budget_raw.get("max_seconds")
    budget = Budget(max_cost_usd=Decimal(cost) if cost is not None else None,
                    max_seconds=seconds)
    pricing = raw.get("pricing") or {}
    root = raw.get("root") or str(Path(path).resolve().parent)
    plan = Plan(
        name=raw["name"],
        source=raw.get("source") or file,
        items=items,
        budget=budget,
        pricing_version=pricing.get("version", ""),
        pricing_source=pricing.get("source", ""),
        root=root,
    )
    if in_project:
        _check_project(plan, file)
    return with_states(plan, {})  # identical requests are rendered once, as when planned


def _read_plan_json(path: Path, file: str) -> Any:
    """The plan's JSON, read from a regular file of bounded size (never /dev/zero, a pipe)."""
    make = "make one with `storyboard plan STORYBOARD --out PLAN.json`"
    try:
        with path.open("rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise UsageError(f"{file}: not a regular file; {make}")
            data = f.read(MAX_PLAN_BYTES + 1)
    except FileNotFoundError:
        raise UsageError(f"{file}: no such plan file") from None
    except OSError as exc:
        raise UsageError(f"{file}: cannot be read ({exc.strerror or exc})") from None
    if len(data) > MAX_PLAN_BYTES:
        raise UsageError(f"{file}: larger than {MAX_PLAN_BYTES // (1024 * 1024)} MiB, which "
                         f"no saved plan is; {make}")
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
    if raw.get("root") and _text(raw["root"]) and not _normal_absolute(raw["root"]):
        yield f"root {raw['root'][:120]!r} must be an absolute path without '..'"
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
    yield from named
    if not named and "id" in entry and entry["id"] != _generation_id(entry):
        yield f"{where}: id {_kind(entry['id'])} is not {_generation_id(entry)!r}"
    if not (isinstance(entry.get("hash"), str) and _HASH.match(entry["hash"])):
        yield f"{where}: hash must be 64 lowercase hex digits, got {_kind(entry.get('hash'))}"
    for key in ("rate_usd", "cost_usd"):
        yield from _amount(f"{where}: {key}", entry.get(key))
    request = entry.get("request")
    if not (isinstance(request, dict) and isinstance(request.get("model"), str)
            and isinstance(request.get("args"), dict)):
        yield f"{where}: request must be an object with a text model and an args object"


def _generation_id(entry: dict[str, Any]) -> str:
    take = entry.get("take")
    return f"{entry['variant']}/{entry['clip']}{'' if take is None else f'.{take}'}"


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


def _normal_absolute(root: str) -> bool:
    return os.path.isabs(root) and os.path.normpath(root) == root and ".." not in Path(root).parts


def _kind(value: Any) -> str:
    """A value as a user reads it in a message: short, with its JSON type."""
    if isinstance(value, str):
        return repr(value[:60] + ("…" if len(value) > 60 else ""))
    if value is None or isinstance(value, bool | int | float):
        return json.dumps(value) if not isinstance(value, float) or math.isfinite(value) \
            else "a non-finite number"
    return "a list" if isinstance(value, list) else "an object"


def _check_project(plan: Plan, file: str) -> None:
    """A plan runs only inside its own project: ``root`` holds the storyboard it names,
    and that storyboard has the plan's name (so state and renders land beside it)."""
    root = Path(plan.root)
    storyboard = root / Path(plan.source).name
    found = None
    try:
        if root.is_absolute() and storyboard.is_file():
            data = load_file(storyboard).data
            found = data.get("name") if isinstance(data, dict) else None
    except (StoryboardError, OSError):
        found = None
    if found != plan.name:
        raise UsageError(
            f"{file}: its root {plan.root!r} holds no storyboard {storyboard.name!r} named "
            f"{plan.name!r}; a saved plan runs only in the folder of the storyboard that "
            f"made it — {_REGENERATE} there")


def _item(entry: dict[str, Any], file: str, n: int) -> PlanItem:
    """One generation of a plan whose shape ``_shape_problems`` has checked."""
    where = f"{file}: generation {n + 1}"
    request = entry["request"]
    model, args = request["model"], request["args"]
    generation = Generation(entry["variant"], entry["clip"], entry.get("take"), model, dict(args),
                            entry["hash"], SourceLocation(file, 1, 1, f"$.generations[{n}]"))
    rate, cost = Decimal(entry["rate_usd"]), Decimal(entry["cost_usd"])
    if request_hash(model, args) != generation.hash:
        raise UsageError(f"{where} ({generation.id}): the request does not match its hash; "
                         "the plan file was edited — regenerate it")
    if not request_is_valid(model, args):
        raise UsageError(f"{where} ({generation.id}): the request breaks the API's input "
                         "contract (schemas/kling-o3.request.schema.json); regenerate the plan")
    return PlanItem(generation, rate, cost)

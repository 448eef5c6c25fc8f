"""Price generations into a plan, check it against the budget, save and reload it.

A saved plan (``storyboard plan FILE --out PLAN.json``) is what ``storyboard run
PLAN.json`` executes, exactly: every request is stored whole and its hash re-checked
on load, so an edited or corrupted plan file is refused rather than paid for.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from storyboard.emit import request_is_valid
from storyboard.errors import BudgetExceeded, SourceLocation, UsageError
from storyboard.media.timeline import timeline_json
from storyboard.model import NEW, SHARED, Budget, Generation, Plan, PlanItem, request_hash
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
        "timelines": [timeline_json(t) for t in plan.timelines],
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


def load_plan(path: str | Path) -> Plan:
    """A plan saved by ``storyboard plan --out``; every request's hash is re-checked."""
    file = str(path)
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{file}: no such plan file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"{file}: not a plan JSON file ({exc}); make one with "
                         "`storyboard plan STORYBOARD --out PLAN.json`") from None
    if not isinstance(raw, dict) or raw.get("format") != PLAN_FORMAT or not isinstance(
            raw.get("generations"), list):
        raise UsageError(f"{file}: not a storyboard plan (format {PLAN_FORMAT}); make one with "
                         "`storyboard plan STORYBOARD --out PLAN.json`")
    items = []
    for n, entry in enumerate(raw["generations"]):
        items.append(_item(entry, file, n))
    budget_raw = raw.get("budget") or {}
    try:
        cost = budget_raw.get("max_cost_usd")
        seconds = budget_raw.get("max_seconds")
        budget = Budget(max_cost_usd=Decimal(cost) if cost is not None else None,
                        max_seconds=int(seconds) if seconds is not None else None)
        if budget.max_cost_usd is not None and not budget.max_cost_usd.is_finite():
            raise InvalidOperation
    except (AttributeError, TypeError, ValueError, InvalidOperation):
        raise UsageError(f"{file}: its budget is not readable; regenerate the plan with "
                         "`storyboard plan STORYBOARD --out PLAN.json`") from None
    plan = Plan(
        name=str(raw.get("name", "plan")),
        source=str(raw.get("source", file)),
        items=tuple(items),
        budget=budget,
        pricing_version=str((raw.get("pricing") or {}).get("version", "")),
        pricing_source=str((raw.get("pricing") or {}).get("source", "")),
        root=str(raw.get("root") or Path(path).resolve().parent),
    )
    return with_states(plan, {})  # identical requests are rendered once, as when planned


def _item(entry: Any, file: str, n: int) -> PlanItem:
    where = f"{file}: generation {n + 1}"
    try:
        request = entry["request"]
        model, args = request["model"], request["args"]
        if not isinstance(args, Mapping) or not isinstance(model, str):
            raise TypeError
        take = entry["take"]
        generation = Generation(str(entry["variant"]), str(entry["clip"]),
                                int(take) if take is not None else None, model, dict(args),
                                str(entry["hash"]),
                                SourceLocation(file, 1, 1, f"$.generations[{n}]"))
        rate = Decimal(entry["rate_usd"])
        cost = Decimal(entry["cost_usd"])
    except (KeyError, TypeError, ValueError, InvalidOperation):
        raise UsageError(f"{where} is incomplete; regenerate the plan with "
                         "`storyboard plan STORYBOARD --out PLAN.json`") from None
    if request_hash(model, args) != generation.hash:
        raise UsageError(f"{where} ({generation.id}): the request does not match its hash; "
                         "the plan file was edited — regenerate it")
    if not request_is_valid(model, args) or not (rate.is_finite() and cost.is_finite()):
        raise UsageError(f"{where} ({generation.id}): the request breaks the API's input "
                         "contract (schemas/kling-o3.request.schema.json); regenerate the plan")
    return PlanItem(generation, rate, cost)

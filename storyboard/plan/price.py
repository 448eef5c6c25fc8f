"""Price generations into a plan, check it against the budget, save and reload it.

A saved plan (``storyboard plan FILE --out PLAN.json``) is what ``storyboard run
PLAN.json`` executes, exactly: every request is stored whole and its hash re-checked
on load, so an edited or corrupted plan file is refused rather than paid for.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from storyboard.compile.emit import request_is_valid
from storyboard.errors import BudgetExceeded, SourceLocation, UsageError
from storyboard.media.timeline import timeline_json
from storyboard.model import Budget, Generation, candidate_key, request_hash
from storyboard.plan.model import SHARED, FirstRequests, Plan, PlanItem, Spent, Totals
from storyboard.plan.pricing import PriceTable, format_usd, load_price_table
from storyboard.plan.saved import PLAN_FORMAT, REGENERATE, read_plan, storyboard_name


def price(name: str, source: str, generations: Iterable[Generation], budget: Budget,
          prices: PriceTable, root: str = "") -> Plan:
    items = []
    firsts = FirstRequests()  # identical requests (a clip that does not vary) render once
    for g in generations:
        rate = prices.rate(g.model, g.mode, g.sound)
        same_as = firsts.same_as(g)
        items.append(PlanItem(g, rate, rate * g.seconds, SHARED, same_as) if same_as
                     else PlanItem(g, rate, rate * g.seconds))
    return Plan(name=name, source=source, items=tuple(items), budget=budget,
                pricing_version=prices.version, pricing_source=prices.source,
                root=root)


def budget_problems(plan: Plan, max_cost: Decimal | None = None) -> list[str]:
    """Why running the plan now would break a budget, one line each; empty when it would not.

    ``budget.max_cost_usd`` bounds what the storyboard spends over all its runs: what
    its state says it has spent (creates of unknown outcome included, at their
    estimate) plus what is due now. ``max_cost`` (``--max-cost``) bounds this run's new
    spend alone. ``budget.max_seconds`` bounds the seconds the plan renders, counted
    like money: a generation that shares another's render adds none.
    """
    problems = []
    totals, spent, budget = plan.totals(), plan.spent, plan.budget
    limit = budget.max_cost_usd
    if limit is not None and totals.due > 0 and spent.at_most + totals.due > limit:
        where = _where(budget.cost_location, "budget.max_cost_usd")
        problems.append(
            f"{spending(spent, totals.due)}, over the budget of {usd(limit)} ({where}); "
            f"raise budget.max_cost_usd to at least {format_usd(spent.at_most + totals.due)} "
            "or render less")
    if max_cost is not None and totals.due > max_cost:
        problems.append(f"{usd(totals.due)} due now, over --max-cost {usd(max_cost)}; pass "
                        f"--max-cost {format_usd(totals.due)} or render less")
    if budget.max_seconds is not None and totals.rendered_seconds > budget.max_seconds:
        problems.append(
            f"plan renders {totals.rendered_seconds} s of video, over the budget of "
            f"{budget.max_seconds} s "
            f"({_where(budget.seconds_location, 'budget.max_seconds')}); raise max_seconds or "
            "render fewer variants")
    return problems


def usd(amount: Decimal) -> str:
    """Money as every text report writes it: exact, at least cents, a dollar sign."""
    return f"${format_usd(amount)}"


def spending(spent: Spent, due: Decimal) -> str:
    """``$4.89 spent so far + $3.70 due now = $8.59``: the sum a cost budget bounds."""
    unknown = (f" (plus up to {usd(spent.unknown)} in creates of unknown outcome)"
               if spent.unknown else "")
    return (f"{usd(spent.charged)} spent so far{unknown} + {usd(due)} due now = "
            f"{usd(spent.at_most + due)}")


def check_budget(plan: Plan, max_cost: Decimal | None = None) -> None:
    problems = budget_problems(plan, max_cost)
    if problems:
        raise BudgetExceeded("\n".join(problems))


def _where(location: SourceLocation | None, key: str) -> str:
    return f"{key} at {location}" if location else key


MAX_USD = Decimal(1_000_000_000)  # a limit above this is a typo, not a budget
USD_DECIMALS = 6


def parse_usd(text: str, option: str = "--max-cost") -> Decimal:
    """A dollar amount a user typed: finite, 0 to ``MAX_USD``, at most 6 decimals (so
    ``1e999`` and ``1e-999999999`` never reach arithmetic or formatting)."""
    try:
        value = Decimal(text.strip().lstrip("$"))
    except InvalidOperation:
        value = Decimal("NaN")
    if (not value.is_finite() or not 0 <= value <= MAX_USD
            or value != value.quantize(Decimal(1).scaleb(-USD_DECIMALS))):
        raise UsageError(f"{option} {text!r}: give an amount in dollars from 0 to "
                         f"{MAX_USD:,} with at most {USD_DECIMALS} decimals, e.g. 12.50")
    return value


# --- the plan as JSON: the `compile` lines and `plan --format json` share one shape ---


def generation_json(item: PlanItem) -> dict[str, Any]:
    g = item.generation
    args = g.args
    # a generation of one try reads as before candidates existed
    tries = {"candidate": g.candidate, "candidates": g.candidates} if g.candidates > 1 else {}
    return {
        "id": g.id,
        "variant": g.variant,
        "clip": g.clip,
        "take": g.take,
        "hash": g.hash,
        **tries,
        "seconds": args["duration"],
        "mode": args["mode"],
        "sound": args["sound"],
        "rate_usd": format_usd(item.rate),
        "cost_usd": format_usd(item.charge),
        "state": item.state,
        "same_as": item.same_as,
        "request": {"model": g.model, "args": args},
    }


def totals_json(totals: Totals) -> dict[str, Any]:
    return {"generations": totals.generations, "seconds": totals.seconds,
            "rendered_seconds": totals.rendered_seconds,
            "cost_usd": format_usd(totals.cost), "due_usd": format_usd(totals.due)}


def budget_json(plan: Plan, max_cost: Decimal | None = None) -> dict[str, Any]:
    problems = budget_problems(plan, max_cost)
    limit, spent = plan.budget.max_cost_usd, plan.spent
    return {
        "max_cost_usd": format_usd(limit) if limit is not None else None,
        "max_seconds": plan.budget.max_seconds,
        "max_run_cost_usd": format_usd(max_cost) if max_cost is not None else None,
        "spent_usd": format_usd(spent.charged),
        "unknown_usd": format_usd(spent.unknown),
        "due_usd": format_usd(plan.due_cost),
        "within": not problems,
        "problems": problems,
    }


def plan_json(plan: Plan, max_cost: Decimal | None = None, *,
              base: Path | None = None) -> dict[str, Any]:
    """The plan as data. Its storyboard and folder are written relative to ``base`` (the
    saved plan's folder; the current directory for a plan printed), never absolute: a plan
    is committed, shared and moved with its project."""
    totals = plan.totals()
    root, source = plan.root, plan.source
    if root:
        here = Path.cwd() if base is None else base
        root = relative_path(Path(root), here)
        source = relative_path(Path(plan.root) / Path(plan.source).name, here)
    return {
        "format": PLAN_FORMAT,
        "name": plan.name,
        "source": source,
        "root": root,
        "pricing": {"version": plan.pricing_version, "source": plan.pricing_source},
        "generations": [generation_json(i) for i in plan.items],
        "variants": {v: totals_json(t) for v, t in plan.variant_totals().items()},
        "timelines": [timeline_json(t) for t in plan.timelines],
        "total_seconds": totals.seconds,
        "rendered_seconds": totals.rendered_seconds,
        "total_cost_usd": format_usd(totals.cost),
        "due_cost_usd": format_usd(totals.due),
        "states": {state: {"generations": n, "cost_usd": format_usd(totals.state_costs[state])}
                   for state, n in totals.states.items()},
        "budget": budget_json(plan, max_cost),
    }


def relative_path(path: Path, base: Path) -> str:
    """``path`` as seen from the folder ``base``, with forward slashes."""
    return Path(os.path.relpath(path.resolve(), base.resolve())).as_posix()


def _plan_root(raw: Any, path: Path) -> str:
    """The storyboard's folder: relative to the plan file's (absolute in older plans)."""
    return str((path.resolve().parent / str(raw or ".")).resolve())


def check_runnable(plan: Plan, file: Path) -> None:
    """A saved plan runs against the state beside its storyboard: a folder that does not
    hold it is refused, as a fresh state there would render (and pay for) again what the
    real one holds — and so is one whose storyboard has another name: a plan edited to
    point elsewhere would put its state and renders there (a plan runs only inside its
    own project)."""
    storyboard = Path(plan.root) / Path(plan.source).name
    if not storyboard.is_file():
        raise UsageError(f"{file}: its storyboard {storyboard} is not there (a plan names its "
                         "folder relative to the plan file); keep the plan where it was "
                         f"saved, or {REGENERATE}")
    found = storyboard_name(storyboard)
    if found != plan.name:
        named = f"named {found!r}" if found else "not a storyboard"
        raise UsageError(f"{file}: its storyboard {storyboard} is {named}, not {plan.name!r}; "
                         "a saved plan runs only in the folder of the storyboard that made it "
                         f"— {REGENERATE} there")


def load_plan(path: str | Path, prices: PriceTable | None = None) -> Plan:
    """A plan saved by ``storyboard plan --out``, verified before anything trusts it.

    Every request's hash is recomputed from the request, and every generation is
    priced again from the price table (``prices``, default the built-in one): a figure
    that differs from the file's refuses the plan, naming the generation and the field,
    so an edited cost can never slip a run under its budget. The file is untrusted
    input: its size is bounded, every value's JSON type checked, and every name that
    becomes a path passes the same check as a storyboard's (``plan_check.read_plan``).
    """
    file = str(path)
    raw = read_plan(Path(path))
    items = tuple(_item(entry, file, n) for n, entry in enumerate(raw["generations"]))
    budget_raw = raw.get("budget") or {}
    cost, seconds = budget_raw.get("max_cost_usd"), budget_raw.get("max_seconds")
    budget = Budget(max_cost_usd=Decimal(cost) if cost is not None else None,
                    max_seconds=seconds)
    table = prices if prices is not None else load_price_table()
    # identical requests are rendered once, as when planned
    plan = price(raw["name"], raw.get("source") or file, (i.generation for i in items),
                 budget, table, root=_plan_root(raw.get("root"), Path(path)))
    for n, (entry, item) in enumerate(zip(raw["generations"], plan.items, strict=True)):
        _check_figures(entry, item, table, f"{file}: generation {n + 1} ({item.generation.id})")
    return plan


_MONEY_FIELDS = ("rate_usd", "cost_usd")


def _check_figures(entry: Mapping[str, Any], item: PlanItem, prices: PriceTable,
                   where: str) -> None:
    """The saved generation's figures against the ones recomputed from its request."""
    expected = generation_json(item)
    for field in ("hash", "seconds", "mode", "sound", *_MONEY_FIELDS):
        saved = entry.get(field)
        if field in _MONEY_FIELDS:
            try:
                same = Decimal(str(saved)) == Decimal(expected[field])
            except InvalidOperation:
                same = False
        else:
            same = type(saved) is type(expected[field]) and saved == expected[field]
        if not same:
            if field in _MONEY_FIELDS:
                shared = f", shared with {item.same_as}" if item.same_as else ""
                why = (f"the price table {prices.version} makes it {expected[field]} "
                       f"({item.generation.seconds} s × ${format_usd(item.rate)}{shared})")
            else:
                why = f"its request makes it {expected[field]}"
            raise UsageError(f"{where}: {field} is {_shown(saved)}, but {why}; the plan was "
                             "edited or priced with another table — regenerate it with "
                             "`storyboard plan STORYBOARD --out PLAN.json` (with the same "
                             "--pricing)")


def _shown(value: Any) -> str:
    return "missing" if value is None else json.dumps(value, ensure_ascii=False)[:80]


def _item(entry: dict[str, Any], file: str, n: int) -> PlanItem:
    """One generation of a plan whose shape ``read_plan`` has checked."""
    where = f"{file}: generation {n + 1}"
    request = entry["request"]
    model, args = request["model"], request["args"]
    generation = Generation(entry["variant"], entry["clip"], entry.get("take"), model, dict(args),
                            entry["hash"], SourceLocation(file, 1, 1, f"$.generations[{n}]"),
                            entry.get("candidate", 1), entry.get("candidates", 1))
    rate, cost = Decimal(entry["rate_usd"]), Decimal(entry["cost_usd"])
    if candidate_key(request_hash(model, args), generation.candidate) != generation.hash:
        raise UsageError(f"{where} ({generation.id}): the request does not match its hash; "
                         "the plan file was edited — regenerate it")
    if not request_is_valid(model, args):
        raise UsageError(f"{where} ({generation.id}): the request breaks the API's input "
                         "contract (schemas/kling-o3.request.schema.json); regenerate the plan")
    return PlanItem(generation, rate, cost)

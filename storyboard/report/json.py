"""Reports as JSON: the exact requests (``compile``), the saved plan and the plan diff."""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

from storyboard.perf import fewer_collections
from storyboard.plan.diff import Change, PlanDiff
from storyboard.plan.model import Plan, PlanItem
from storyboard.plan.price import generation_json, plan_json
from storyboard.plan.pricing import format_usd

_JSON = json.JSONEncoder(ensure_ascii=False)  # one encoder, not one per json.dumps() call


@fewer_collections()
def compile_lines(plan: Plan) -> str:
    """One JSON object a line per generation, in storyboard order."""
    return "".join(_JSON.encode(generation_json(i)) + "\n" for i in plan.items)


@fewer_collections()
def plan_as_json(plan: Plan, max_cost: Decimal | None = None, *,
                 base: Path | None = None) -> str:
    """The plan as JSON: the summary indented, then one variant and one generation a line.

    That keeps a 50k-generation plan diffable line by line and lets the C encoder do
    the bulk (``indent`` makes CPython fall back to its pure-Python encoder). Paths are
    relative to ``base`` (see ``plan_json``).
    """
    data = plan_json(plan, max_cost, base=base)
    generations = data.pop("generations")
    variants = data.pop("variants")
    timelines = data.pop("timelines")
    encode = _JSON.encode
    head = json.dumps(data, indent=2, ensure_ascii=False)[:-2]  # without the closing "\n}"
    parts = [head]
    for key, rows in (("variants", [f"{encode(v)}: {encode(t)}" for v, t in variants.items()]),
                      ("timelines", list(map(encode, timelines))),
                      ("generations", list(map(encode, generations)))):
        opening, closing = ("{", "}") if key == "variants" else ("[", "]")
        inner = ",\n    ".join(rows)
        parts.append(f'  "{key}": {opening}\n    {inner}\n  {closing}' if rows
                     else f'  "{key}": {opening}{closing}')
    return ",\n".join(parts) + "\n}\n"


def diff_json(diff: PlanDiff, max_cost: Decimal | None = None,
              gates: Sequence[str] = ()) -> dict[str, object]:
    """The stable JSON form of a plan diff (documented in the README)."""

    def side(plan: Plan | None, label: str) -> dict[str, object] | None:
        if plan is None:
            return {"label": label, "exists": False, "total_cost_usd": "0.00",
                    "total_seconds": 0}
        totals = plan.totals()
        return {"label": label, "exists": True, "total_cost_usd": format_usd(totals.cost),
                "total_seconds": totals.seconds}

    def item(i: PlanItem | None) -> dict[str, object] | None:
        if i is None:
            return None
        return {"hash": i.generation.hash, "seconds": i.generation.seconds,
                "cost_usd": format_usd(i.charge)}

    return {
        "format": 1,
        "name": diff.new.name,
        "old": side(diff.old, diff.old_label),
        "new": side(diff.new, diff.new_label),
        "delta_usd": format_usd(diff.delta),
        "to_render_usd": format_usd(diff.to_render),
        "counts": {c.value: diff.count(c) for c in Change},
        "budget": plan_json(diff.new, max_cost)["budget"],
        "gates": {"passed": not gates, "failures": list(gates)},
        "generations": [{"id": g.id, "variant": g.variant, "change": g.change.value,
                         "old": item(g.old), "new": item(g.new)} for g in diff.generations],
        "picks": [{"id": p.id, "old": p.old, "new": p.new} for p in diff.picks],
    }


def diff_as_json(diff: PlanDiff, max_cost: Decimal | None = None,
                 gates: Sequence[str] = ()) -> str:
    return json.dumps(diff_json(diff, max_cost, gates), indent=2, ensure_ascii=False) + "\n"

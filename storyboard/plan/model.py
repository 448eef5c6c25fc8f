"""The plan's data: each generation priced, with what the state already holds of it, and
the figures every report shows (one sum, so rows always add up to the totals)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from storyboard.model import Budget, Generation

if TYPE_CHECKING:
    from storyboard.media.timeline import Timeline

NEW = "new"  # nothing rendered yet: running it creates (and pays for) a job
REUSED = "reused"  # the cache holds its video: $0
IN_FLIGHT = "in-flight"  # a paid job exists (pending, or done but not downloaded): $0 more
UNKNOWN = "unknown"  # a create whose outcome is unknown: not re-sent, $0 unless resubmitted
SHARED = "shared"  # the same request as an earlier generation of the plan: rendered once


class FirstRequests:
    """First identical request wins, the rest are shared: of generations with the same
    request (hash), the first renders and every later one reuses its render."""

    def __init__(self) -> None:
        self._first: dict[str, str] = {}  # request hash -> the id of its first generation

    def same_as(self, generation: Generation) -> str | None:
        """None for the first generation of its request; else the first one's id."""
        first = self._first.setdefault(generation.hash, generation.id)
        return None if first == generation.id else first


@dataclass(frozen=True, slots=True)
class PlanItem:
    """One generation of a plan, priced, with what the state already holds of it.

    The figures a report shows for one generation are the properties below, and
    nothing else computes them (near-copies drift into wrong numbers).
    """

    generation: Generation
    rate: Decimal
    cost: Decimal  # seconds × rate: the price of this request, whoever pays it
    state: str = NEW
    same_as: str | None = None  # SHARED: the id of the generation whose render this reuses

    @property
    def charge(self) -> Decimal:
        """What this generation adds to the plan's cost: its price, or nothing when it
        shares an earlier generation's render (one request is paid for once)."""
        return Decimal(0) if self.state == SHARED else self.cost

    @property
    def due(self) -> Decimal:
        """What running this item would spend now: only new generations cost money."""
        return self.cost if self.state == NEW else Decimal(0)

    @property
    def rendered_seconds(self) -> int:
        """Seconds of video this generation has rendered for it: none when it shares
        another's render. Budgets count these, as they count money."""
        return 0 if self.state == SHARED else self.generation.seconds


@dataclass(frozen=True, slots=True)
class Totals:
    """The figures of a group of plan items (a variant, or the whole plan)."""

    generations: int = 0
    seconds: int = 0  # of video: every generation, shared ones included
    rendered_seconds: int = 0  # distinct requests only: what ``budget.max_seconds`` bounds
    cost: Decimal = Decimal(0)  # distinct requests at the price table: what the plan costs
    due: Decimal = Decimal(0)  # what running it now would spend
    states: Mapping[str, int] = field(default_factory=dict)  # how many items in each state
    # per state, the items' price: for SHARED what sharing saves, for REUSED what was
    # paid before, for NEW what is due
    state_costs: Mapping[str, Decimal] = field(default_factory=dict)

    @property
    def held(self) -> Decimal:
        """The part of the cost already rendered, paid or possibly paid (not due again)."""
        return self.cost - self.due


def totals(items: Iterable[PlanItem]) -> Totals:
    """The one sum of plan items every report shows (rows always add up to it)."""
    generations = seconds = rendered = 0
    cost = due = Decimal(0)
    states: dict[str, int] = {}
    state_costs: dict[str, Decimal] = {}
    for item in items:
        generations += 1
        seconds += item.generation.seconds
        rendered += item.rendered_seconds
        cost += item.charge
        due += item.due
        states[item.state] = states.get(item.state, 0) + 1
        state_costs[item.state] = state_costs.get(item.state, Decimal(0)) + item.cost
    return Totals(generations, seconds, rendered, cost, due, states, state_costs)


@dataclass(frozen=True, slots=True)
class Spent:
    """What a storyboard has spent in its state, from the journal's charges.

    ``charged``: creates the API accepted, at the amount it said (the estimate where it
    said none), refunds excluded. ``unknown``: creates of unknown outcome, at their
    estimate: they may have been charged. Sandbox jobs are never part of a real spend.
    """

    charged: Decimal = Decimal(0)
    unknown: Decimal = Decimal(0)

    @property
    def at_most(self) -> Decimal:
        return self.charged + self.unknown


@dataclass(frozen=True, slots=True)
class Plan:
    """A storyboard's generations, priced, with what its state holds and has spent."""

    name: str
    source: str
    items: tuple[PlanItem, ...]
    budget: Budget
    pricing_version: str
    pricing_source: str = ""
    root: str = ""  # the storyboard's folder: state and renders live beside it
    spent: Spent = Spent()  # what the state says this storyboard has spent already
    timelines: tuple[Timeline, ...] = ()  # each variant's final cut (none in a saved plan)
    # the lock file's pick of each generation (by ``Generation.base_id``) that has one
    picks: Mapping[str, int] = field(default_factory=dict)

    def totals(self) -> Totals:
        return totals(self.items)

    def variant_totals(self) -> dict[str, Totals]:
        return {variant: totals(items) for variant, items in self.by_variant().items()}

    @property
    def total_seconds(self) -> int:
        return self.totals().seconds

    @property
    def due_cost(self) -> Decimal:
        return self.totals().due

    @property
    def pending(self) -> bool:
        """Whether running the plan has anything to do (renders the journal lacks)."""
        return any(i.state not in (REUSED, SHARED) for i in self.items)

    def by_variant(self) -> dict[str, list[PlanItem]]:
        grouped: dict[str, list[PlanItem]] = {}
        for item in self.items:
            grouped.setdefault(item.generation.variant, []).append(item)
        return grouped

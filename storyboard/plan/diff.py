"""Compare two plans generation by generation, and gate on the cost of the change.

A generation is matched by its id (``variant/clip[.take]``) and compared by its hash,
so a reviewer sees what a change adds, removes, changes or leaves alone — and what it
costs: the new total against the old, and what rendering the change needs (added and
changed generations that are not shared with another one).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from storyboard.errors import UsageError
from storyboard.plan.model import Plan, PlanItem
from storyboard.plan.price import parse_usd
from storyboard.plan.pricing import format_usd


class Change(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"
    UNCHANGED = "unchanged"


@dataclass(frozen=True, slots=True)
class GenerationDiff:
    id: str
    variant: str
    change: Change
    old: PlanItem | None
    new: PlanItem | None

    @property
    def seconds(self) -> int:
        item = self.new or self.old
        return item.generation.seconds if item is not None else 0

    @property
    def old_cost(self) -> Decimal:
        return self.old.charge if self.old is not None else Decimal(0)

    @property
    def new_cost(self) -> Decimal:
        return self.new.charge if self.new is not None else Decimal(0)

    reuses_old: bool = False  # the old plan rendered this very request (a renamed clip)

    @property
    def to_render(self) -> Decimal:
        """What this generation costs to render because of the change: nothing when the
        request is unchanged or the old plan already rendered it under another name."""
        if self.change not in (Change.ADDED, Change.CHANGED) or self.reuses_old:
            return Decimal(0)
        return self.new.due if self.new is not None else Decimal(0)


@dataclass(frozen=True, slots=True)
class PickChange:
    """A generation whose keeper the lock file changes: a re-cut, no render, $0."""

    id: str  # the generation's (``Generation.base_id``)
    old: int | None  # the candidate picked; None: no pick (the lowest delivered one)
    new: int | None

    def text(self) -> str:
        def shown(n: int | None) -> str:
            return f"candidate {n}" if n is not None else "no pick"
        return f"{self.id}: {shown(self.old)} → {shown(self.new)}"


@dataclass(frozen=True, slots=True)
class PlanDiff:
    old_label: str  # e.g. "HEAD:examples/launch.yaml", or the old file
    new_label: str
    old: Plan | None  # None: the storyboard did not exist there, or did not compile
    new: Plan
    generations: tuple[GenerationDiff, ...]
    old_note: str = ""  # why there is no old plan, for reports
    picks: tuple[PickChange, ...] = ()  # keepers the lock file changes (re-cut only)

    @property
    def old_total(self) -> Decimal:
        """What the old plan costs (each distinct request once), rendered or not."""
        return self.old.totals().cost if self.old is not None else Decimal(0)

    @property
    def new_total(self) -> Decimal:
        return self.new.totals().cost

    @property
    def delta(self) -> Decimal:
        return self.new_total - self.old_total

    @property
    def to_render(self) -> Decimal:
        return sum((g.to_render for g in self.generations), Decimal(0))

    def count(self, change: Change) -> int:
        return sum(1 for g in self.generations if g.change is change)

    def by_variant(self) -> dict[str, list[GenerationDiff]]:
        grouped: dict[str, list[GenerationDiff]] = {}
        for g in self.generations:
            grouped.setdefault(g.variant, []).append(g)
        return grouped


def diff_plans(old: Plan | None, new: Plan, *, old_label: str, new_label: str,
               old_note: str = "") -> PlanDiff:
    """Generations in the new plan's order, then those only the old plan had."""
    before = {i.generation.id: i for i in old.items} if old is not None else {}
    old_hashes = {i.generation.hash for i in before.values()}
    rows = []
    for item in new.items:
        g = item.generation
        was = before.get(g.id)
        if was is None:
            change = Change.ADDED
        elif was.generation.hash == g.hash:
            change = Change.UNCHANGED
        else:
            change = Change.CHANGED
        rows.append(GenerationDiff(g.id, g.variant, change, was, item,
                                   reuses_old=g.hash in old_hashes))
    now = {i.generation.id for i in new.items}
    rows += [GenerationDiff(i.generation.id, i.generation.variant, Change.REMOVED, i, None)
             for i in (old.items if old is not None else ()) if i.generation.id not in now]
    old_picks = old.picks if old is not None else {}
    ids = dict.fromkeys([*(i.generation.base_id for i in new.items), *old_picks])
    picks = tuple(PickChange(gid, old_picks.get(gid), new.picks.get(gid)) for gid in ids
                  if old_picks.get(gid) != new.picks.get(gid))
    return PlanDiff(old_label, new_label, old, new, tuple(rows), old_note, picks)


# --- gates -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Increase:
    """``--fail-on-increase``: dollars (``2.50``) or a percentage (``10%``)."""

    amount: Decimal
    percent: bool

    @classmethod
    def parse(cls, text: str) -> Increase:
        raw = text.strip()
        percent = raw.endswith("%")
        try:  # the same bounds as any amount typed (1e999 would break the arithmetic)
            amount = parse_usd(raw.rstrip("%"), "--fail-on-increase")
        except UsageError:
            raise UsageError(f"--fail-on-increase {text!r}: give dollars (2.50) or a "
                             "percentage (10%)") from None
        return cls(amount, percent)

    def describe(self) -> str:
        return f"{self.amount}%" if self.percent else f"${format_usd(self.amount)}"


def gate_failures(diff: PlanDiff, *, fail_over: Decimal | None,
                  fail_on_increase: Increase | None) -> list[str]:
    """Why the change breaches a CI gate, one line each; empty when it passes."""
    failures = []
    if fail_over is not None and diff.new_total > fail_over:
        failures.append(f"plan costs ${format_usd(diff.new_total)}, over --fail-over "
                        f"${format_usd(fail_over)}")
    if fail_on_increase is not None and diff.delta > 0:
        if fail_on_increase.percent:
            if diff.old_total == 0:
                breached = True
                shown = "from $0.00"
            else:
                pct = diff.delta / diff.old_total * 100
                breached = pct > fail_on_increase.amount
                shown = f"{pct.quantize(Decimal('0.1'))}%"
        else:
            breached = diff.delta > fail_on_increase.amount
            shown = f"${format_usd(diff.delta)}"
        if breached:
            failures.append(f"cost rises by {shown} (+${format_usd(diff.delta)}) against "
                            f"{diff.old_label}, over --fail-on-increase "
                            f"{fail_on_increase.describe()}")
    return failures

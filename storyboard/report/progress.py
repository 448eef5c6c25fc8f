"""Progress of a run: a live table on a terminal, plain lines everywhere else (CI, logs).

Both consume the executor's ``Event``s; neither knows anything about the API.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO, Any

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from storyboard.plan.model import Plan
from storyboard.plan.pricing import format_usd
from storyboard.results import Event, Result

FINAL = {r.value for r in Result}
SHOWN_IN_PLAIN = {"submitted", "downloading", "journal-failed", "waiting", *FINAL}
STYLE = {"delivered": "green", "reused": "green", "failed": "red", "unknown": "yellow",
         "pending": "yellow", "not started": "dim", "generating": "cyan",
         "queued-remote": "cyan", "downloading": "blue", "creating": "magenta",
         "submitted": "magenta", "queued": "dim", "journal-failed": "red", "waiting": "dim"}


@dataclass
class _Row:
    phase: str = "queued"
    detail: str = ""
    started: float | None = None
    ended: float | None = None


@dataclass
class ProgressState:
    """What the display shows: each generation's phase, elapsed time and money."""

    plan: Plan
    clock: Callable[[], float] = time.monotonic
    rows: dict[str, _Row] = field(default_factory=dict)
    spent: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        self.rows = {i.generation.id: _Row() for i in self.plan.items}

    def update(self, event: Event) -> None:
        row = self.rows.setdefault(event.generation_id, _Row())
        row.phase, row.detail = event.phase, event.detail
        if event.phase == "creating" or (row.started is None and event.phase not in (
                "queued", "reused", "unknown")):
            row.started = row.started or self.clock()
        if event.phase in FINAL:
            row.ended = self.clock()
        if event.phase == "submitted" and event.charged is not None:
            self.spent += event.charged

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for row in self.rows.values():
            key = row.phase if row.phase in FINAL else "in progress"
            counts[key] = counts.get(key, 0) + 1
        return counts

    def headline(self) -> str:
        counts = ", ".join(f"{n} {k}" for k, n in sorted(self.counts().items()))
        return (f"{self.plan.name}: {counts} — spent ${format_usd(self.spent)} of "
                f"${format_usd(self.plan.due_cost)} estimated")

    def elapsed(self, row: _Row) -> str:
        if row.started is None:
            return ""
        return f"{(row.ended or self.clock()) - row.started:.0f}s"


class PlainProgress:
    """One line per meaningful step, for logs and CI."""

    def __init__(self, plan: Plan, stream: IO[str]) -> None:
        self.stream = stream
        self.total = len(plan.items)
        self.finished = 0

    def __enter__(self) -> PlainProgress:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stream.flush()

    def __call__(self, event: Event) -> None:
        if event.phase not in SHOWN_IN_PLAIN:
            return
        if event.phase in FINAL:
            self.finished += 1
        detail = f" {event.detail}" if event.detail else ""
        if event.phase == "submitted":
            detail = f" job {event.detail}"
            if event.charged is not None:
                detail += f", charged ${format_usd(event.charged)}"
        print(f"[{self.finished}/{self.total}] {event.generation_id}: {event.phase}{detail}",
              file=self.stream, flush=True)


class LiveProgress:
    """A live table: each generation's state, elapsed time, and spent vs estimated."""

    MAX_ROWS = 30

    def __init__(self, plan: Plan, console: Console) -> None:
        self.state = ProgressState(plan)
        self.console = console
        self.live = Live(console=console, refresh_per_second=4, transient=False,
                         get_renderable=self._render)

    def __enter__(self) -> LiveProgress:
        self.live.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.live.stop()

    def __call__(self, event: Event) -> None:
        self.state.update(event)

    def _render(self) -> Group:
        table = Table(box=None, pad_edge=False, show_header=True, header_style="bold")
        table.add_column("generation")
        table.add_column("state")
        table.add_column("elapsed", justify="right")
        table.add_column("detail", overflow="ellipsis", max_width=60)
        rows = list(self.state.rows.items())
        active = [r for r in rows if r[1].phase not in FINAL and r[1].phase != "queued"]
        shown = (active + [r for r in rows if r not in active])[: self.MAX_ROWS]
        for gid, row in shown:
            table.add_row(gid, Text(row.phase, style=STYLE.get(row.phase, "")),
                          self.state.elapsed(row), row.detail)
        hidden = len(rows) - len(shown)
        footer = Text(self.state.headline() + (f" ({hidden} more not shown)" if hidden else ""),
                      style="bold")
        return Group(table, footer)


def progress_for(plan: Plan, stream: IO[str]) -> PlainProgress | LiveProgress:
    """A live display on a terminal, plain lines otherwise."""
    console = Console(file=stream)
    if console.is_terminal and not console.is_dumb_terminal:
        return LiveProgress(plan, console)
    return PlainProgress(plan, stream)

"""What a run and a status check produce: data the executor writes and reporters read.

It lives outside ``execute`` so that reporters render results without importing the
executor (an import-linter contract).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from storyboard.journal import Attempt
from storyboard.model import (
    NEW,
    PlanItem,
    Spent,
    candidate_id,
)

if TYPE_CHECKING:
    from storyboard.execute.workspace import Workspace  # a summary names where it ran


class Result(StrEnum):
    DELIVERED = "delivered"
    REUSED = "reused"
    FAILED = "failed"
    UNKNOWN = "unknown"
    PENDING = "pending"  # paid and still running when the run stopped: resume to finish
    NOT_STARTED = "not started"


@dataclass(frozen=True, slots=True)
class Outcome:
    item: PlanItem
    result: Result
    job_id: str | None = None
    charged: Decimal | None = None
    refunded: bool = False
    reason: str | None = None
    file: Path | None = None
    sha256: str | None = None


@dataclass(frozen=True, slots=True)
class Event:
    """A step of one generation, for progress displays."""

    generation_id: str
    phase: str  # queued, creating, queued-remote, generating, downloading, + Result values
    detail: str = ""
    charged: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Callbacks:
    """How a run with callbacks on noticed its finished jobs."""

    url: str  # where creates asked the API to call (scheme, host, port, path)
    received: int  # callbacks that named a job of this run, with its token
    polled: int  # delivered jobs that the safety net's polls found done before any callback


@dataclass(frozen=True, slots=True)
class RunSummary:
    outcomes: tuple[Outcome, ...]
    workspace: Workspace
    interrupted: bool = False
    kept: tuple[str, ...] = ()  # job ids the journal could not take, and where they are
    callbacks: Callbacks | None = None  # with --callback-listen

    def by_result(self, result: Result) -> list[Outcome]:
        return [o for o in self.outcomes if o.result is result]

    @property
    def estimated(self) -> Decimal:
        """What the plan said this run would spend (new generations only)."""
        return sum((o.item.due for o in self.outcomes), Decimal(0))

    @property
    def charged(self) -> Decimal:
        """What the API said it charged for the jobs this run created."""
        return sum((o.charged for o in self.outcomes if o.charged is not None and
                    o.item.state == NEW and not o.refunded), Decimal(0))

    @property
    def unknown(self) -> Decimal:
        """What the creates this run sent whose outcome is unknown may have charged."""
        return sum((o.item.cost for o in self.outcomes
                    if o.result is Result.UNKNOWN and o.item.state == NEW), Decimal(0))

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return 130
        bad = (Result.FAILED, Result.UNKNOWN, Result.PENDING, Result.NOT_STARTED)
        return 1 if any(o.result in bad for o in self.outcomes) else 0


@dataclass(frozen=True, slots=True)
class StatusRow:
    item: PlanItem
    attempt: Attempt | None  # the latest real (API) attempt
    cached: bool
    file: Path | None
    placeholder: Attempt | None = None  # a sandbox's job for it, when no real one exists


@dataclass(frozen=True, slots=True)
class StatusReport:
    rows: tuple[StatusRow, ...]
    others: int  # generations of earlier versions of the storyboard in the journal
    spent: Spent  # what the storyboard has spent in this state (real jobs only)
    picks: Mapping[str, int] = field(default_factory=dict)  # the lock file's (Plan.picks)
    sandbox: bool = False  # the sandbox's placeholders: charges simulated

    def keepers(self) -> set[str]:
        """The candidate ids the final cut takes, of generations with several: the pick,
        else the lowest-numbered rendered one."""
        found: set[str] = set()
        groups: dict[str, list[StatusRow]] = {}
        for row in self.rows:
            if row.item.generation.candidates > 1:
                groups.setdefault(row.item.generation.base_id, []).append(row)
        for base, rows in groups.items():
            if base in self.picks:
                found.add(candidate_id(base, self.picks[base]))
            else:
                found.update(next(([r.item.generation.id] for r in rows if r.cached), []))
        return found

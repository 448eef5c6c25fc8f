"""What every journal is: the record of create attempts the execute phase needs, whatever
keeps it — ``sqlite`` (a state folder, one run at a time) or ``postgres`` (shared by
runners on several machines, each generation claimed before its create).

The rules are the backend's, not the executor's: an attempt is written *before* its create
is sent and again the moment its job id is known, durably, before the call returns; its
status moves only as ``MOVES`` allows; money is Decimal; no API key is ever stored.
A row still ``submitting`` after a crash may or may not have reached the API: it becomes
``unknown`` and is reported, never re-sent blindly. Statuses and the only moves between
them (anything else is a bug and raises)::

    submitting ──created──▶ pending ──done──▶ done ◀─┐ (re-download)
        │  │                   └──failed──▶ failed   │
        │  └──rejected──▶ rejected         done ─────┘
        └──unknown──▶ unknown ──created──▶ pending (its job id found later)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from types import TracebackType
from typing import Any, Protocol

from storyboard.errors import OverBudget
from storyboard.model import Spent

API = "api"  # made by the real job API
SANDBOX = "sandbox"  # made by a sandbox: a placeholder, never a render
ORIGINS = (API, SANDBOX)
ACCEPT_LOST_OPTION = "--accept-lost-journal"
INTERRUPTED = "the previous run stopped while sending the create"
DEFAULT_LEASE = 30.0  # seconds a shared journal's claim outlives a runner that stopped renewing it
Ended = tuple[Any, BaseException | None]  # what a journal call returned, or what it raised


class Status(StrEnum):
    SUBMITTING = "submitting"  # written before the create is sent
    PENDING = "pending"  # the API accepted it: job id known
    DONE = "done"  # downloaded, verified, in the cache
    FAILED = "failed"  # the job failed (maybe refunded)
    REJECTED = "rejected"  # the API refused the create: certainly not run
    UNKNOWN = "unknown"  # sent, outcome unknown: never re-sent blindly


MOVES: dict[Status, frozenset[Status]] = {  # target -> the statuses it may come from
    Status.PENDING: frozenset({Status.SUBMITTING, Status.UNKNOWN}),
    Status.UNKNOWN: frozenset({Status.SUBMITTING}),
    Status.REJECTED: frozenset({Status.SUBMITTING}),
    Status.FAILED: frozenset({Status.PENDING, Status.DONE}),  # DONE: its video was lost
    Status.DONE: frozenset({Status.PENDING, Status.DONE}),
}

@dataclass(frozen=True, slots=True)
class Attempt:
    """One create attempt of one generation, as the journal holds it."""

    attempt_id: int
    hash: str
    generation_id: str
    storyboard: str
    request_json: str
    status: Status
    job_id: str | None
    estimated_usd: Decimal | None
    charged_usd: Decimal | None
    refunded: bool
    url: str | None
    file: str | None
    sha256: str | None
    error: str | None
    created_at: float
    updated_at: float
    job_status: int | None = None  # the API's data.status when the job failed
    origin: str = API  # API or SANDBOX: where the job was made
    api_base: str | None = None  # the URL the create was sent to (None: not recorded)
    runner: str | None = None  # which runner wrote it (a shared journal records it)

    @property
    def sandbox(self) -> bool:
        return self.origin == SANDBOX

    @property
    def charge(self) -> Decimal:
        """What this attempt cost: the amount the API named for an accepted create (its
        estimate where it named none); nothing when refunded or never accepted."""
        if self.job_id is None or self.refunded or self.status is Status.REJECTED:
            return Decimal(0)
        return self.charged_usd if self.charged_usd is not None else (
            self.estimated_usd or Decimal(0))

    @property
    def possible_charge(self) -> Decimal:
        """What a create of unknown outcome may have cost (its estimate); else nothing."""
        if self.job_id is None and self.status in (Status.UNKNOWN, Status.SUBMITTING):
            return self.estimated_usd or Decimal(0)
        return Decimal(0)


def charged_to(attempt: Attempt | None, same_as: str | None) -> Decimal | None:
    """What the API charged for a generation's own job, as every report counts it: none
    for one that shares another's render (the leader's job carries the charge) or that
    has no job."""
    return attempt.charge if attempt and attempt.job_id and same_as is None else None


@dataclass(frozen=True, slots=True)
class Traces:
    """What a state folder and its published renders show was journaled: a journal that
    knows less was lost, or put back from an older copy."""

    cached: int = 0  # videos in the cache
    job_ids: frozenset[str] = frozenset()  # job ids the published manifest lists
    manifest: str = ""  # where they are listed, for the message
    published: int = 0  # videos published under renders/<name>/
    renders: str = ""  # where, for the message


class Journal(Protocol):
    """What the execute phase needs of a journal (``storyboard.journal.open_journal``).

    A *shared* journal is written by several runners at once: a runner ``claim``s a
    generation before it creates (or takes over) its job, keeps the claim alive with
    ``renew`` while it works, and ``release``s it when done; a claim whose runner stops
    renewing it expires and is taken over. A journal that is not shared has one writer
    (its state folder's lock): every claim is granted.

    ``run_batch`` makes calls that were waiting together (the run's journal thread hands
    over all it has) and returns each one's result or error only once all are durable:
    it may commit them together (group commit), never a write before its caller learns
    of it.
    """

    path: Any  # where it is, for messages (a file, or a URL without its password)
    lease: float  # seconds a claim outlives a runner that stopped renewing it
    imported: int  # attempts a shared journal copied in from a state folder's, on opening

    @property
    def exclusive(self) -> bool: ...  # a writer (a reader cannot write)
    @property
    def shared(self) -> bool: ...
    @property
    def runner(self) -> str: ...  # this writer's name in claims and attempts
    @property
    def state_id(self) -> str | None: ...

    def close(self) -> None: ...
    def __enter__(self) -> Journal: ...
    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None: ...

    def begin(self, *, hash: str, generation_id: str, storyboard: str,
              request: Mapping[str, Any], estimated_usd: Decimal, origin: str = API,
              api_base: str | None = None, within: Decimal | None = None) -> int: ...
    def created(self, attempt_id: int, job_id: str, charged_usd: Decimal | None,
                origin: str | None = None) -> None: ...
    def unknown(self, attempt_id: int, error: str) -> None: ...
    def rejected(self, attempt_id: int, error: str) -> None: ...
    def failed(self, attempt_id: int, reason: str, refunded: bool,
               status: int | None) -> None: ...
    def done(self, attempt_id: int, *, url: str | None, file: str, sha256: str) -> None: ...
    def note(self, attempt_id: int, error: str | None) -> None: ...
    def reconcile_interrupted(self) -> list[Attempt]: ...

    def get(self, attempt_id: int) -> Attempt | None: ...
    def latest(self, hash: str, origin: str | None = None) -> Attempt | None: ...
    def latest_all(self, origin: str | None = None) -> dict[str, Attempt]: ...
    def spent(self, storyboard: str, origin: str = API) -> Spent: ...
    def attempts(self, hash: str | None = None) -> list[Attempt]: ...

    def run_batch(self, calls: Sequence[Callable[[], Any]]) -> list[Ended]: ...  # group commit

    def claim(self, hash: str, origin: str) -> bool: ...
    def release(self, hash: str, origin: str) -> None: ...
    def renew(self) -> None: ...
    def free(self, hashes: Iterable[str], origin: str) -> set[str]: ...  # no live claim
    def lost(self) -> str | None: ...  # why a writer would refuse it as lost (JournalLost)


class OneWriter:
    """What a journal with one writer at a time (its folder's lock) says of claims: every
    claim is granted, none needs renewing, nothing is shared."""

    shared = False
    lease = DEFAULT_LEASE  # (no claims to renew)
    imported = 0  # (nothing is copied in)

    def claim(self, hash: str, origin: str) -> bool:
        return True

    def release(self, hash: str, origin: str) -> None:
        pass

    def renew(self) -> None:
        pass

    def free(self, hashes: Iterable[str], origin: str) -> set[str]:
        return set(hashes)


def ended(call: Callable[[], Any]) -> Ended:
    """``call()``'s result, or what it raised."""
    try:
        return call(), None
    except BaseException as exc:  # handed to whoever waits for the call
        return None, exc


def one_by_one(calls: Sequence[Callable[[], Any]]) -> list[Ended]:
    """``run_batch`` without group commit: each call as if made alone."""
    return [ended(call) for call in calls]


def spent_by(attempts: Iterable[Attempt], origin: str) -> Spent:
    """What these attempts (made by ``origin``) cost: charged, and possibly charged."""
    charged = unknown = Decimal(0)
    for attempt in attempts:
        if attempt.origin == origin:
            charged += attempt.charge
            unknown += attempt.possible_charge
    return Spent(charged, unknown)


def check_within(spent: Spent, estimate: Decimal, within: Decimal) -> None:
    """Refuse a create that would take what has been spent past ``within``: checked in
    the same transaction as the attempt is written, so runners sharing a journal cannot
    together spend past a budget each of them keeps."""
    if spent.at_most + estimate > within:
        raise OverBudget(
            f"${spent.at_most:.2f} spent (by every runner sharing this journal) + "
            f"${estimate:.2f} for this create is over the budget of ${within:.2f}")


def check_origin(value: str) -> str:
    if value not in ORIGINS:
        raise ValueError(f"an origin is one of {ORIGINS}, got {value!r}")
    return value


def money_text(value: Decimal) -> str:
    """An amount as the journal keeps it: exact decimal text, never a float."""
    if not isinstance(value, Decimal) or not value.is_finite():
        raise ValueError(f"an amount must be a finite Decimal, got {value!r}")
    return str(value)

"""Execute a plan through the job API: create, poll, download — journaled at every step.

The promise is that no paid job is ever lost and none is paid for twice:

* the journal row of a create is written *before* it is sent and updated the moment
  the job id is known, so a crash leaves either a job id to poll or a row that says
  "outcome unknown" — never a paid job nobody knows about;
* a create whose outcome is unknown is reported, never re-sent, unless the user asks
  (``--resubmit-unknown``);
* finished videos live in a content-addressed cache keyed by the generation's hash, so
  a rerun reuses them, and a changed prompt re-renders only its own generation;
* resume is the same command: pending job ids are polled again, finished videos
  whose files went missing are downloaded again from a freshly queried URL.

``prepare`` decides what each generation needs (under the journal's lock); ``execute``
does it with bounded concurrency and reports progress as events.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import json
import math
import os
import signal
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from storyboard.api.client import (
    API_KEY_ENV,
    DEFAULT_BASE_URL,
    Created,
    JobState,
    Limits,
    RetryPolicy,
    ShortAPIClient,
    Timeouts,
    api_key_from,
    base_url_from,
    identify,
    new_http_client,
)
from storyboard.errors import (
    APIError,
    AuthError,
    DownloadError,
    ExecutionError,
    OutcomeUnknown,
    RetryableAPIError,
    StoryboardError,
    UsageError,
)
from storyboard.execute.rescue import RESCUE_BESIDE_RENDERS, RESCUE_FILE, Kept, adopt, keep
from storyboard.journal.sqlite import API, SANDBOX, Attempt, Journal, Status, Traces, state_id_of
from storyboard.media import require as require_media
from storyboard.model import (
    CANDIDATE_MARK,
    IN_FLIGHT,
    NEW,
    REUSED,
    SHARED,
    UNKNOWN,
    Generation,
    Plan,
    PlanItem,
    Spent,
    candidate_id,
)
from storyboard.plan.price import relative_path
from storyboard.plan.pricing import format_usd
from storyboard.store import file_sha256, is_stale, link_atomic, write_atomic

if TYPE_CHECKING:
    from storyboard.api.sandbox import SandboxConfig

STATE_DIR = ".storyboard"
RENDERS_DIR = "renders"
SANDBOX_DIR = "sandbox"
JOURNAL_RETRY_DELAYS = (0.1, 0.5, 2.0)  # seconds between tries of a failed journal write
MAX_MANIFEST_BYTES = 64 * 1024 * 1024
OWNER_FILE = ".storyboard-state"  # in renders/<name>/: which state folder publishes there


@dataclass(frozen=True, slots=True)
class PollPolicy:
    """How often to ask about a job: a growing interval and a deadline.

    The interval is a fraction of how long the job has run so far (so the delay
    between a job finishing and us noticing stays a small share of its latency),
    bounded below by ``start`` and above by ``maximum``. Timings seen for this model
    (1.5 min for 5 s std, ~5 min for 5 s pro, more for 15 s pro) set the defaults.
    """

    start: float = 5.0
    maximum: float = 30.0
    fraction: float = 0.1
    deadline: float = 60 * 60.0

    def interval(self, elapsed: float) -> float:
        return min(self.maximum, max(self.start, elapsed * self.fraction))


SANDBOX_POLL = PollPolicy(start=0.1, maximum=1.0, deadline=300.0)


@dataclass(frozen=True, slots=True)
class RunOptions:
    concurrency: int = 4  # jobs in flight at once
    poll: PollPolicy = PollPolicy()
    only: tuple[str, ...] = ()  # glob patterns over generation ids
    resubmit_unknown: bool = False
    callback_url: str | None = None
    download_attempts: int = 3  # each with a freshly queried URL


@dataclass(frozen=True, slots=True)
class Workspace:
    """Where a storyboard's state and renders live (beside it unless moved), and whose
    renders a run there makes and reads: the real API's, or a sandbox's."""

    name: str
    state_dir: Path
    out_dir: Path
    sandbox: bool = False

    @classmethod
    def beside(cls, root: Path, name: str, *, state: Path | None = None,
               out: Path | None = None, sandbox: bool = False) -> Workspace:
        """``.storyboard/`` and ``renders/`` beside the storyboard; a sandbox run keeps
        its own (``.storyboard/sandbox/``, ``renders/sandbox/``) so its placeholder
        videos never sit among real renders. Wherever the folders are, the journal's
        origins and the cache's names keep the two apart."""
        sub = SANDBOX_DIR if sandbox else ""
        return cls(name, state or root / STATE_DIR / sub, out or root / RENDERS_DIR / sub,
                   sandbox)

    @property
    def origin(self) -> str:
        return SANDBOX if self.sandbox else API

    def cache_file(self, hash: str) -> Path:
        kind = ".sandbox" if self.sandbox else ""  # a placeholder never takes a render's name
        return self.state_dir / "cache" / hash[:2] / f"{hash}{kind}.mp4"

    def render_file(self, g: Generation) -> Path:
        """Where this try is published: the generation's own path when it is its only
        candidate, else ``<clip>[.<take>]~<n>.mp4`` (the own path then holds the keeper)."""
        keeper = self.keeper_file(g)
        if g.candidates < 2:
            return keeper
        return keeper.with_name(f"{keeper.stem}{CANDIDATE_MARK}{g.candidate}.mp4")

    def keeper_file(self, g: Generation) -> Path:
        take = "" if g.take is None else f".{g.take}"
        return self.out_dir / self.name / g.variant / f"{g.clip}{take}.mp4"

    @property
    def manifest(self) -> Path:
        return self.out_dir / self.name / "manifest.json"

    @property
    def rescue_files(self) -> tuple[Path, ...]:
        """Where job ids the journal could not take are kept (see rescue.py); beside the
        renders only while they are this state's."""
        beside = () if self.published_by_another() else (
            self.out_dir / self.name / RESCUE_BESIDE_RENDERS,)
        return (self.state_dir / RESCUE_FILE, *beside)

    @property
    def owner_file(self) -> Path:
        """Records which state folder publishes into ``renders/<name>/`` (see preflight)."""
        return self.out_dir / self.name / OWNER_FILE

    def owner(self) -> dict[str, Any] | None:
        """The record of which state folder publishes here: its id, and its path relative
        to ``renders/<name>/`` (no absolute path in a generated file)."""
        try:
            data = json.loads(self.owner_file.read_bytes()[:65536])
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) and isinstance(data.get("path"), str) else None

    def owner_record(self, state_id: str) -> dict[str, Any]:
        """This workspace's own record (see ``owner``)."""
        return {"state": state_id,
                "path": relative_path(self.state_dir, self.out_dir / self.name)}

    def publisher(self) -> Path | None:
        """The state folder ``renders/<name>/`` records as its publisher, if any."""
        owner = self.owner()
        return (self.out_dir / self.name / owner["path"]).resolve() if owner else None

    def published_by_another(self) -> bool:
        """Whether ``renders/<name>/`` records another state folder as its publisher: one
        with another path and another id (the same folder recreated, or moved with its
        project, is still this one)."""
        owner, publisher = self.owner(), self.publisher()
        return (owner is not None and publisher != self.state_dir.resolve()
                and owner.get("state") != state_id_of(self.state_dir))

    def traces(self) -> Traces:
        """What this workspace shows was journaled (for ``Journal.open`` to check); a
        manifest published from another state folder is that one's, not evidence."""
        cache = self.state_dir / "cache"
        cached = sum(1 for p in cache.glob("*/*.mp4") if p.is_file())
        if self.published_by_another():
            return Traces(cached)
        renders = self.out_dir / self.name
        published = sum(1 for p in renders.glob("*/*.mp4") if p.is_file())
        return Traces(cached, _job_ids_in(self.manifest), str(self.manifest), published,
                      str(renders))


def _job_ids_in(manifest: Path) -> frozenset[str]:
    """The job ids a published manifest lists (none when it is absent or unreadable)."""
    try:
        with manifest.open("rb") as f:
            data = json.loads(f.read(MAX_MANIFEST_BYTES))
    except (OSError, ValueError, RecursionError):
        return frozenset()
    if not isinstance(data, dict) or not isinstance(data.get("generations"), list):
        return frozenset()
    return frozenset(e["job_id"] for e in data["generations"]
                     if isinstance(e, dict) and isinstance(e.get("job_id"), str))


class Action(StrEnum):
    REUSE = "reuse"  # the cache holds the video
    RESUME = "resume"  # a paid job is pending: poll it
    REFETCH = "refetch"  # a finished job whose file is gone: query for a URL, download
    CREATE = "create"  # submit a new (paid) job
    UNKNOWN = "unknown"  # a create of unknown outcome: report, do not re-send
    SHARE = "share"  # the same request as an earlier generation: wait for it, use its video


_ORIGIN_NAMES = {API: "the real API", SANDBOX: "a sandbox"}

_STATE_OF = {Action.REUSE: REUSED, Action.RESUME: IN_FLIGHT, Action.REFETCH: IN_FLIGHT,
             Action.CREATE: NEW, Action.UNKNOWN: UNKNOWN, Action.SHARE: SHARED}


@dataclass(frozen=True, slots=True)
class Task:
    item: PlanItem
    action: Action
    attempt: Attempt | None


@dataclass(frozen=True, slots=True)
class Prepared:
    plan: Plan  # only the generations in scope, each with its state
    tasks: tuple[Task, ...]
    interrupted: tuple[Attempt, ...]  # creates a crashed run left behind (now unknown)
    damaged: tuple[str, ...] = ()  # ids whose cached video no longer matches its sha256
    adopted: tuple[str, ...] = ()  # job ids a run kept outside the journal, journaled now

    @property
    def creates(self) -> int:
        return sum(1 for t in self.tasks if t.action is Action.CREATE)


def prepare(plan: Plan, journal: Journal, workspace: Workspace,
            options: RunOptions) -> Prepared:
    """What each generation needs, from the journal and the cache."""
    interrupted: tuple[Attempt, ...] = ()
    adopted: tuple[str, ...] = ()
    if journal.exclusive:  # we own the state folder: whatever a crashed run left is ours
        adopted = tuple(adopt(journal, workspace.rescue_files))
        interrupted = tuple(journal.reconcile_interrupted())
        _remove_partial_downloads(workspace)
        _remove_stale_temporaries(workspace, time.time())
    latest = journal.latest_all(workspace.origin)  # a sandbox's jobs are not a run's
    tasks = []
    damaged: list[str] = []
    leaders: dict[str, str] = {}  # hash -> the id of the first generation in scope
    for item in plan.items:
        g = item.generation
        if options.only and not any(fnmatch.fnmatchcase(g.id, p) for p in options.only):
            continue
        attempt = latest.get(g.hash)
        if g.hash in leaders:  # one render serves every generation with this request
            action = Action.SHARE
        else:
            action = _action(attempt, workspace.cache_file(g.hash), options,
                             verify=journal.exclusive)
            if action is Action.REFETCH and workspace.cache_file(g.hash).is_file():
                damaged.append(g.id)
            leaders[g.hash] = g.id
        tasks.append(Task(replace(item, state=_STATE_OF[action],
                                  same_as=leaders[g.hash] if action is Action.SHARE else None),
                          action, attempt))
    if options.only and not tasks:
        raise UsageError(_matches_nothing(options.only, plan))
    return Prepared(replace(plan, items=tuple(t.item for t in tasks),
                            spent=journal.spent(plan.name, workspace.origin)),
                    tuple(tasks), interrupted, tuple(damaged), adopted)


def _matches_nothing(only: Sequence[str], plan: Plan) -> str:
    """Name a few ids that exist, from different variants first: enough to fix the glob."""
    ids = [i.generation.id for i in plan.items]
    first_of_variant: dict[str, str] = {}
    for item in plan.items:
        first_of_variant.setdefault(item.generation.variant, item.generation.id)
    shown = list(dict.fromkeys([*first_of_variant.values(), *ids]))[:3]
    more = f" (and {len(ids) - len(shown)} more)" if len(ids) > len(shown) else ""
    return (f"--only {' '.join(repr(p) for p in only)} matches none of the "
            f"{len(ids)} generations; ids look like {', '.join(shown)}{more}")


def _remove_partial_downloads(workspace: Workspace) -> None:
    """A run killed mid-download leaves its temporary file in the cache (the client's
    ``.<hash>.mp4.*.part``); under the journal's lock no download is running, so each
    one is an orphan. The job is still journaled and is downloaded again."""
    for part in (workspace.state_dir / "cache").glob("*/.*.part"):
        part.unlink(missing_ok=True)


def _remove_stale_temporaries(workspace: Workspace, started: float) -> None:
    """A run killed while publishing leaves ``.<clip>.mp4.<pid>.tmp`` beside the render and
    ``.manifest.json.<pid>.….tmp`` beside the manifest. Only ours (these names, in this
    storyboard's folders), only stale ones (a dead writer, or older than this run)."""
    base = workspace.out_dir / workspace.name
    ours = [*workspace.state_dir.glob(".*.tmp")]
    if not workspace.published_by_another():
        ours += [*base.glob(".manifest.json.*.tmp"), *base.glob("*/.*.mp4.*.tmp")]
    for path in ours:
        if path.is_file() and is_stale(path, started):
            path.unlink(missing_ok=True)


def _action(attempt: Attempt | None, cached: Path, options: RunOptions, *,
            verify: bool) -> Action:
    if attempt is None:  # a file in the cache that no journaled job made is not trusted
        return Action.CREATE
    if attempt.status is Status.DONE:
        if cached.is_file() and cached.stat().st_size > 0 and (
                not verify or attempt.sha256 is None or file_sha256(cached) == attempt.sha256):
            return Action.REUSE
        # missing, or changed in place (renders are hard links to the cache): fetched
        # again by its job id, never created again
        return Action.REFETCH
    if attempt.status is Status.PENDING:  # a file downloaded but never journaled as done
        return Action.RESUME  # is not trusted either: fetched again by its job id
    if attempt.status in (Status.UNKNOWN, Status.SUBMITTING):
        return Action.CREATE if options.resubmit_unknown else Action.UNKNOWN
    return Action.CREATE  # failed or rejected: a rerun tries again


# ------------------------------------------------------------------------- outcomes


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
class RunSummary:
    outcomes: tuple[Outcome, ...]
    workspace: Workspace
    interrupted: bool = False
    kept: tuple[str, ...] = ()  # job ids the journal could not take, and where they are

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


# ------------------------------------------------------------------------ execution


class _Stop:
    """Ctrl-C once: submit nothing new, stop polling, keep the journal. Twice: quit now."""

    def __init__(self) -> None:
        self.event = asyncio.Event()
        self.auth_failed = False
        self.journal_failed: str | None = None  # submit nothing more: it cannot be recorded

    @property
    def requested(self) -> bool:
        return self.event.is_set()

    async def sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.event.wait(), timeout=seconds)


class Executor:
    def __init__(self, prepared: Prepared, *, client: ShortAPIClient, journal: Journal,
                 workspace: Workspace, options: RunOptions,
                 on_event: Callable[[Event], None] = lambda e: None,
                 clock: Callable[[], float] = time.time) -> None:
        self.prepared = prepared
        self.client = client
        self.journal = journal
        self.workspace = workspace
        self.options = options
        self.emit = on_event
        self.clock = clock
        self.stop = _Stop()
        self._renders: dict[str, asyncio.Future[Outcome]] = {}
        self._held: dict[int, Created] = {}  # attempt id -> a job the journal has not taken
        self._hash_of: dict[int, str] = {}
        self.kept: list[str] = []  # what happened to each held job id, for the summary

    async def run(self) -> RunSummary:
        slots = asyncio.Semaphore(max(1, self.options.concurrency))
        # jobs already paid for go first: they hold server capacity already
        order = sorted(self.prepared.tasks, key=lambda t: t.action is Action.CREATE)
        for task in order:
            self.emit(Event(task.item.generation.id, "queued"))
        outcomes = await asyncio.gather(*(self._one(task, slots) for task in order))
        by_id = {o.item.generation.id: o for o in outcomes}
        ordered = tuple(by_id[t.item.generation.id] for t in self.prepared.tasks)
        return RunSummary(ordered, self.workspace, interrupted=self.stop.requested,
                          kept=tuple(self.kept))

    def request_stop(self) -> None:
        self.stop.event.set()

    async def _one(self, task: Task, slots: asyncio.Semaphore) -> Outcome:
        g = task.item.generation
        render = self._render_of(g.hash)
        if task.action is Action.SHARE:
            outcome = self._shared(task.item, await asyncio.shield(render))
        else:
            try:
                outcome = await self._work(task, slots)
            except (StoryboardError, OSError) as exc:
                # a local failure (disk full, a folder where a render should go, the
                # journal) fails this generation only, never the jobs in flight beside it
                held = self._held_for(g.hash)
                outcome = Outcome(task.item, Result.FAILED,
                                  held.job_id if held else self._job_id(g.hash),
                                  held.amount if held else None, reason=_local_failure(exc))
            except BaseException:
                render.cancel()
                raise
            render.set_result(outcome)
        self.emit(Event(g.id, outcome.result.value, outcome.reason or "", outcome.charged))
        return outcome

    def _held_for(self, hash: str) -> Created | None:
        return next((c for a, c in self._held.items() if self._hash_of.get(a) == hash), None)

    def _job_id(self, hash: str) -> str | None:
        """The journaled job id of a generation, if the journal can still say."""
        try:
            attempt = self.journal.latest(hash, self.workspace.origin)
        except StoryboardError:
            return None
        return attempt.job_id if attempt is not None else None

    def _render_of(self, hash: str) -> asyncio.Future[Outcome]:
        """The outcome of rendering one request, awaited by every generation sharing it."""
        if hash not in self._renders:
            self._renders[hash] = asyncio.get_running_loop().create_future()
        return self._renders[hash]

    def _shared(self, item: PlanItem, leader: Outcome) -> Outcome:
        if leader.result in (Result.DELIVERED, Result.REUSED):
            cached = self.workspace.cache_file(item.generation.hash)
            return replace(leader, item=item, charged=None,
                           file=self._publish(item.generation, cached))
        return replace(leader, item=item, charged=None, reason=(
            f"same request as {leader.item.generation.id}: {leader.reason or leader.result}"))

    async def _work(self, task: Task, slots: asyncio.Semaphore) -> Outcome:
        item, attempt = task.item, task.attempt
        if task.action is Action.REUSE:
            return self._reuse(item, attempt)
        if task.action is Action.UNKNOWN:
            assert attempt is not None
            return Outcome(item, Result.UNKNOWN, attempt.job_id,
                           reason=unknown_reason(attempt.error or "the create was sent"))
        async with slots:
            if self.stop.requested:
                return Outcome(item, Result.NOT_STARTED, reason="stopped before submitting")
            if task.action is Action.CREATE and self.stop.journal_failed:
                return Outcome(item, Result.NOT_STARTED, reason=(
                    f"not sent: the journal cannot be written ({self.stop.journal_failed})"))
            if task.action is Action.CREATE:
                created = await self._create(item)
                if isinstance(created, Outcome):
                    return created
                attempt = created
            assert attempt is not None and attempt.job_id is not None
            state = await self._poll(item, attempt)
        if isinstance(state, Outcome):
            return state
        return await self._download(item, attempt, state)

    def _reuse(self, item: PlanItem, attempt: Attempt | None) -> Outcome:
        cached = self.workspace.cache_file(item.generation.hash)
        file = self._publish(item.generation, cached)
        return Outcome(item, Result.REUSED, attempt.job_id if attempt else None,
                       attempt.charge if attempt else None, file=file,
                       sha256=attempt.sha256 if attempt else None)

    async def _create(self, item: PlanItem) -> Attempt | Outcome:
        g = item.generation
        if self.stop.auth_failed:
            return Outcome(item, Result.NOT_STARTED, reason="not sent: the API refused the key")
        try:
            attempt_id = self.journal.begin(hash=g.hash, generation_id=g.id,
                                            storyboard=self.workspace.name,
                                            request=g.request(), estimated_usd=item.cost,
                                            origin=self.workspace.origin,
                                            api_base=self.client.base_url)
        except StoryboardError as exc:
            self.stop.journal_failed = str(exc)
            return Outcome(item, Result.NOT_STARTED, reason=(
                f"not sent: the journal cannot be written ({exc})"))
        self.emit(Event(g.id, "creating"))
        try:
            created = await self.client.create(g.model, g.args,
                                               callback_url=self.options.callback_url)
        except asyncio.CancelledError:
            # quitting at once (a second Ctrl-C) while the create was in flight
            self.journal.unknown(attempt_id, "the run was interrupted while sending the create")
            raise
        except OutcomeUnknown as exc:
            self.journal.unknown(attempt_id, str(exc))
            return Outcome(item, Result.UNKNOWN, reason=unknown_reason(str(exc)))
        except AuthError as exc:
            self.stop.auth_failed = True
            self.journal.rejected(attempt_id, str(exc))
            return Outcome(item, Result.FAILED, reason=str(exc))
        except (RetryableAPIError, APIError) as exc:
            self.journal.rejected(attempt_id, str(exc))
            return Outcome(item, Result.FAILED, reason=f"{exc} (not charged; a rerun retries)")
        origin = SANDBOX if created.sandbox else API
        self.emit(Event(g.id, "submitted", created.job_id, created.amount))
        try:
            await self._journal_retrying(
                lambda: self.journal.created(attempt_id, created.job_id, created.amount, origin))
            found = self.journal.get(attempt_id)
        except StoryboardError as exc:
            return self._hold(item, attempt_id, created, origin, exc)
        if created.sandbox != self.workspace.sandbox:
            return Outcome(item, Result.FAILED, created.job_id, created.amount, reason=(
                f"{self.client.base_url} answered as {_ORIGIN_NAMES[origin]}, but this run "
                f"renders with {_ORIGIN_NAMES[self.workspace.origin]}; job {created.job_id} "
                f"is journaled as {_ORIGIN_NAMES[origin]}'s and not used here — rerun"))
        assert found is not None
        return found

    async def _journal_retrying(self, write: Callable[[], None]) -> None:
        """A journal write that failed is tried again a few times (a full disk may clear)."""
        for delay in JOURNAL_RETRY_DELAYS:
            try:
                write()
                return
            except StoryboardError:
                await asyncio.sleep(delay)
        write()

    def _hold(self, item: PlanItem, attempt_id: int, created: Created, origin: str,
              exc: StoryboardError) -> Attempt:
        """The job is paid but not journaled: submit nothing more, keep its id where the
        next run adopts it, and go on polling and downloading it from memory."""
        g = item.generation
        self.stop.journal_failed = str(exc)
        self._held[attempt_id], self._hash_of[attempt_id] = created, g.hash
        place = keep(Kept(attempt_id, g.hash, g.id, self.workspace.name, g.request(),
                          item.cost, created.job_id, created.amount, origin,
                          self.client.base_url), self.workspace.rescue_files)
        where = (f"kept in {place} for the next run to adopt" if place else
                 "and it could not be written anywhere: keep this job id")
        note = (f"job {created.job_id} was created (it may be charged) but the journal could "
                f"not record it ({exc}); {where}")
        self.kept.append(f"{g.id}: {note}")
        self.emit(Event(g.id, "journal-failed", note))
        now = self.clock()
        return Attempt(attempt_id, g.hash, g.id, self.workspace.name, "", Status.PENDING,
                       created.job_id, item.cost, created.amount, False, None, None, None,
                       None, now, now, origin=origin, api_base=self.client.base_url)

    def _record(self, attempt: Attempt, write: Callable[..., None], *args: Any,
                **fields: Any) -> None:
        """``write(attempt_id, *args, **fields)``: a journal write about ``attempt``. For a
        held one, first try again to journal its job id; while the journal cannot take
        it, the rescue file has it."""
        held = self._held.get(attempt.attempt_id)
        if held is not None:
            try:
                self.journal.created(attempt.attempt_id, held.job_id, held.amount,
                                     attempt.origin)
            except StoryboardError:
                return
            del self._held[attempt.attempt_id]
        write(attempt.attempt_id, *args, **fields)

    async def _poll(self, item: PlanItem, attempt: Attempt) -> JobState | Outcome:
        assert attempt.job_id is not None
        g, policy = item.generation, self.options.poll
        created, polling_since = attempt.created_at, self.clock()
        phase = ""
        while True:
            elapsed = self.clock() - created  # the job's age sets the interval...
            if self.stop.requested:
                return self._left_pending(item, attempt, "stopped while the job ran")
            try:
                state = await self.client.query(attempt.job_id)
            except RetryableAPIError:
                state = None  # the API is busy: ask again at the next interval
            except ExecutionError as exc:
                if attempt.status is Status.DONE:  # e.g. results cleared after 30 days
                    reason = f"the finished video can no longer be fetched: {exc}"
                    self._record(attempt, self.journal.failed, reason, False, None)
                    return Outcome(item, Result.FAILED, attempt.job_id, reason=(
                        f"{reason}; a rerun renders it again (a new, paid job)"))
                self._record(attempt, self.journal.note, str(exc))
                return self._left_pending(item, attempt, f"cannot query the job: {exc}")
            if state is not None:
                if state.done:
                    return state
                if state.failed:
                    reason = state.message or f"job failed with status {state.status}"
                    if attempt.status is Status.DONE:  # its video was lost from the cache
                        reason = f"the finished video can no longer be fetched: {reason}"
                    self._record(attempt, self.journal.failed, reason, state.refunded,
                                 state.status)
                    return Outcome(item, Result.FAILED, attempt.job_id, attempt.charge,
                                   refunded=state.refunded, reason=reason)
                now_phase = "generating" if state.status == 1 else "queued-remote"
                if now_phase != phase:
                    phase = now_phase
                    self.emit(Event(g.id, phase, attempt.job_id))
            if self.clock() - polling_since > policy.deadline:  # ...this run's wait, the end
                note = f"still running after {policy.deadline:.0f} s of waiting"
                self._record(attempt, self.journal.note, note)
                return self._left_pending(item, attempt, note)
            await self.stop.sleep(policy.interval(elapsed))

    def _left_pending(self, item: PlanItem, attempt: Attempt, why: str) -> Outcome:
        return Outcome(item, Result.PENDING, attempt.job_id, attempt.charge, reason=(
            f"{why}; the job is paid and journaled — rerun the same command to pick it up"))

    async def _download(self, item: PlanItem, attempt: Attempt, state: JobState) -> Outcome:
        g = item.generation
        cached = self.workspace.cache_file(g.hash)
        cached.parent.mkdir(parents=True, exist_ok=True)
        url = state.url
        problem = ""
        for n in range(max(1, self.options.download_attempts)):
            if n:  # the URL may have expired: ask for a fresh one
                try:
                    fresh = await self.client.query(attempt.job_id or "")
                    url = fresh.url or url
                except ExecutionError as exc:
                    problem = f"{problem}; re-query failed: {exc}"
            if url is None:
                problem = "the finished job has no video URL"
                continue
            self.emit(Event(g.id, "downloading", attempt.job_id or ""))
            try:
                sha256, _ = await self.client.download(url, cached, expected_seconds=g.seconds)
            except DownloadError as exc:
                problem = str(exc)
                continue
            # relative to the state folder, which moves with the project (and CI caches)
            self._record(attempt, self.journal.done, url=self.client.redact(url),
                         sha256=sha256,
                         file=cached.relative_to(self.workspace.state_dir).as_posix())
            file = self._publish(g, cached)
            return Outcome(item, Result.DELIVERED, attempt.job_id, attempt.charge,
                           file=file, sha256=sha256)
        self._record(attempt, self.journal.note, f"download failed: {problem}")
        return Outcome(item, Result.FAILED, attempt.job_id, attempt.charge, reason=(
            f"download failed: {problem}; the job is paid — rerun to download it again"))

    def _publish(self, g: Generation, cached: Path) -> Path:
        """Place the cached video at renders/<name>/<variant>/<clip>.mp4, atomically."""
        target = self.workspace.render_file(g)
        link_atomic(cached, target)
        return target


def unknown_reason(what_happened: str) -> str:
    """The one sentence for a create of unknown outcome: what happened (as the journal keeps
    it), that it may have been charged, and what to do."""
    return (f"{what_happened}, so the job may exist and be charged; not sent again — check "
            "with the provider, then rerun with --resubmit-unknown to render it")


def _local_failure(exc: StoryboardError | OSError) -> str:
    if isinstance(exc, OSError):
        where = f": {exc.filename}" if exc.filename else ""
        return f"{exc.strerror or exc}{where} (nothing more was charged; a rerun resumes)"
    return str(exc)


# --------------------------------------------------------------------- the manifest


def manifest(summary: RunSummary, journal: Journal, plan: Plan) -> dict[str, Any]:
    """Per generation of the whole plan: id, hash, job id, seconds, estimated cost,
    charged amount, file, sha256, status; and their totals.

    A generation that shares another's render has no cost or charge of its own
    (``same_as`` names it), and a file is listed only when it is this generation's
    current video (the cached render of its request, made where this run renders),
    never a stale one from an earlier version, and never a sandbox's for a real run.
    """
    workspace = summary.workspace
    latest = journal.latest_all(workspace.origin)
    outcomes = {o.item.generation.id: o for o in summary.outcomes}
    base = workspace.out_dir / workspace.name
    entries = []
    charged_total = Decimal(0)
    for item in plan.items:
        g = item.generation
        attempt = latest.get(g.hash)
        outcome = outcomes.get(g.id)
        file = workspace.render_file(g)
        current = (attempt is not None and attempt.status is Status.DONE
                   and _same_file(file, workspace.cache_file(g.hash)))
        charged = (attempt.charge if attempt and attempt.job_id and item.same_as is None
                   else None)
        charged_total += charged or 0
        entries.append({
            "id": g.id,
            "hash": g.hash,
            "job_id": attempt.job_id if attempt else None,
            "seconds": g.seconds,
            "estimated_usd": format_usd(item.charge),
            "charged_usd": format_usd(charged) if charged is not None else None,
            "same_as": item.same_as,
            "file": file.relative_to(base).as_posix() if current else None,
            "sha256": attempt.sha256 if attempt and current else None,
            "status": (outcome.result.value if outcome
                       else "rendered" if current
                       else attempt.status.value if attempt else "not rendered"),
        })
    storyboard = Path(plan.root) / Path(plan.source).name
    return {"name": plan.name, "source": relative_path(storyboard, base),
            "origin": workspace.origin,
            "estimated_usd": format_usd(plan.totals().cost),
            "charged_usd": format_usd(charged_total), "generations": entries}


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.is_file() and (os.path.samefile(a, b) or a.read_bytes() == b.read_bytes())
    except OSError:
        return False


def refuse_placeholders_among_renders(workspace: Workspace) -> None:
    """A sandbox run never publishes over real renders: refuse an ``--out`` whose
    manifest says a real run made it (before anything is sent)."""
    if not workspace.sandbox:
        return
    try:
        made_by = json.loads(workspace.manifest.read_text(encoding="utf-8")).get("origin")
    except (OSError, ValueError, AttributeError):
        return
    if made_by == API:
        raise UsageError(f"{workspace.out_dir}: it holds real renders ({workspace.manifest}); "
                         "a sandbox's placeholder videos never go among them — pass another "
                         "--out for this sandbox run")


def write_manifest(summary: RunSummary, journal: Journal, plan: Plan) -> Path:
    path = summary.workspace.manifest
    data = json.dumps(manifest(summary, journal, plan), indent=2, ensure_ascii=False) + "\n"
    write_atomic(path, data.encode("utf-8"))
    return path


# -------------------------------------------------------------------- running it all


@dataclass(frozen=True, slots=True)
class Api:
    """Where the job API is and how to talk to it. The key is never printed."""

    base_url: str
    api_key: str = field(repr=False)
    rate: float | None = None  # requests per second, all calls together
    connections: int = 16
    # The client's own defaults; tests against a loopback sandbox shorten them.
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    timeouts: Timeouts = field(default_factory=Timeouts)

    @contextlib.asynccontextmanager
    async def client(self) -> AsyncIterator[ShortAPIClient]:
        limits = Limits(max_connections=self.connections,
                        max_keepalive_connections=self.connections)
        async with new_http_client(timeouts=self.timeouts, limits=limits) as http:
            yield ShortAPIClient(http, base_url=self.base_url, api_key=self.api_key,
                                 policy=self.policy, timeouts=self.timeouts, rate=self.rate,
                                 limits=limits)


@contextlib.contextmanager
def sigint_stops(executor: Executor, loop: asyncio.AbstractEventLoop,
                 main: asyncio.Task[Any], on_stop: Callable[[], None]) -> Iterator[None]:
    """First Ctrl-C stops submitting (in-flight creates still get their job ids
    journaled); a second one cancels everything at once."""

    def handler() -> None:
        if executor.stop.requested:
            main.cancel()
        else:
            executor.request_stop()
            on_stop()

    try:
        loop.add_signal_handler(signal.SIGINT, handler)
    except (NotImplementedError, RuntimeError, ValueError):  # not the main thread
        yield
        return
    try:
        yield
    finally:
        loop.remove_signal_handler(signal.SIGINT)


def execute(prepared: Prepared, *, journal: Journal, workspace: Workspace,
            options: RunOptions, api: Api, plan: Plan | None = None,
            on_event: Callable[[Event], None] = lambda e: None,
            on_stop: Callable[[], None] = lambda: None) -> RunSummary:
    """Run the prepared plan to completion (or Ctrl-C) and write the manifest of the
    whole ``plan`` (default: the prepared one; ``--only`` prepares a part of it)."""

    async def main() -> RunSummary:
        async with api.client() as client:
            executor = Executor(prepared, client=client, journal=journal, workspace=workspace,
                                options=options, on_event=on_event)
            task = asyncio.current_task()
            assert task is not None
            with sigint_stops(executor, asyncio.get_running_loop(), task, on_stop):
                return await executor.run()

    try:
        summary = asyncio.run(main())
    except (KeyboardInterrupt, asyncio.CancelledError):
        summary = RunSummary((), workspace, interrupted=True)
    write_manifest(summary, journal, plan or prepared.plan)
    return summary


def on_a_sandbox(*, sandbox: bool, api_base: str | None, env: Mapping[str, str]) -> bool:
    """Whether this run's jobs will be a sandbox's: ``--sandbox``, or an API that says
    it is one (``storyboard sandbox`` on a port, reached with ``--api-base``). The
    public API is not asked; every create's answer is checked all the same."""
    if sandbox:
        return True
    base = base_url_from(api_base, env)
    return base != DEFAULT_BASE_URL and identify(base)


SANDBOX_KEY = "sandbox-key"  # the in-process sandbox never sees the user's real key
SANDBOX_LATENCY = "1"  # seconds per job in `run --sandbox`: quick, yet the progress shows


def sandbox_config(*, sandbox: bool, latency: str | None,
                   faults: Sequence[str]) -> SandboxConfig | None:
    """The in-process sandbox's settings (None: the real API), checked before anything is
    planned or printed. Sandbox options on a real run are refused, never ignored."""
    from storyboard.api.sandbox import Faults, SandboxConfig, parse_latency

    if not sandbox:
        given = [name for name, value in (("--sandbox-fault", faults),
                                          ("--sandbox-latency", latency)) if value]
        if given:
            verb, them = ("apply", "them") if len(given) > 1 else ("applies", "it")
            raise UsageError(f"{' and '.join(given)} only {verb} with --sandbox; add --sandbox "
                             f"to try {them}, or remove {them} to run against the real API")
        return None
    return SandboxConfig(latency=parse_latency(SANDBOX_LATENCY if latency is None else latency),
                         faults=Faults.parse(faults))


@contextlib.contextmanager
def api_for(*, sandbox: SandboxConfig | None, api_base: str | None, env: Mapping[str, str],
            rate: float | None, concurrency: int) -> Iterator[Api]:
    """The API to run against: an in-process sandbox on loopback, or ShortAPI with the key."""
    if rate is not None and not rate > 0:
        raise UsageError("--rate must be a positive number of requests per second")
    # httpcore's pool bookkeeping grows with its size: a few connections beyond the
    # jobs in flight serve creates, polls and downloads (see bench/run_bench.py)
    connections = min(concurrency, 16) + 4
    if sandbox is not None:
        from storyboard.api.sandbox import Sandbox

        with Sandbox(sandbox) as server:
            yield Api(server.base_url, SANDBOX_KEY, rate, connections)
        return
    key = api_key_from(env)
    if key is None:
        raise UsageError(f"{API_KEY_ENV} is not set: export your ShortAPI key, or pass "
                         "--sandbox to run against the local sandbox for free")
    yield Api(base_url_from(api_base, env), key, rate, connections)


def run_options(*, sandbox: bool, concurrency: int, poll_start: float | None,
                poll_max: float | None, job_timeout: float | None, only: Sequence[str] = (),
                resubmit_unknown: bool = False, callback_url: str | None = None) -> RunOptions:
    """Options from the command line: unset values take the defaults (the sandbox's are
    quicker), and every value is checked."""
    require_media("storyboard run")  # it checks every download: say so before paying
    base = SANDBOX_POLL if sandbox else PollPolicy()
    poll = PollPolicy(base.start if poll_start is None else poll_start,
                      base.maximum if poll_max is None else poll_max, base.fraction,
                      base.deadline if job_timeout is None else job_timeout)
    if concurrency < 1:
        raise UsageError("--concurrency must be at least 1")
    if not 0 < poll.start <= poll.maximum < math.inf:  # nan fails every comparison
        raise UsageError("--poll-start must be positive and at most --poll-max (finite)")
    if not 0 < poll.deadline < math.inf:
        raise UsageError("--job-timeout must be positive and finite")
    return RunOptions(concurrency, poll, tuple(only), resubmit_unknown, callback_url)


# --------------------------------------------------------------------------- status


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


def status(plan: Plan, journal: Journal, workspace: Workspace) -> StatusReport:
    """Each generation of the plan as the journal and cache know it: real renders only
    (a sandbox's placeholder is shown as one, never as rendered or charged)."""
    latest = journal.latest_all(API)
    placeholders = journal.latest_all(SANDBOX)
    real = replace(workspace, sandbox=False)
    rows = []
    for item in plan.items:
        g = item.generation
        attempt = latest.get(g.hash)
        file = real.render_file(g)
        cached = (attempt is not None and attempt.status is Status.DONE
                  and real.cache_file(g.hash).is_file())
        rows.append(StatusRow(item, attempt, cached,
                              file if cached and _same_file(file, real.cache_file(g.hash))
                              else None,
                              placeholders.get(g.hash) if attempt is None else None))
    in_plan = {i.generation.hash for i in plan.items}
    others = sum(1 for h, a in latest.items() if h not in in_plan and a.storyboard == plan.name)
    return StatusReport(tuple(rows), others, journal.spent(plan.name, API), plan.picks)


def with_journal(plan: Plan, workspace: Workspace) -> Plan:
    """The plan with what the journal and cache already hold marked (read-only, no lock):
    what ``storyboard plan`` shows and ``--detailed-exitcode`` decides on."""
    if not workspace.state_dir.is_dir():
        return plan
    with Journal.open(workspace.state_dir, exclusive=False) as journal:
        return prepare(plan, journal, workspace, RunOptions()).plan

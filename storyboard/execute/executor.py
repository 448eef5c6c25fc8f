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

``prepare`` decides what each generation needs; the ``Executor`` does it with bounded
concurrency, reporting progress as events (``shared.SharedExecutor`` when runners share
the journal), each journal call awaited from a thread of its own (``journal_thread``);
``entry`` runs it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from typing import Any, TypeVar

from storyboard.api.client import ShortAPIClient
from storyboard.api.contract import STATUS_GENERATING, Created, JobState
from storyboard.errors import (
    APIError,
    AuthError,
    ClaimLost,
    DownloadError,
    ExecutionError,
    OutcomeUnknown,
    OverBudget,
    RetryableAPIError,
    StoryboardError,
)
from storyboard.execute.callbacks import Hints
from storyboard.execute.journal_thread import Cancelled, JournalThread
from storyboard.execute.latency import Expected, expected_for
from storyboard.execute.options import RunOptions
from storyboard.execute.pace import Pace
from storyboard.execute.prepare import Action, Prepared, Task
from storyboard.execute.reasons import local_failure, unknown_reason
from storyboard.execute.rescue import Held, Kept
from storyboard.execute.stop import Stop
from storyboard.execute.workspace import Workspace
from storyboard.journal import API, SANDBOX, Attempt, Journal, Status
from storyboard.model import PlanItem
from storyboard.results import Event, Outcome, Result, RunSummary

JOURNAL_RETRY_DELAYS = (0.1, 0.5, 2.0)  # seconds between tries of a failed journal write
NOT_SENT_CANCELLED = "not sent: the run was cancelled before its create was sent"
_ORIGIN_NAMES = {API: "the real API", SANDBOX: "a sandbox"}
T = TypeVar("T")


class Executor:
    """Creates, polls and downloads a prepared plan's generations, journaled at every step
    (one runner; ``SharedExecutor`` is the one for a journal runners share)."""

    def __init__(self, prepared: Prepared, *, client: ShortAPIClient, journal: Journal,
                 workspace: Workspace, options: RunOptions,
                 on_event: Callable[[Event], None] = lambda e: None,
                 clock: Callable[[], float] = time.time,
                 expected: Expected | None = None, hints: Hints | None = None) -> None:
        self.prepared = prepared
        self.client = client
        self.journal = journal
        self.workspace = workspace
        self.options = options
        self.emit = on_event
        self.clock = clock
        self.stop = Stop()
        self.io = JournalThread(journal.run_batch)  # every journal call of the loop's
        self._renders: dict[str, asyncio.Future[Outcome]] = {}
        self.held = Held(workspace.rescue_files)  # job ids the journal could not take
        self._began: set[str] = set()  # hashes whose attempt this runner journaled
        self.expected = expected or expected_for(prepared.tasks, client)  # sets poll times
        self.pace = Pace(options.poll, self.expected, self.stop, hints)  # callbacks' too

    async def run(self) -> RunSummary:
        slots = asyncio.Semaphore(max(1, self.options.concurrency))
        # jobs already paid for go first: they hold server capacity already
        order = sorted(self.prepared.tasks, key=lambda t: t.action is Action.CREATE)
        for task in order:
            self.emit(Event(task.item.generation.id, "queued"))
        try:
            outcomes = await self._all(order, slots)
        finally:
            self.io.close()
        by_id = {o.item.generation.id: o for o in outcomes}
        ordered = tuple(by_id[t.item.generation.id] for t in self.prepared.tasks)
        return RunSummary(ordered, self.workspace, interrupted=self.stop.requested,
                          kept=tuple(self.held.notes))

    async def _all(self, order: list[Task], slots: asyncio.Semaphore) -> list[Outcome]:
        return await asyncio.gather(*(self._one(task, slots) for task in order))

    async def _render(self, task: Task, slots: asyncio.Semaphore) -> Outcome:
        """Reuse, resume, download or create one generation (``SharedExecutor``: claimed)."""
        return await self._work(task, slots)

    def request_stop(self) -> None:
        self.stop.request()
        self.pace.wake()

    async def _one(self, task: Task, slots: asyncio.Semaphore) -> Outcome:
        g = task.item.generation
        render = self._render_of(g.hash)
        if task.action is Action.SHARE:
            outcome = self._shared(task.item, await asyncio.shield(render))
        else:
            try:
                outcome = await self._render(task, slots)
            except (StoryboardError, OSError) as exc:
                # a local failure (disk full, a folder where a render should go, the
                # journal) fails this generation only, never the jobs in flight beside it
                held = self.held.of(g.hash)
                outcome = Outcome(task.item, Result.FAILED,
                                  held.job_id if held else await self._job_id(g.hash),
                                  held.charged_usd if held else None, reason=local_failure(exc))
            except BaseException:
                render.cancel()
                raise
            render.set_result(outcome)
        self.emit(Event(g.id, outcome.result.value, outcome.reason or "", outcome.charged))
        return outcome

    async def _job_id(self, hash: str) -> str | None:
        """The journaled job id of a generation, if the journal can still say."""
        with contextlib.suppress(StoryboardError):
            attempt = await self.io(self.journal.latest, hash, self.workspace.origin)
            return attempt.job_id if attempt is not None else None
        return None

    def _render_of(self, hash: str) -> asyncio.Future[Outcome]:
        """The outcome of rendering one request, awaited by every generation sharing it."""
        if hash not in self._renders:
            self._renders[hash] = asyncio.get_running_loop().create_future()
        return self._renders[hash]

    def _shared(self, item: PlanItem, leader: Outcome) -> Outcome:
        if leader.result in (Result.DELIVERED, Result.REUSED):
            cached = self.workspace.cache_file(item.generation.hash)
            return replace(leader, item=item, charged=None,
                           file=self.workspace.publish(item.generation, cached))
        return replace(leader, item=item, charged=None, reason=(
            f"same request as {leader.item.generation.id}: {leader.reason or leader.result}"))

    async def _work(self, task: Task, slots: contextlib.AbstractAsyncContextManager[Any]
                    ) -> Outcome:
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
            if task.action is Action.CREATE and self.stop.over_budget:
                return Outcome(item, Result.NOT_STARTED,
                               reason=f"not sent: {self.stop.over_budget}")
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
        self.workspace.to_store(item.generation.hash)  # a bucket store that lacks it gets it
        cached = self.workspace.cache_file(item.generation.hash)
        file = self.workspace.publish(item.generation, cached)
        return Outcome(item, Result.REUSED, attempt.job_id if attempt else None,
                       attempt.charge if attempt else None, file=file,
                       sha256=attempt.sha256 if attempt else None)

    async def _create(self, item: PlanItem) -> Attempt | Outcome:
        """Journal the attempt, send the create, journal its job id: a paid job is never
        without a record (see the module's promise)."""
        g = item.generation
        if self.stop.auth_failed:
            return Outcome(item, Result.NOT_STARTED, reason="not sent: the API refused the key")
        attempt_id = await self._begin(item)
        if isinstance(attempt_id, Outcome):
            return attempt_id
        created = await self._send(item, attempt_id)
        if isinstance(created, Outcome):
            return created
        origin = SANDBOX if created.sandbox else API
        self.emit(Event(g.id, "submitted", created.job_id, created.amount))

        def journal_job_id() -> Attempt | None:  # and read the attempt back, in one call
            self.journal.created(attempt_id, created.job_id, created.amount, origin)
            with contextlib.suppress(StoryboardError):  # (a read is not retried as a write)
                return self.journal.get(attempt_id)
            return None
        try:
            found = (await self._journal_retrying(journal_job_id)
                     or await self.io(self.journal.get, attempt_id))
        except StoryboardError as exc:
            return self._hold(item, attempt_id, created, origin, exc)
        except asyncio.CancelledError as cancelled:  # quitting: keep a job id not journaled
            if not (isinstance(cancelled, Cancelled) and cancelled.made):
                self._hold(item, attempt_id, created, origin, "the run was cancelled")
            raise
        if created.sandbox != self.workspace.sandbox:
            return Outcome(item, Result.FAILED, created.job_id, created.amount, reason=(
                f"{self.client.base_url} answered as {_ORIGIN_NAMES[origin]}, but this run "
                f"renders with {_ORIGIN_NAMES[self.workspace.origin]}; job {created.job_id} "
                f"is journaled as {_ORIGIN_NAMES[origin]}'s and not used here — rerun"))
        assert found is not None
        return found

    async def _begin(self, item: PlanItem) -> int | Outcome:
        """The attempt, journaled before anything is sent; or why nothing is sent."""
        g = item.generation
        try:
            attempt_id = await self.io(self.journal.begin, hash=g.hash, generation_id=g.id,
                                       storyboard=self.workspace.name, request=g.request(),
                                       estimated_usd=item.cost, origin=self.workspace.origin,
                                       api_base=self.client.base_url, within=self._within())
        except Cancelled as cancelled:  # no create is sent once the run is cancelled, so
            if isinstance(cancelled.result, int):  # an attempt written meanwhile says so
                with contextlib.suppress(StoryboardError):
                    await self.io(self.journal.rejected, cancelled.result, NOT_SENT_CANCELLED)
            raise
        except ClaimLost:
            raise
        except OverBudget as exc:
            self.stop.over_budget = str(exc)
            return Outcome(item, Result.NOT_STARTED, reason=f"not sent: {exc}")
        except StoryboardError as exc:
            self.stop.journal_failed = str(exc)
            return Outcome(item, Result.NOT_STARTED, reason=(
                f"not sent: the journal cannot be written ({exc})"))
        self._began.add(g.hash)
        return attempt_id

    async def _send(self, item: PlanItem, attempt_id: int) -> Created | Outcome:
        """The create itself; a failure is journaled as what it certainly is (refused) or
        may be (unknown: it may exist and be charged)."""
        g = item.generation
        self.emit(Event(g.id, "creating"))
        try:
            return await self.client.create(g.model, g.args,
                                            callback_url=self.pace.callback_url(
                                                g.hash, self.options.callback_url))
        except asyncio.CancelledError:
            # quitting at once (a second Ctrl-C) while the create was in flight
            await self.io(self.journal.unknown, attempt_id,
                          "the run was interrupted while sending the create")
            raise
        except OutcomeUnknown as exc:
            await self.io(self.journal.unknown, attempt_id, str(exc))
            return Outcome(item, Result.UNKNOWN, reason=unknown_reason(str(exc)))
        except AuthError as exc:
            self.stop.auth_failed = True
            await self.io(self.journal.rejected, attempt_id, str(exc))
            return Outcome(item, Result.FAILED, reason=str(exc))
        except (RetryableAPIError, APIError) as exc:
            await self.io(self.journal.rejected, attempt_id, str(exc))
            return Outcome(item, Result.FAILED, reason=f"{exc} (not charged; a rerun retries)")

    def _within(self) -> Decimal | None:
        """The budget the journal checks each create against as it is written (a shared
        journal's: ``SharedExecutor``); one runner's plan was checked before it ran."""
        return None

    async def _journal_retrying(self, write: Callable[[], T]) -> T:
        """A journal write that failed is tried again a few times (a full disk may clear)."""
        for delay in JOURNAL_RETRY_DELAYS:
            with contextlib.suppress(StoryboardError):
                return await self.io(write)
            await asyncio.sleep(delay)
        return await self.io(write)

    def _hold(self, item: PlanItem, attempt_id: int, created: Created, origin: str,
              exc: StoryboardError | str) -> Attempt:
        """The job is paid but not journaled: submit nothing more, keep its id where the
        next run adopts it, and go on polling and downloading it from memory."""
        g = item.generation
        self.stop.journal_failed = str(exc)
        kept = Kept(attempt_id, g.hash, g.id, self.workspace.name, g.request(), item.cost,
                    created.job_id, created.amount, origin, self.client.base_url)
        self.emit(Event(g.id, "journal-failed", self.held.hold(kept, exc)))
        return kept.attempt(self.clock())

    async def _record(self, attempt: Attempt, write: Callable[..., None], *args: Any,
                      **fields: Any) -> None:
        """``write(attempt_id, *args, **fields)``: a journal write about ``attempt``. For a
        held one, first try again to journal its job id; while the journal cannot take
        it, the rescue file has it."""
        held = self.held.get(attempt.attempt_id)
        if held is not None:
            try:
                await self.io(self.journal.created, held.attempt_id, held.job_id,
                              held.charged_usd, held.origin)
            except StoryboardError:
                return
            self.held.journaled(held.attempt_id)
        await self.io(write, attempt.attempt_id, *args, **fields)

    async def _poll(self, item: PlanItem, attempt: Attempt) -> JobState | Outcome:
        assert attempt.job_id is not None
        g, policy = item.generation, self.options.poll
        created, polling_since = attempt.created_at, self.clock()
        phase = ""
        await self.pace.first(g, attempt.job_id, fresh=g.hash in self._began,
                              left=policy.deadline)
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
                    await self._record(attempt, self.journal.failed, reason, False, None)
                    return Outcome(item, Result.FAILED, attempt.job_id, reason=(
                        f"{reason}; a rerun renders it again (a new, paid job)"))
                await self._record(attempt, self.journal.note, str(exc))
                return self._left_pending(item, attempt, f"cannot query the job: {exc}")
            if state is not None:
                if state.done:
                    return state
                if state.failed:
                    reason = state.message or f"job failed with status {state.status}"
                    if attempt.status is Status.DONE:  # its video was lost from the cache
                        reason = f"the finished video can no longer be fetched: {reason}"
                    await self._record(attempt, self.journal.failed, reason, state.refunded,
                                       state.status)
                    return Outcome(item, Result.FAILED, attempt.job_id, attempt.charge,
                                   refunded=state.refunded, reason=reason)
                now_phase = "generating" if state.status == STATUS_GENERATING else "queued-remote"
                if now_phase != phase:
                    phase = now_phase
                    self.emit(Event(g.id, phase, attempt.job_id))
            if self.clock() - polling_since > policy.deadline:  # ...this run's wait, the end
                note = f"still running after {policy.deadline:.0f} s of waiting"
                await self._record(attempt, self.journal.note, note)
                return self._left_pending(item, attempt, note)
            await self.pace.wait(g, attempt.job_id, elapsed,
                                 polling_since + policy.deadline - self.clock())

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
            await self._record(attempt, self.journal.done, url=self.client.redact(url),
                               sha256=sha256, file=self.workspace.cache_name(cached))
            if self.workspace.bucket is not None:  # a bucket store gets it (off the loop)
                await asyncio.to_thread(self.workspace.to_store, g.hash)
            return Outcome(item, Result.DELIVERED, attempt.job_id, attempt.charge,
                           file=self.workspace.publish(g, cached), sha256=sha256)
        await self._record(attempt, self.journal.note, f"download failed: {problem}")
        return Outcome(item, Result.FAILED, attempt.job_id, attempt.charge, reason=(
            f"download failed: {problem}; the job is paid — rerun to download it again"))

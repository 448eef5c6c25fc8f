"""Several runners, one journal: a generation's job is created, or taken over from a runner
that stopped, only under this runner's claim on it (see ``journal.postgres``); while another
runner's claim is live, the generation waits — holding no slot — for what that runner
journals, and is then reused (from a shared store) or downloaded again by its job id, for
free. A heartbeat renews this runner's claims; the budget is checked against what every
runner spent, as each create is journaled.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import replace
from decimal import Decimal
from typing import Any

from storyboard.errors import ClaimLost, StoryboardError
from storyboard.execute.executor import Executor
from storyboard.execute.journal_thread import JournalThread
from storyboard.execute.prepare import Action, Task, decide
from storyboard.execute.reasons import unknown_reason
from storyboard.journal import Attempt, Journal, Status
from storyboard.model import IN_FLIGHT, NEW, REUSED, PlanItem
from storyboard.results import Event, Outcome, Result

_HELD = contextlib.nullcontext()  # for work done in a slot its caller holds already


class Waiter:
    """Generations waiting for other runners' claims, looked up together: one query per
    interval for all of them, however many wait."""

    def __init__(self, journal: Journal, io: JournalThread, origin: str, *,
                 interval: float) -> None:
        self.journal = journal
        self.io = io
        self.origin = origin
        self.interval = interval
        self._waiting: dict[str, list[asyncio.Future[None]]] = {}
        self._task: asyncio.Task[None] | None = None

    async def wait(self, hash: str) -> None:
        """Return once no other runner's live claim holds ``hash``."""
        future = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(hash, []).append(future)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._look())
        await future

    async def _look(self) -> None:
        while self._waiting:
            await asyncio.sleep(self.interval)
            try:
                free = await self.io(self.journal.free, list(self._waiting), self.origin)
            except StoryboardError:
                free = set(self._waiting)  # let them try: the error reaches them there
            for hash in free:
                for future in self._waiting.pop(hash, []):
                    if not future.done():
                        future.set_result(None)

    async def close(self) -> None:
        """Stop looking (waits the run gave up on may be left; the journal is not theirs
        once the run is over)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


class SharedExecutor(Executor):
    """The executor for a journal runners share: the claim path for every generation that
    is not simply reused."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.started = self.clock()
        self._waiter = Waiter(self.journal, self.io, self.workspace.origin,
                              interval=min(1.0, self.journal.lease / 4))

    async def _all(self, order: list[Task], slots: asyncio.Semaphore) -> list[Outcome]:
        beat = asyncio.create_task(self._heartbeat())
        try:
            return await super()._all(order, slots)
        finally:
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beat
            await self._waiter.close()

    async def _render(self, task: Task, slots: asyncio.Semaphore) -> Outcome:
        if task.action is Action.REUSE:
            return await self._work(task, slots)
        return self._as_made_here(await self._shared_work(task, slots))

    def _within(self) -> Decimal | None:
        """What every runner has spent on this storyboard bounds each create, checked as
        it is journaled (a sandbox's are not spending)."""
        return None if self.workspace.sandbox else self.prepared.plan.budget.max_cost_usd

    def _as_made_here(self, outcome: Outcome) -> Outcome:
        """A generation this runner planned to create but another runner created: not this
        run's spend (its runner's summary counts it)."""
        item = outcome.item
        if item.state != NEW or item.generation.hash in self._began:
            return outcome
        state = REUSED if outcome.result is Result.REUSED else IN_FLIGHT
        return replace(outcome, item=replace(item, state=state), charged=None)

    async def _shared_work(self, task: Task, slots: asyncio.Semaphore) -> Outcome:
        """A generation other runners may render too (a shared journal): its job is created,
        or taken over from a runner that stopped, only under this runner's claim; while
        another runner's claim is live, wait — holding no slot — for what it journals."""
        item, g, origin = task.item, task.item.generation, self.workspace.origin
        waited = False
        while True:
            latest = await self.io(self.journal.latest, g.hash, origin)
            if latest is not None and self.workspace.bucket is not None:
                await asyncio.to_thread(self.workspace.from_store, latest)  # another's render
            settled = self._settled(item, latest)
            if isinstance(settled, Outcome):
                return settled
            if settled is not None:  # done by now: reuse, or download by its job id
                return await self._work(settled, slots)
            async with slots:
                if self.stop.requested:
                    return Outcome(item, Result.NOT_STARTED, reason="stopped before submitting")
                if await self.io(self.journal.claim, g.hash, origin):
                    try:
                        return await self._claimed(item, slots)
                    except ClaimLost:
                        pass  # another runner took it over while this one was away
                    finally:
                        with contextlib.suppress(StoryboardError):
                            await self.io(self.journal.release, g.hash, origin)
            if not waited:
                waited = True
                self.emit(Event(g.id, "waiting", "for another runner"))
            await self._wait_for_claim(g.hash)

    async def _wait_for_claim(self, hash: str) -> None:
        """Until no other runner's live claim holds ``hash``, or Ctrl-C."""
        freed = asyncio.ensure_future(self._waiter.wait(hash))
        stopped = asyncio.ensure_future(self.stop.event.wait())
        try:
            await asyncio.wait({freed, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in (freed, stopped):
                waiting.cancel()

    async def _claimed(self, item: PlanItem, slots: asyncio.Semaphore) -> Outcome:
        """Under this runner's claim: what the journal holds now decides (the runner that
        held it before may have finished it, or stopped while sending its create)."""
        g = item.generation
        latest = await self.io(self.journal.latest, g.hash, self.workspace.origin)
        if latest is not None and latest.status is Status.SUBMITTING:
            # its runner stopped (its claim lapsed) while sending the create: it may
            # exist and be charged, so it is never sent again blindly
            await self.io(self.journal.unknown, latest.attempt_id, (
                f"runner {latest.runner or '?'} stopped while sending the create"))
            latest = await self.io(self.journal.get, latest.attempt_id)
        settled = self._settled(item, latest)
        if isinstance(settled, Outcome):
            return settled
        task = settled or Task(item, decide(latest, self.workspace.cache_file(g.hash),
                                             self.options, verify=True), latest)
        return await self._work(task, _HELD)

    def _settled(self, item: PlanItem, latest: Attempt | None) -> Task | Outcome | None:
        """What needs no claim: a finished job (reused, or downloaded again by its id), a
        create of unknown outcome (reported), a failure another runner saw during this run
        (reported; the next run tries again). None: it needs the claim."""
        if latest is None:
            return None
        if latest.status is Status.DONE:
            cached = self.workspace.cache_file(item.generation.hash)
            return Task(item, decide(latest, cached, self.options, verify=True), latest)
        if latest.status is Status.UNKNOWN and not self.options.resubmit_unknown:
            return Outcome(item, Result.UNKNOWN, latest.job_id,
                           reason=unknown_reason(latest.error or "the create was sent"))
        if (latest.status in (Status.FAILED, Status.REJECTED) and latest.updated_at >= self.started
                and latest.runner != self.journal.runner):
            return Outcome(item, Result.FAILED, latest.job_id, latest.charge,
                           refunded=latest.refunded, reason=(
                               f"{latest.error or latest.status} (in runner {latest.runner}; "
                               "a rerun tries again)"))
        return None

    async def _heartbeat(self) -> None:
        """Keep this runner's claims alive; a runner that stops renewing them loses them
        after a lease, and another runner takes its generations over. A renewal that
        fails is tried again at the next beat: should the claims lapse meanwhile, ``begin``
        refuses to create what another runner took over, and the journal writes that
        failed say so themselves. Not in the journal thread: a renewal has a connection of
        its own, and a slow write must not let the claims lapse."""
        while True:
            await asyncio.sleep(self.journal.lease / 3)
            with contextlib.suppress(StoryboardError):
                await asyncio.to_thread(self.journal.renew)

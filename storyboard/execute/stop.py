"""How a run stops: Ctrl-C once submits nothing new and stops polling (jobs already created
stay journaled); a second Ctrl-C quits at once. Other reasons to submit nothing more are
kept here too: a refused key, a journal that cannot be written, a spent shared budget."""

from __future__ import annotations

import asyncio


class Stop:
    """Ctrl-C once: submit nothing new, stop polling, keep the journal. Twice: quit now."""

    def __init__(self) -> None:
        self._sleepers: set[asyncio.Future[None]] = set()
        self.event = asyncio.Event()  # set by ``request``
        self.auth_failed = False
        self.journal_failed: str | None = None  # submit nothing more: it cannot be recorded
        self.over_budget: str | None = None  # submit nothing more: the shared budget is spent

    @property
    def requested(self) -> bool:
        return self.event.is_set()

    def request(self) -> None:
        """Stop: set the event, and wake every poll sleeping in ``sleep`` at once."""
        self.event.set()
        for waiter in self._sleepers:
            wake(waiter)

    async def sleep(self, seconds: float) -> None:
        """``seconds``, or less when a stop is requested meanwhile. A timer and a future,
        as ``asyncio.sleep`` has: every job in flight sleeps here between two polls, and
        ``wait_for`` would make (and cancel) a task for each of those sleeps."""
        if self.event.is_set():
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._sleepers.add(waiter)
        try:
            await nap(seconds, waiter)
        finally:
            self._sleepers.discard(waiter)


async def nap(seconds: float, waiter: asyncio.Future[None]) -> None:
    """Until ``waiter`` is woken (``wake``) or ``seconds`` pass."""
    timer = asyncio.get_running_loop().call_later(seconds, wake, waiter)
    try:
        await waiter
    finally:
        timer.cancel()


def wake(waiter: asyncio.Future[None] | None) -> None:
    """End ``waiter``'s nap now (no waiter, or one already woken: nothing to do)."""
    if waiter is not None and not waiter.done():
        waiter.set_result(None)

"""How a run stops: Ctrl-C once submits nothing new and stops polling (jobs already created
stay journaled); a second Ctrl-C quits at once. Other reasons to submit nothing more are
kept here too: a refused key, a journal that cannot be written, a spent shared budget."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class _StopEvent(asyncio.Event):
    """The stop request; setting it also wakes every poll sleeping in ``Stop.sleep``."""

    def __init__(self, on_set: Callable[[], None]) -> None:
        super().__init__()
        self._on_set = on_set

    def set(self) -> None:
        super().set()
        self._on_set()


class Stop:
    """Ctrl-C once: submit nothing new, stop polling, keep the journal. Twice: quit now."""

    def __init__(self) -> None:
        self._sleepers: set[asyncio.Future[None]] = set()
        self.event: asyncio.Event = _StopEvent(self._wake_sleepers)
        self.auth_failed = False
        self.journal_failed: str | None = None  # submit nothing more: it cannot be recorded
        self.over_budget: str | None = None  # submit nothing more: the shared budget is spent

    @property
    def requested(self) -> bool:
        return self.event.is_set()

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

    def _wake_sleepers(self) -> None:
        for waiter in self._sleepers:
            wake(waiter)


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

"""How a run stops: Ctrl-C once submits nothing new and stops polling (jobs already created
stay journaled); a second Ctrl-C quits at once. Other reasons to submit nothing more are
kept here too: a refused key, a journal that cannot be written, a spent shared budget."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class _StopEvent(asyncio.Event):
    """The stop request; setting it also wakes every poll sleeping in ``Stop.sleep``."""

    def __init__(self, wake: Callable[[], None]) -> None:
        super().__init__()
        self._wake = wake

    def set(self) -> None:
        super().set()
        self._wake()


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
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        timer = loop.call_later(seconds, _wake, waiter)
        self._sleepers.add(waiter)
        try:
            await waiter
        finally:
            timer.cancel()
            self._sleepers.discard(waiter)

    def _wake_sleepers(self) -> None:
        for waiter in self._sleepers:
            _wake(waiter)


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)

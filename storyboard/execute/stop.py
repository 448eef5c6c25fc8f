"""How a run stops: Ctrl-C once submits nothing new and stops polling (jobs already created
stay journaled); a second Ctrl-C quits at once. Other reasons to submit nothing more are
kept here too: a refused key, a journal that cannot be written, a spent shared budget."""

from __future__ import annotations

import asyncio
import contextlib


class Stop:
    """Ctrl-C once: submit nothing new, stop polling, keep the journal. Twice: quit now."""

    def __init__(self) -> None:
        self.event = asyncio.Event()
        self.auth_failed = False
        self.journal_failed: str | None = None  # submit nothing more: it cannot be recorded
        self.over_budget: str | None = None  # submit nothing more: the shared budget is spent

    @property
    def requested(self) -> bool:
        return self.event.is_set()

    async def sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.event.wait(), timeout=seconds)

"""When to ask about a job next: the poll schedule (``PollPolicy.interval``), or, with
callbacks on, a callback's hint — at once — or else the sparse safety net
(``PollPolicy.net_interval``), so a lost callback never stalls a job."""

from __future__ import annotations

from storyboard.execute.callbacks import Hints
from storyboard.execute.latency import Expected
from storyboard.execute.options import PollPolicy
from storyboard.execute.stop import Stop
from storyboard.model import Generation


class Pace:
    def __init__(self, policy: PollPolicy, expected: Expected, stop: Stop,
                 hints: Hints | None = None) -> None:
        self.policy, self.expected, self.stop, self.hints = policy, expected, stop, hints

    def callback_url(self, hash: str, given: str | None) -> str | None:
        """What a create sends: ``given`` as it is without a listener, else the URL that
        names this generation (``--callback-url`` or the listener's, plus its hash)."""
        return given if self.hints is None else self.hints.url_for(hash)

    async def first(self, g: Generation, job_id: str, *, fresh: bool, left: float) -> None:
        """Before the first query: a job this run just created is not asked about until its
        callback (or the safety net) says so; one from an earlier run is asked at once."""
        if self.hints is not None and fresh:
            await self.wait(g, job_id, 0.0, left)

    async def wait(self, g: Generation, job_id: str, elapsed: float, left: float) -> None:
        """Until the next query of ``g``'s job, ``elapsed`` seconds old, and at most until
        this run's wait for it ends (``left`` seconds from now: one last look then)."""
        expected = self.expected.of(g.args)
        if self.hints is None:
            await self.stop.sleep(min(self.policy.interval(elapsed, expected), max(0, left)))
        elif not self.stop.requested and await self.hints.wait(
                g.hash, min(self.policy.net_interval(elapsed, expected), max(0, left))):
            self.expected.hinted(job_id)

    def wake(self) -> None:
        """A stop was asked for: no wait goes on."""
        if self.hints is not None:
            self.hints.wake_all()

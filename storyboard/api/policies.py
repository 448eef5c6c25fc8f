"""How the client behaves, built in one place with names: retries, timeouts, connection
limits and the request rate.
"""

from __future__ import annotations

import math
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from storyboard.api.keepalive import keep_alive_cheaply


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently a call is repeated when repeating it is safe.

    ``attempts`` counts every try, the first included. The n-th retry waits
    ``min(max_delay, base_delay * 2**(n-1))`` shortened by up to ``jitter`` of itself
    (so many clients do not retry in step), unless the server said ``Retry-After``:
    then exactly that long. A ``Retry-After`` above ``max_retry_after`` is not slept
    through inside one call; the call gives up and the error carries it.
    """

    attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 30.0
    jitter: float = 0.5
    max_retry_after: float = 120.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("RetryPolicy.attempts must be at least 1")
        if not 0.0 <= self.jitter <= 1.0:
            raise ValueError("RetryPolicy.jitter is a fraction between 0 and 1")
        if self.base_delay < 0 or self.max_delay < 0 or self.max_retry_after < 0:
            raise ValueError("RetryPolicy delays cannot be negative")

    def backoff(self, retry: int, rng: random.Random) -> float:
        """The wait before retry number ``retry`` (1-based) when the server gave none."""
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** (retry - 1))
        return ceiling * (1.0 - self.jitter * rng.random())


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds per phase of one HTTP exchange; downloads get a longer read timeout."""

    connect: float = 10.0
    read: float = 60.0
    write: float = 30.0
    pool: float = 60.0
    download_read: float = 120.0

    def api(self) -> httpx.Timeout:
        return httpx.Timeout(connect=self.connect, read=self.read, write=self.write,
                             pool=self.pool)

    def download(self) -> httpx.Timeout:
        return httpx.Timeout(connect=self.connect, read=self.download_read, write=self.write,
                             pool=self.pool)


@dataclass(frozen=True, slots=True)
class Limits:
    """Sizes and counts that bound what one client may use."""

    max_connections: int = 16
    max_keepalive_connections: int = 8
    max_download_bytes: int = 1 << 30  # a 15 s clip is tens of MB; refuse a runaway body


def new_http_client(*, timeouts: Timeouts = Timeouts(),
                    limits: Limits = Limits()) -> httpx.AsyncClient:
    """The production ``httpx.AsyncClient``: no default headers, no redirects on API calls,
    kept-alive connections checked cheaply (``keepalive``)."""
    pool = httpx.Limits(max_connections=limits.max_connections,
                        max_keepalive_connections=limits.max_keepalive_connections)
    return httpx.AsyncClient(
        timeout=timeouts.api(),
        transport=keep_alive_cheaply(httpx.AsyncHTTPTransport(limits=pool)),
        follow_redirects=False,
    )


class _TokenBucket:
    """One token per ``1/rate`` seconds, no burst beyond one: every call takes a token."""

    def __init__(self, rate: float, sleep: Callable[[float], Awaitable[None]],
                 clock: Callable[[], float]) -> None:
        if not rate > 0:
            raise ValueError("rate must be a positive number of requests per second")
        self._interval = 1.0 / rate
        self._sleep = sleep
        self._clock = clock
        self._next = -math.inf

    async def take(self) -> None:
        # Reserve a slot synchronously (no await in between), so concurrent callers on
        # one event loop queue up in order without a lock.
        now = self._clock()
        slot = max(now, self._next)
        self._next = slot + self._interval
        if slot > now:
            await self._sleep(slot - now)

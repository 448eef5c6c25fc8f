"""How a run is set up: its options (checked where they are typed), and the API it talks to —
ShortAPI with the user's key, or an in-process sandbox on loopback.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import httpx

from storyboard.api.client import ShortAPIClient, api_key_from, base_url_from, identify
from storyboard.api.contract import API_KEY_ENV, DEFAULT_BASE_URL
from storyboard.api.policies import Limits, RetryPolicy, Timeouts, new_http_client
from storyboard.errors import (
    UsageError,
)
from storyboard.execute.callbacks import Listen
from storyboard.execute.latency import Estimate, spacing
from storyboard.media import require as require_media

if TYPE_CHECKING:
    from storyboard.api.sandbox import SandboxConfig


@dataclass(frozen=True, slots=True)
class PollPolicy:
    """How often to ask about a job: an interval between ``start`` and ``maximum``, and a
    deadline.

    With an ``Estimate`` of the job's latency (``storyboard.execute.latency``), polls are
    sparse long before its likely finish and dense around it: ``fraction`` of the elapsed
    time apart at the median, so the delay between a job finishing and us noticing stays
    a small share of its latency, at fewer polls than that fraction everywhere. Without
    one, the interval is that fraction of how long the job has run so far. Timings seen
    for this model (1.5 min for 5 s std, ~5 min for 5 s pro, more for 15 s pro) set the
    defaults.
    """

    start: float = 5.0
    maximum: float = 30.0
    fraction: float = 0.1
    deadline: float = 60 * 60.0

    def interval(self, elapsed: float, expected: Estimate | None = None) -> float:
        gap = elapsed * self.fraction if expected is None else spacing(
            elapsed, expected, self.fraction, self.maximum)
        if expected is not None and not expected.observed:
            # the prior alone is a guess (a sandbox or a stand-in finishes in moments):
            # until a job of this kind is seen finishing, wait no longer than the job's age
            gap = min(gap, elapsed)
        return min(self.maximum, max(self.start, gap))

    def net_interval(self, elapsed: float, expected: Estimate) -> float:
        """With callbacks on, polls are only a safety net for a lost callback: the first
        look waits until the job's latency passes its 95th percentile, later ones are half
        the job's age apart, at most ``NET_STRETCH`` times ``maximum``. Unlike
        ``interval``, a guess from the prior alone is not hedged by polling at the job's
        age: a job that ends sooner says so by its callback, and a lost one waits at most
        that cap."""
        late = expected.median * math.exp(NET_Z * expected.sigma)
        gap = late - elapsed if elapsed < late else elapsed * NET_LATE_FRACTION
        return min(self.maximum * NET_STRETCH, max(self.start, gap))


NET_Z = 1.645  # the safety net's first look: the latency's 95th percentile (z of a normal)
NET_LATE_FRACTION = 0.5  # then this share of the job's age between looks
NET_STRETCH = 10.0  # and at most this many times PollPolicy.maximum
SANDBOX_POLL = PollPolicy(start=0.1, maximum=1.0, deadline=300.0)


@dataclass(frozen=True, slots=True)
class RunOptions:
    concurrency: int = 4  # jobs in flight at once
    poll: PollPolicy = PollPolicy()
    only: tuple[str, ...] = ()  # glob patterns over generation ids
    resubmit_unknown: bool = False
    callback_url: str | None = None  # with callback_listen: where the API reaches it
    callback_listen: Listen | None = None  # listen for callbacks here (polls: a safety net)
    download_attempts: int = 3  # each with a freshly queried URL


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

    def limits(self) -> Limits:
        return Limits(max_connections=self.connections,
                      max_keepalive_connections=self.connections)

    @contextlib.asynccontextmanager
    async def http(self) -> AsyncIterator[httpx.AsyncClient]:
        """The pooled HTTP client a run shares between creates, polls and downloads."""
        async with new_http_client(timeouts=self.timeouts, limits=self.limits()) as http:
            yield http

    def speak(self, http: httpx.AsyncClient) -> ShortAPIClient:
        """The job API over ``http`` (any ``httpx.AsyncClient``: a test's MockTransport too)."""
        return ShortAPIClient(http, base_url=self.base_url, api_key=self.api_key,
                              policy=self.policy, timeouts=self.timeouts, rate=self.rate,
                              limits=self.limits())


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
    # jobs in flight serve creates, polls and downloads (see bench/run_bench.py); the
    # client lets only a few API calls out at once, so the pool opens no more than the
    # downloads in flight need besides
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
                resubmit_unknown: bool = False, callback_url: str | None = None,
                callback_listen: str | None = None) -> RunOptions:
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
    listen = None if callback_listen is None else Listen.parse(callback_listen)
    if listen is not None and listen.host in ("0.0.0.0", "::") and callback_url is None:
        raise UsageError(f"--callback-listen {callback_listen}: listening on every address, "
                         "storyboard cannot tell which one the API reaches; give it as "
                         "--callback-url http://ADDRESS:PORT/")
    return RunOptions(concurrency, poll, tuple(only), resubmit_unknown, callback_url, listen)

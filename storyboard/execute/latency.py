"""When a job will likely finish, and how far apart to poll it: sparsely before, densely around.

A job's latency is set by its mode and duration, and spread by the provider's load. So
this account's latencies are kept per ``(mode, seconds)``: the journal's finished
attempts to start with, then every job this run sees finish. ``Expected`` turns them
into an ``Estimate`` (median and log-normal spread); with none, the prior is the timing
seen for this model (a 5 s std clip ~1.5 min, a 5 s pro clip ~5 min, longer clips in
proportion). Jobs still running count too (Kaplan–Meier): the first jobs to finish are
the fast ones, and a median of those alone would be too short.

``spacing`` is the gap before the next poll. It minimises the polls needed for a given
mean noticing delay: a poll at ``t`` is worth asking when a finish is likely soon, so the
gap grows with ``sqrt(S(t) / f(t))`` (survival over density of the latency), which is
wide long before the expected finish, narrowest around it, and widens again slowly for
a job that runs late. It is scaled so that at the median the gap is ``fraction`` of the
elapsed time, as ``PollPolicy``'s plain rule is there.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from storyboard.api.contract import JobState
    from storyboard.execute.prepare import Task
    from storyboard.journal import Attempt

# seen for this model (other gateways, public clients): a 5 s clip ~1.5 min std, ~5 min pro
PRIOR_SECONDS_PER_SECOND = {"std": 90.0 / 5, "pro": 300.0 / 5}
PRIOR_SIGMA = 0.5  # spread of log-latency assumed before any is seen
PRIOR_WEIGHT = 3.0  # the prior spread counts as this many observations
MIN_SIGMA = 0.1  # polled latencies are never known better than this
KEEP = 256  # latencies kept per (mode, seconds): the recent ones say most about the load
_MILLS_AT_MEDIAN = math.sqrt(math.pi / 2)  # Q(0) / phi(0)

Key = tuple[str, int]


@dataclass(frozen=True, slots=True)
class Estimate:
    """A job's latency, log-normal: ``median`` seconds, ``sigma`` the spread of its log."""

    median: float
    sigma: float
    observed: int = 0  # latencies it rests on (0: the prior)


def key_of(args: Mapping[str, Any]) -> Key:
    """``(mode, seconds)`` of a create's args, with the API's defaults (pro, 5 s)."""
    mode = args.get("mode", "pro")
    duration = args.get("duration", 5)
    return (mode if isinstance(mode, str) else "pro",
            duration if isinstance(duration, int) and not isinstance(duration, bool) else 5)


def prior(key: Key) -> Estimate:
    """What a job of this mode and duration is seen to take elsewhere."""
    mode, seconds = key
    per_second = PRIOR_SECONDS_PER_SECOND.get(mode, PRIOR_SECONDS_PER_SECOND["pro"])
    return Estimate(per_second * max(1, seconds), PRIOR_SIGMA)


def estimate(done: Iterable[float], running: Iterable[float], fallback: Estimate) -> Estimate:
    """The latency of ``done`` jobs' kind, with ``running`` ones (their ages so far) counted
    as censored: the Kaplan–Meier median and quartiles, read as a log-normal."""
    finished = sorted(x for x in done if x > 0)
    if not finished:
        return fallback
    censored = sorted(x for x in running if x > 0)
    quantiles = _km_quantiles(finished, censored, (0.25, 0.5, 0.75))
    q25, median, q75 = quantiles
    if median is None:  # most still run: longer than any seen, by how much is not known
        if finished[-1] < fallback.median * math.exp(-2 * fallback.sigma):
            # the prior is far off (a sandbox, another provider): until half are done,
            # poll as if the oldest running job were at the median
            oldest = censored[-1] if censored else 0.0
            return Estimate(max(finished[-1], oldest), fallback.sigma, len(finished))
        return Estimate(max(fallback.median, finished[-1]), fallback.sigma, len(finished))
    spread = fallback.sigma
    if len(finished) >= 3:
        if q25 is not None and q75 is not None:
            spread = (math.log(q75) - math.log(q25)) / 1.349  # IQR of a normal, in sigmas
        elif q25 is not None:
            spread = (math.log(median) - math.log(q25)) / 0.6745
    n = len(finished)
    sigma = math.sqrt((PRIOR_WEIGHT * fallback.sigma ** 2 + n * spread ** 2) / (PRIOR_WEIGHT + n))
    return Estimate(median, max(MIN_SIGMA, sigma), n)


def _km_quantiles(finished: list[float], censored: list[float],
                  levels: tuple[float, ...]) -> list[float | None]:
    """Times where the Kaplan–Meier distribution reaches each level (None: not yet)."""
    found: list[float | None] = [None] * len(levels)
    survival = 1.0
    c = 0
    for i, t in enumerate(finished):
        while c < len(censored) and censored[c] < t:  # censored before this finish
            c += 1
        at_risk = len(finished) - i + len(censored) - c
        survival *= 1.0 - 1.0 / at_risk
        for j, level in enumerate(levels):
            if found[j] is None and 1.0 - survival >= level:
                found[j] = t
    return found


def spacing(elapsed: float, expected: Estimate, fraction: float,
            maximum: float = math.inf) -> float:
    """Seconds to the next poll of a job ``elapsed`` seconds old, at most ``maximum`` (see
    the module doc). Never so wide that it jumps over the dense part: the gap is also at
    most the one wanted where it would land."""
    first = min(maximum, _gap(elapsed, expected, fraction))
    return min(first, _gap(elapsed + first, expected, fraction))


def _gap(elapsed: float, expected: Estimate, fraction: float) -> float:
    t = max(elapsed, 1e-3 * expected.median)
    z = math.log(t / expected.median) / expected.sigma
    return fraction * math.sqrt(expected.median * t * _mills(z) / _MILLS_AT_MEDIAN)


def _mills(z: float) -> float:
    """Survival over density of the standard normal at ``z`` (inf far below the mean)."""
    if z > 8.0:
        return 1.0 / z  # the asymptote; erfc loses its digits out here
    density = math.exp(-z * z / 2) / math.sqrt(2 * math.pi)
    if density == 0.0:
        return math.inf
    return 0.5 * math.erfc(z / math.sqrt(2)) / density


@dataclass(slots=True)
class _Job:
    key: Key
    born: float
    pending: float  # the last time it was seen still running


class Expected:
    """This account's latencies per ``(mode, seconds)``, and the estimate polls follow.

    Feed it the journal's finished attempts (``from_attempts``) and let a client report
    to it (``ShortAPIClient.watch``): ``created`` when a job is made, ``seen`` on every
    query. A job seen done counts from its create to the middle of its last two polls.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic, keep: int = KEEP) -> None:
        self._clock = clock
        self._keep = keep
        self._done: dict[Key, deque[float]] = {}
        self._jobs: dict[str, _Job] = {}
        self._cache: dict[Key, Estimate] = {}
        self._unused: dict[Key, int] = {}  # latencies seen since the cached estimate

    @classmethod
    def from_attempts(cls, attempts: Iterable[Attempt], *,
                      clock: Callable[[], float] = time.monotonic) -> Expected:
        """Seeded with the journal's finished attempts: journaled before the create was sent
        and marked done once downloaded, so a little longer than the job took."""
        import json

        expected = cls(clock)
        for attempt in attempts:
            if attempt.status != "done" or not attempt.job_id:
                continue
            try:
                args = json.loads(attempt.request_json).get("args", {})
            except (ValueError, AttributeError):
                continue
            if isinstance(args, Mapping):
                expected.observe(key_of(args), attempt.updated_at - attempt.created_at)
        return expected

    def observe(self, key: Key, seconds: float) -> None:
        """One more latency of this kind. The estimate is made again once the new ones are
        a sixteenth of those it rests on: one more of hundreds hardly moves it."""
        if seconds > 0:
            done = self._done.setdefault(key, deque(maxlen=self._keep))
            done.append(seconds)
            unused = self._unused[key] = self._unused.get(key, 0) + 1
            if unused >= max(1, len(done) // 16):
                self._cache.pop(key, None)

    def of(self, args: Mapping[str, Any]) -> Estimate:
        """The estimate for a job made with these args."""
        key = key_of(args)
        cached = self._cache.get(key)
        if cached is None:
            done = self._done.get(key, ())
            running: list[float] = []
            if len(done) < self._keep:  # all seen are kept: done and running are one cohort
                now = self._clock()
                running = [now - job.born for job in self._jobs.values() if job.key == key]
            # once some were let go, the latest finishes alone are a fair sample: running
            # jobs are the long ones (a job in progress is likelier a long one)
            cached = self._cache[key] = estimate(done, running, prior(key))
            self._unused[key] = 0
        return cached

    # -- what a client reports (storyboard.api.client.JobWatch)

    def created(self, job_id: str, args: Mapping[str, Any], at: float) -> None:
        self._jobs[job_id] = _Job(key_of(args), at, at)

    def hinted(self, job_id: str) -> None:
        """A callback came: the job ran until about now (the query it prompts sees it done)."""
        job = self._jobs.get(job_id)
        if job is not None:
            job.pending = max(job.pending, self._clock())

    def seen(self, job_id: str, state: JobState, at: float) -> None:
        job = self._jobs.get(job_id)
        if job is None:
            return
        if state.done:
            del self._jobs[job_id]
            self.observe(job.key, (job.pending + at) / 2 - job.born)
        elif state.failed:
            del self._jobs[job_id]  # a failure's timing says nothing about a render's
        else:
            job.pending = at


def expected_for(tasks: Iterable[Task], client: Any) -> Expected:
    """A run's estimator: seeded with the finished attempts among its tasks (no more
    journal reads), told by ``client`` about every job it creates and sees."""
    expected = Expected.from_attempts(t.attempt for t in tasks if t.attempt is not None)
    watch = getattr(client, "watch", None)
    if watch is not None:
        watch(expected)
    return expected

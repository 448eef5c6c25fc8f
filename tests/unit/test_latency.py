"""Poll times from a job's likely latency: the estimate (prior, journal, this run's jobs)
and the intervals it gives, as exact numbers."""

from __future__ import annotations

import json
import math
from types import SimpleNamespace
from typing import Any

import pytest

from storyboard.api.contract import JobState
from storyboard.execute.latency import Estimate, Expected, estimate, key_of, prior, spacing
from storyboard.execute.options import PollPolicy

STD5 = {"prompt": "p", "mode": "std", "duration": 5}
PENDING = JobState(1, done=False, failed=False, url=None, refunded=False, message=None)
DONE = JobState(2, done=True, failed=False, url="https://x.test/v.mp4", refunded=False,
                message=None)
FAILED = JobState(3, done=False, failed=True, url=None, refunded=True, message="no")


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def attempt(seconds: float, *, status: str = "done", args: Any = STD5) -> SimpleNamespace:
    return SimpleNamespace(status=status, job_id="j", created_at=1000.0,
                           updated_at=1000.0 + seconds,
                           request_json=json.dumps({"model": "m", "args": args}))


def test_the_prior_is_the_timing_seen_per_mode_and_second() -> None:
    assert prior(("std", 5)) == Estimate(90.0, 0.5)  # "about 1.5 minutes on std"
    assert prior(("pro", 5)) == Estimate(300.0, 0.5)  # "about 5 minutes on pro"
    assert prior(("pro", 15)) == Estimate(900.0, 0.5)
    assert key_of({}) == ("pro", 5)  # the API's defaults
    assert key_of({"mode": "std", "duration": 10}) == ("std", 10)


def test_without_an_estimate_the_interval_is_a_share_of_the_elapsed_time() -> None:
    policy = PollPolicy()  # start 5, maximum 30, fraction 0.1
    assert [policy.interval(t) for t in (0, 10, 90, 120, 1000)] == [5.0, 5.0, 9.0, 12.0, 30.0]


def test_with_an_estimate_polls_are_sparse_before_the_median_and_dense_around_it() -> None:
    policy, expected = PollPolicy(), Estimate(90.0, 0.5, observed=12)  # 12 jobs seen
    got = [round(policy.interval(t, expected), 4) for t in (0, 10, 50, 90, 120, 200, 1000)]
    assert got == [24.3953, 15.943, 10.6029, 8.7759, 8.4256, 8.4287, 11.9738]
    assert policy.interval(86_400, expected) == 30.0  # a job resumed a day later: the maximum
    assert PollPolicy(start=0.5, maximum=1.0).interval(0, expected) == 1.0


def test_on_the_prior_alone_no_wait_is_longer_than_the_job_has_run() -> None:
    """The prior (90 s for 5 s std) is a guess: a sandbox or a stand-in finishes in
    milliseconds, and a first wait of 24 s would be all waste. Until one job of the kind is
    seen finishing, each interval is at most the job's age (at least ``start``)."""
    policy, guessed = PollPolicy(), prior(("std", 5))
    got = [round(policy.interval(t, guessed), 4) for t in (0, 10, 50, 90, 120)]
    assert got == [5.0, 10.0, 10.6029, 8.7759, 8.4256]
    fast = PollPolicy(start=0.02, maximum=30.0)  # a stand-in API's run
    assert [fast.interval(t, guessed) for t in (0.0, 0.02, 0.04)] == [0.02, 0.02, 0.04]


def test_at_the_median_the_gap_is_the_fraction_of_the_elapsed_time() -> None:
    # the gap wanted at t is fraction * sqrt(median * t * Q(z) / phi(z) / sqrt(pi / 2)),
    # z = ln(t / median) / sigma; at z = 0 that is fraction * median
    expected = Estimate(90.0, 0.5)
    assert spacing(90.0, expected, 0.1, maximum=9.0) == pytest.approx(8.7759, abs=1e-4)
    z = math.log(99.0 / 90.0) / 0.5
    mills = 0.5 * math.erfc(z / math.sqrt(2)) / (math.exp(-z * z / 2) / math.sqrt(2 * math.pi))
    landing = 0.1 * math.sqrt(90.0 * 99.0 * mills / math.sqrt(math.pi / 2))
    assert spacing(90.0, expected, 0.1) == pytest.approx(min(9.0, landing), rel=1e-12)


def test_the_polls_of_a_whole_job_are_fewer_than_the_plain_rule_makes() -> None:
    def polls(policy: PollPolicy, expected: Estimate | None, until: float) -> list[float]:
        times, t = [], 0.0
        while t < until:
            times.append(round(t, 1))
            t += policy.interval(t, expected)
        return times

    policy = PollPolicy()
    assert polls(policy, Estimate(90.0, 0.5, observed=12), 100) == [
        0.0, 24.4, 36.1, 47.8, 58.6, 68.6, 78.0, 87.1, 95.9]
    assert len(polls(policy, prior(("std", 5)), 100)) == 11  # the prior alone: a hedge
    assert len(polls(policy, None, 100)) == 18


def test_the_journal_seeds_it_with_finished_attempts_of_the_same_mode_and_length() -> None:
    expected = Expected.from_attempts([
        attempt(80), attempt(90), attempt(100), attempt(120),
        attempt(5, status="failed"), attempt(7, args={"mode": "pro", "duration": 5}),
    ])
    got = expected.of(STD5)
    # Kaplan-Meier quartiles 80 / 90 / 100; spread (ln 100 - ln 80) / 1.349, pooled
    # with the prior's 0.5 weighted as 3 latencies
    spread = math.log(100 / 80) / 1.349
    assert (got.median, got.observed) == (90.0, 4)
    assert got.sigma == pytest.approx(math.sqrt((3 * 0.25 + 4 * spread ** 2) / 7), rel=1e-12)
    assert round(got.sigma, 4) == 0.3504
    assert expected.of({"mode": "pro", "duration": 5}) == Estimate(7.0, 0.5, 1)
    assert expected.of({"mode": "pro", "duration": 10}) == prior(("pro", 10))


def test_a_job_seen_done_counts_from_its_create_to_between_its_last_two_polls() -> None:
    clock = Clock()
    expected = Expected(clock)
    expected.created("a", STD5, at=0.0)
    expected.seen("a", PENDING, at=8.0)
    expected.seen("a", DONE, at=12.0)
    expected.created("b", STD5, at=0.0)
    expected.seen("b", FAILED, at=3.0)  # a failure says nothing about a render's time
    expected.seen("unknown", DONE, at=5.0)  # not created here (resumed): no origin
    assert estimate([10.0], [], prior(("std", 5))) == Estimate(10.0, 0.5, 1)
    assert expected.of(STD5) == Estimate(10.0, 0.5, 1)


def test_jobs_still_running_count_so_the_first_fast_ones_do_not_set_the_median() -> None:
    clock = Clock()
    expected = Expected(clock)
    for job, done_at in (("a", 10.0), ("b", 20.0), ("c", None), ("d", None)):
        expected.created(job, STD5, at=0.0)
        if done_at is not None:
            expected.seen(job, PENDING, at=done_at)
            expected.seen(job, DONE, at=done_at)
    clock.now = 30.0
    # done alone: a median of 15; with two jobs still running at 30 s, half finish by 20
    assert expected.of(STD5).median == 20.0
    assert estimate([10.0, 20.0], [], Estimate(90.0, 0.5)).median == 10.0


def test_while_most_still_run_the_median_is_the_prior_or_the_longest_seen() -> None:
    running = [50.0] * 9
    assert estimate([40.0], running, Estimate(90.0, 0.5)) == Estimate(90.0, 0.5, 1)
    assert estimate([40.0], running, Estimate(20.0, 0.5)) == Estimate(40.0, 0.5, 1)


def test_a_prior_far_off_gives_way_to_the_oldest_running_job_until_half_are_done() -> None:
    # a 3 s job where the prior says 90 s (below 90 * e^-1 = 33 s): as if 5 s were the median
    assert estimate([3.0], [5.0, 4.0, 5.0], Estimate(90.0, 0.5)) == Estimate(5.0, 0.5, 1)
    assert estimate([3.0], [], Estimate(90.0, 0.5)) == Estimate(3.0, 0.5, 1)


def test_the_spread_never_falls_below_what_polling_can_tell() -> None:
    assert estimate([10.0] * 50, [], Estimate(90.0, 0.5)).sigma >= 0.1
    assert estimate([10.0] * 50, [], Estimate(90.0, 0.5)).median == 10.0


def test_among_hundreds_one_more_latency_waits_for_a_sixteenth_more() -> None:
    expected = Expected()
    for _ in range(160):
        expected.observe(("std", 5), 10.0)
    assert expected.of(STD5).median == 10.0
    for _ in range(9):  # fewer than 169 // 16 = 10 new ones: the estimate stands
        expected.observe(("std", 5), 50.0)
    assert expected.of(STD5).median == 10.0
    expected.observe(("std", 5), 50.0)
    assert expected.of(STD5).observed == 170


def test_once_some_latencies_were_let_go_running_jobs_no_longer_count() -> None:
    clock = Clock()
    expected = Expected(clock, keep=2)
    expected.created("long", STD5, at=0.0)  # still running at 100 s
    expected.created("longer", STD5, at=0.0)
    expected.observe(("std", 5), 10.0)
    clock.now = 100.0
    assert expected.of(STD5).median == 100.0  # 1 of 3 done, the prior far off: the oldest
    expected.observe(("std", 5), 10.0)
    expected.observe(("std", 5), 20.0)  # the first 10 is let go
    assert expected.of(STD5) == Estimate(10.0, 0.5, 2)  # the two kept, alone


def test_with_callbacks_the_safety_net_looks_late_and_trusts_the_callback_over_the_prior() -> None:
    from storyboard.execute.options import NET_STRETCH, PollPolicy

    policy = PollPolicy(start=5.0, maximum=30.0)
    seen = Estimate(median=100.0, sigma=0.5, observed=40)
    p95 = 100.0 * math.exp(1.645 * 0.5)  # 227.6 s
    assert policy.net_interval(0.0, seen) == pytest.approx(p95)  # one look, after most end
    assert policy.net_interval(200.0, seen) == pytest.approx(p95 - 200.0)
    assert policy.net_interval(226.0, seen) == 5.0  # never sooner than --poll-start
    assert policy.net_interval(240.0, seen) == 120.0  # late: half the job's age
    assert policy.net_interval(1000.0, seen) == 30.0 * NET_STRETCH  # and at most 300 s
    # the prior alone: no polling at the job's age (interval's hedge); the callback says
    # when a quicker job ends, and a lost one waits at most the cap
    guess = Estimate(median=90.0, sigma=0.5)
    assert policy.net_interval(0.0, guess) == pytest.approx(90.0 * math.exp(1.645 * 0.5))
    assert policy.interval(0.0, guess) == 5.0  # polling alone does hedge

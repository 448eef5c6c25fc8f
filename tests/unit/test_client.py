"""The ShortAPI client against ``httpx.MockTransport``: what it sends, and when it re-sends."""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from storyboard.api.client import ShortAPIClient, api_key_from, base_url_from, identify
from storyboard.api.contract import DEFAULT_BASE_URL, Created, JobState, parse_retry_after
from storyboard.api.policies import Limits, RetryPolicy
from storyboard.errors import (
    APIError,
    AuthError,
    DownloadError,
    OutcomeUnknown,
    RetryableAPIError,
    UsageError,
)
from storyboard.media.placeholder import Placeholder, render

BASE = "https://api.test"
KEY = "sk-UNIT-6f1c0ffee-DO-NOT-LEAK"
MODEL = "kwaivgi/kling-o3/text-to-video"
ARGS = {"prompt": "a lighthouse at dawn", "mode": "pro", "duration": 5,
        "aspect_ratio": "16:9", "sound": "off", "multi_shot": False}
NO_JITTER = RetryPolicy(attempts=6, base_delay=0.5, max_delay=30.0, jitter=0.0)

Step = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


class Server:
    """A scripted API: answers each request with the next step (the last one repeats)."""

    def __init__(self, *steps: Step) -> None:
        self.steps = list(steps)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = self.steps.pop(0) if len(self.steps) > 1 else self.steps[0]
        if isinstance(step, Exception):
            raise step
        if isinstance(step, httpx.Response):
            return step
        return step(request)

    def paths(self, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path == path]

    @property
    def creates(self) -> int:
        return len(self.paths("/api/v1/job/create"))


def ok(data: dict[str, Any], **extra: Any) -> httpx.Response:
    return httpx.Response(200, json={"code": 0, "data": data, **extra})


def created(job_id: str = "job-1", amount: str | None = "0.475") -> httpx.Response:
    data: dict[str, Any] = {"job_id": job_id}
    if amount is not None:
        data["amount"] = amount
    return ok(data)


def run(server: Server, call: Callable[[ShortAPIClient], Awaitable[Any]], *,
        policy: RetryPolicy = NO_JITTER, **options: Any) -> tuple[Any, list[float]]:
    """Run one client call on a fresh event loop; returns (result, the delays it slept)."""
    delays: list[float] = []

    async def sleep(seconds: float) -> None:
        delays.append(seconds)

    async def main() -> Any:
        async with httpx.AsyncClient(transport=httpx.MockTransport(server)) as http:
            client = ShortAPIClient(http, base_url=BASE, api_key=KEY, policy=policy,
                                    rng=random.Random(7), sleep=sleep, **options)
            return await call(client)

    return asyncio.run(main()), delays


def fails(server: Server, call: Callable[[ShortAPIClient], Awaitable[Any]],
          kind: type[Exception], **options: Any) -> tuple[Exception, list[float]]:
    caught: list[Exception] = []

    async def guarded(client: ShortAPIClient) -> None:
        with pytest.raises(kind) as info:
            await call(client)
        caught.append(info.value)

    _, delays = run(server, guarded, **options)
    error = caught[0]
    assert KEY not in str(error) and KEY not in repr(error)
    return error, delays


def create(client: ShortAPIClient) -> Awaitable[Created]:
    return client.create(MODEL, ARGS)


# ------------------------------------------------------------------------------- create


def test_create_sends_the_documented_request_and_reads_data_job_id() -> None:
    server = Server(created("job-42", "0.475"))
    result, delays = run(server, lambda c: c.create(MODEL, ARGS,
                                                     callback_url="https://example.org/hook"))
    assert result == Created(job_id="job-42", amount=Decimal("0.475"))
    assert delays == []
    (request,) = server.requests
    assert request.method == "POST"
    assert str(request.url) == f"{BASE}/api/v1/job/create"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.content) == {"model": MODEL, "args": ARGS,
                                           "callback_url": "https://example.org/hook"}


def test_create_without_callback_sends_no_callback_url() -> None:
    server = Server(created())
    run(server, create)
    assert json.loads(server.requests[0].content) == {"model": MODEL, "args": ARGS}


@pytest.mark.parametrize(("data", "amount"), [
    ({"job_id": "j", "amount": "0.02"}, Decimal("0.02")),
    ({"job_id": "j", "amount": 0.1}, Decimal("0.1")),  # a JSON number stays exact
    ({"job_id": "j"}, None),
    ({"job_id": "j", "amount": "n/a"}, None),  # a bad amount never costs us the job id
])
def test_create_amount_is_an_exact_decimal(data: dict[str, Any], amount: Decimal | None) -> None:
    result, _ = run(Server(ok(data)), create)
    assert result == Created(job_id="j", amount=amount)
    assert result.amount is None or str(result.amount) == str(amount)


def test_top_level_job_id_is_not_a_job_id() -> None:
    server = Server(httpx.Response(200, json={"code": 0, "job_id": "top", "data": {}}))
    error, delays = fails(server, create, OutcomeUnknown)
    assert server.creates == 1 and delays == []
    assert str(error) == "the create was sent but the API answered HTTP 200 without a job id"


def test_503_then_success_is_retried_with_backoff() -> None:
    server = Server(httpx.Response(503), httpx.Response(503), created("job-3"))
    result, delays = run(server, create)
    assert result.job_id == "job-3"
    assert server.creates == 3
    assert delays == [0.5, 1.0]


def test_backoff_grows_caps_and_jitters_with_the_injected_rng() -> None:
    policy = RetryPolicy(attempts=8, base_delay=1.0, max_delay=10.0, jitter=0.5)
    server = Server(httpx.Response(429))
    _, delays = fails(server, create, RetryableAPIError, policy=policy)
    assert server.creates == 8
    rng = random.Random(7)
    assert delays == [min(10.0, 2.0**n) * (1 - 0.5 * rng.random()) for n in range(7)]
    assert all(min(10.0, 2.0**n) / 2 <= d <= min(10.0, 2.0**n) for n, d in enumerate(delays))


def test_429_honours_retry_after_seconds() -> None:
    server = Server(httpx.Response(429, headers={"Retry-After": "7"}), created())
    _, delays = run(server, create)
    assert server.creates == 2
    assert delays == [7.0]


def test_503_honours_retry_after_http_date() -> None:
    past = "Wed, 21 Oct 2015 07:28:00 GMT"  # already passed: retry at once
    server = Server(httpx.Response(503, headers={"Retry-After": past}), created())
    _, delays = run(server, create)
    assert delays == [0.0]


def test_parse_retry_after() -> None:
    now = 1_445_412_000.0  # 2015-10-21 07:20:00 UTC
    assert parse_retry_after("120", now) == 120.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now) == 480.0
    assert parse_retry_after("-5", now) == 0.0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


def test_retry_after_beyond_the_policy_gives_up_at_once_and_says_when() -> None:
    server = Server(httpx.Response(429, headers={"Retry-After": "3600"}), created())
    error, delays = fails(server, create, RetryableAPIError)
    assert server.creates == 1 and delays == []
    assert isinstance(error, RetryableAPIError)
    assert (error.status, error.retry_after) == (429, 3600.0)


def test_code_3000_in_a_200_is_retried() -> None:
    busy = httpx.Response(200, json={"code": 3000, "message": "model busy"})
    server = Server(busy, busy, created("job-9"))
    result, delays = run(server, create)
    assert result.job_id == "job-9"
    assert server.creates == 3 and delays == [0.5, 1.0]


def test_retryable_failures_run_out_as_retryable_api_error() -> None:
    server = Server(httpx.Response(200, json={"code": 3000, "msg": "model busy"}))
    error, delays = fails(server, create, RetryableAPIError)
    assert server.creates == 6 and len(delays) == 5
    assert isinstance(error, RetryableAPIError)
    assert (error.status, error.code) == (200, 3000)
    assert "model busy" in str(error) and "6 attempts" in str(error)


@pytest.mark.parametrize("exc", [httpx.ConnectError("refused"), httpx.ConnectTimeout("slow"),
                                 httpx.PoolTimeout("pool")])
def test_failures_before_sending_are_retried(exc: Exception) -> None:
    server = Server(exc, exc, created("job-5"))
    result, delays = run(server, create)
    assert result.job_id == "job-5"
    assert server.creates == 3 and delays == [0.5, 1.0]


def test_connection_refused_every_time_is_retryable_not_unknown() -> None:
    server = Server(httpx.ConnectError("Connection refused"))
    error, _ = fails(server, create, RetryableAPIError)
    assert server.creates == 6
    assert "nothing was sent" in str(error)


DROPPED = "the create was sent but the connection dropped before the reply"


@pytest.mark.parametrize(("exc", "message"), [
    (httpx.ReadTimeout("timed out"), "the create was sent but no reply came in time"),
    (httpx.WriteTimeout("timed out"), "the create was sent but no reply came in time"),
    (httpx.RemoteProtocolError("Server disconnected without sending a response."), DROPPED),
    (httpx.ReadError("connection reset"), DROPPED),
    (httpx.WriteError("broken pipe"), DROPPED),
    (httpx.TransportError("something else"), DROPPED),
])
def test_failures_after_sending_began_are_unknown_and_never_resent(exc: Exception,
                                                                   message: str) -> None:
    server = Server(exc, created("must-not-be-reached"))
    error, delays = fails(server, create, OutcomeUnknown)
    assert server.creates == 1 and delays == []
    assert str(error) == message  # what happened, in words: no library text


@pytest.mark.parametrize("response", [
    httpx.Response(500),
    httpx.Response(502, text="Bad Gateway"),
    httpx.Response(504),
    httpx.Response(500, json={"code": 3000, "message": "busy"}),
    httpx.Response(200, text="<html>maintenance</html>"),
    httpx.Response(200, json=["not", "an", "object"]),
    httpx.Response(200, json={"code": 0}),
    httpx.Response(200, json={"code": 0, "data": {"job_id": ""}}),
    httpx.Response(200, json={"code": "zero", "data": {"job_id": "j"}}),
    httpx.Response(302, headers={"Location": "https://elsewhere.test/"}),
    httpx.Response(200, json={"code": 1, "data": {"job_id": "contradiction"}}),
], ids=["500", "502", "504", "500-code-3000", "html-200", "list-200", "no-data", "empty-id",
        "bad-code", "302", "error-code-with-job-id"])
def test_replies_that_may_hide_a_created_job_are_unknown(response: httpx.Response) -> None:
    server = Server(response, created("must-not-be-reached"))
    _, delays = fails(server, create, OutcomeUnknown)
    assert server.creates == 1 and delays == []


@pytest.mark.parametrize(("response", "kind", "text"), [
    (httpx.Response(400, json={"code": 1001, "message": "prompt too long"}), APIError,
     "prompt too long"),
    (httpx.Response(200, json={"code": 1002, "msg": "insufficient balance"}), APIError,
     "insufficient balance"),
    (httpx.Response(422, json={"info": "duration must be 3..15"}), APIError, "3..15"),
    (httpx.Response(404, text="not found"), APIError, "HTTP 404"),
    (httpx.Response(401, json={"code": 401, "message": "invalid token"}), AuthError,
     "SHORTAPI_KEY"),
    (httpx.Response(403), AuthError, "HTTP 403"),
])
def test_refused_creates_are_not_retried(response: httpx.Response, kind: type[APIError],
                                         text: str) -> None:
    server = Server(response, created("must-not-be-reached"))
    error, delays = fails(server, create, kind)
    assert type(error) is kind
    assert server.creates == 1 and delays == []
    assert text in str(error)


# -------------------------------------------------------------------------------- query


@pytest.mark.parametrize(("data", "expected"), [
    ({"status": 0}, JobState(0, done=False, failed=False, url=None, refunded=False,
                             message=None)),
    ({"status": 1}, JobState(1, done=False, failed=False, url=None, refunded=False,
                             message=None)),
    ({"status": 2, "result": {"videos": [{"url": "https://cdn.test/v.mp4"}]}},
     JobState(2, done=True, failed=False, url="https://cdn.test/v.mp4", refunded=False,
              message=None)),
    ({"status": "2", "result": {"videos": [{"url": "https://cdn.test/v.mp4"}, {"url": "x"}]}},
     JobState(2, done=True, failed=False, url="https://cdn.test/v.mp4", refunded=False,
              message=None)),
    ({"status": 3, "refunded": True, "msg": "content policy"},
     JobState(3, done=False, failed=True, url=None, refunded=True, message="content policy")),
    ({"status": 4, "info": "upstream   timeout"},
     JobState(4, done=False, failed=True, url=None, refunded=False,
              message="upstream timeout")),
    ({"status": 7}, JobState(7, done=False, failed=True, url=None, refunded=False,
                             message=None)),
])
def test_query_maps_statuses(data: dict[str, Any], expected: JobState) -> None:
    server = Server(ok(data, message="success"))
    state, _ = run(server, lambda c: c.query("job-1"))
    assert state == expected
    (request,) = server.requests
    assert request.method == "GET"
    assert request.url.path == "/api/v1/job/query"
    assert request.url.params["id"] == "job-1"
    assert request.headers["authorization"] == f"Bearer {KEY}"


def test_query_failure_reason_from_the_envelope() -> None:
    reply = httpx.Response(200, json={"code": 0, "message": "generation failed: NSFW",
                                      "refunded": True, "data": {"status": 3}})
    state, _ = run(Server(reply), lambda c: c.query("job-1"))
    assert (state.failed, state.refunded, state.message) == (True, True,
                                                             "generation failed: NSFW")


def test_query_retries_freely_then_answers() -> None:
    server = Server(
        httpx.Response(500),
        httpx.ReadTimeout("slow"),
        httpx.Response(200, json={"code": 3000, "message": "busy"}),
        httpx.Response(200, text="<html>"),
        httpx.Response(429, headers={"Retry-After": "3"}),
        ok({"status": 1}),
    )
    state, delays = run(server, lambda c: c.query("job-1"))
    assert state.pending
    assert len(server.requests) == 6
    assert delays == [0.5, 1.0, 2.0, 4.0, 3.0]


def test_every_poll_of_a_job_sends_the_same_request() -> None:
    """One request per job is built and sent for each poll (and retry): the same URL,
    key, headers and timeout every time, with the job id encoded."""
    server = Server(httpx.ReadTimeout("slow"), ok({"status": 1}), ok({"status": 1}),
                    ok({"status": 2, "result": {"videos": [{"url": "https://cdn.test/v.mp4"}]}}),
                    ok({"status": 1}))

    async def polls(client: ShortAPIClient) -> list[JobState]:
        states = [await client.query("job 1/a") for _ in range(3)]
        return [*states, await client.query("job-2")]

    states, _ = run(server, polls)
    assert [s.status for s in states] == [1, 1, 2, 1]
    first, *again = server.requests[:4]
    for request in again:
        assert (request.method, request.url, request.headers.raw, request.extensions) == (
            first.method, first.url, first.headers.raw, first.extensions)
    assert str(first.url) == f"{BASE}/api/v1/job/query?id=job+1%2Fa"
    assert first.headers["authorization"] == f"Bearer {KEY}"
    assert first.headers["accept"] == "application/json"
    assert first.extensions["timeout"] == {"connect": 10.0, "read": 60.0, "write": 30.0,
                                           "pool": 60.0}
    assert str(server.requests[4].url) == f"{BASE}/api/v1/job/query?id=job-2"


def test_query_success_without_url_is_retried_then_reported() -> None:
    server = Server(ok({"status": 2, "result": {"videos": []}}))
    error, _ = fails(server, lambda c: c.query("job-1"), RetryableAPIError)
    assert len(server.requests) == 6
    assert "url" in str(error)


@pytest.mark.parametrize("response", [
    httpx.Response(404, json={"code": 404, "message": "job not found"}),
    httpx.Response(200, json={"code": 1004, "msg": "job not found"}),
])
def test_query_of_a_missing_job_is_not_retried(response: httpx.Response) -> None:
    server = Server(response)
    error, delays = fails(server, lambda c: c.query("nope"), APIError)
    assert not isinstance(error, RetryableAPIError)
    assert len(server.requests) == 1 and delays == []
    assert "job not found" in str(error)


# ----------------------------------------------------------------------------- download

VIDEO = render(Placeholder.for_request("unit", {"duration": 5}))


class BrokenStream(httpx.AsyncByteStream):
    """A body that breaks off after its first bytes, as a dropped connection does."""

    def __init__(self, first: bytes) -> None:
        self.first = first

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.first
        raise httpx.ReadError("connection reset by peer")


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_download_verifies_and_places_the_file_without_sending_the_key(tmp_path: Path) -> None:
    dest = tmp_path / "cache" / "ab" / "abc.mp4"
    server = Server(
        httpx.Response(302, headers={"Location": "https://cdn.test/files/v.mp4?sig=1"}),
        httpx.Response(200, content=VIDEO),
    )
    (digest, size), delays = run(server, lambda c: c.download(
        "https://api.test/r/v.mp4", dest, expected_seconds=5))
    assert dest.read_bytes() == VIDEO
    assert (digest, size) == (hashlib.sha256(VIDEO).hexdigest(), len(VIDEO))
    assert leftovers(dest.parent) == ["abc.mp4"]
    assert [r.url.host for r in server.requests] == ["api.test", "cdn.test"]
    assert all("authorization" not in r.headers for r in server.requests)
    assert delays == []


@pytest.mark.parametrize("body", [
    VIDEO[: len(VIDEO) - 10],  # truncated
    b"<html><body>Access denied</body></html>",  # an error page saved as a video
    b"",
    render(Placeholder.for_request("unit", {"duration": 9})),  # the wrong video
], ids=["truncated", "html", "empty", "wrong-duration"])
def test_a_bad_download_leaves_nothing_behind(tmp_path: Path, body: bytes) -> None:
    dest = tmp_path / "abc.mp4"
    server = Server(httpx.Response(200, content=body))
    error, delays = fails(server, lambda c: c.download(
        "https://cdn.test/v.mp4", dest, expected_seconds=5), DownloadError)
    assert len(server.requests) == 6 and len(delays) == 5
    assert leftovers(tmp_path) == []
    assert "6 attempts" in str(error)


def test_a_failed_download_keeps_an_existing_file_intact(tmp_path: Path) -> None:
    dest = tmp_path / "abc.mp4"
    dest.write_bytes(b"previous")
    server = Server(httpx.Response(200, content=VIDEO[:100]))
    fails(server, lambda c: c.download("https://cdn.test/v.mp4", dest, expected_seconds=5),
          DownloadError)
    assert dest.read_bytes() == b"previous"
    assert leftovers(tmp_path) == ["abc.mp4"]


def test_downloads_and_api_calls_wait_in_the_client_beyond_their_share(tmp_path: Path) -> None:
    """Calls beyond the pool wait in the client (for free), not in httpcore's pool queue:
    API calls take up to half of it, downloads all but the four API calls always keep."""
    in_flight = {"api": 0, "download": 0}
    most = dict(in_flight)

    async def handler(request: httpx.Request) -> httpx.Response:
        kind = "download" if request.url.host == "cdn.test" else "api"
        in_flight[kind] += 1
        most[kind] = max(most[kind], in_flight[kind])
        await asyncio.sleep(0.01)
        in_flight[kind] -= 1
        if kind == "download":
            return httpx.Response(200, content=VIDEO)
        return ok({"status": 1})

    async def main() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
            client = ShortAPIClient(http, base_url=BASE, api_key=KEY,
                                    limits=Limits(max_connections=12))
            await asyncio.gather(
                *(client.download("https://cdn.test/v.mp4", tmp_path / f"{i}.mp4",
                                  expected_seconds=5) for i in range(20)),
                *(client.query(f"job-{i}") for i in range(20)))

    asyncio.run(main())
    assert most == {"api": 6, "download": 8}
    assert len(list(tmp_path.glob("*.mp4"))) == 20


def test_download_retries_a_dropped_connection_and_a_503(tmp_path: Path) -> None:
    dest = tmp_path / "v.mp4"
    server = Server(
        httpx.Response(200, stream=BrokenStream(VIDEO[:64])),
        httpx.Response(503, headers={"Retry-After": "2"}),
        httpx.Response(200, content=VIDEO),
    )
    (digest, _), delays = run(server, lambda c: c.download(
        "https://cdn.test/v.mp4", dest, expected_seconds=None))
    assert digest == hashlib.sha256(VIDEO).hexdigest()
    assert len(server.requests) == 3 and delays == [0.5, 2.0]
    assert leftovers(tmp_path) == ["v.mp4"]


@pytest.mark.parametrize("status", [403, 404, 410])
def test_an_expired_url_is_not_retried(tmp_path: Path, status: int) -> None:
    server = Server(httpx.Response(status))
    error, delays = fails(server, lambda c: c.download(
        "https://cdn.test/v.mp4?X-Signature=secret", tmp_path / "v.mp4", expected_seconds=5),
        DownloadError)
    assert len(server.requests) == 1 and delays == []
    assert "query the job again" in str(error)
    assert "secret" not in str(error)  # signed URLs are credentials too
    assert leftovers(tmp_path) == []


# --------------------------------------------------------------------- key and options


def test_the_key_never_appears_in_errors_or_reprs(tmp_path: Path) -> None:
    echo = {"code": 401, "message": f"invalid key {KEY}"}
    scenarios: Iterable[tuple[Server, Callable[[ShortAPIClient], Awaitable[Any]],
                              type[Exception] | None]] = [
        (Server(httpx.Response(401, json=echo)), create, AuthError),
        (Server(httpx.Response(200, json={"code": 1, "msg": f"bad {KEY}"})), create, APIError),
        (Server(httpx.Response(200, json={"code": 3000, "info": KEY})), create,
         RetryableAPIError),
        (Server(httpx.ReadTimeout(f"timeout {KEY}")), create, OutcomeUnknown),
        (Server(httpx.ConnectError(f"refused {KEY}")), create, RetryableAPIError),
        (Server(httpx.Response(500, json={"message": KEY})), create, OutcomeUnknown),
        (Server(httpx.Response(404, json={"message": f"no job for {KEY}"})),
         lambda c: c.query("j"), APIError),
        (Server(httpx.ReadError(KEY)), lambda c: c.query("j"), RetryableAPIError),
        (Server(ok({"status": 3, "msg": f"failed for {KEY}"})), lambda c: c.query("j"), None),
        (Server(httpx.ReadError(KEY)),
         lambda c: c.download("https://cdn.test/v.mp4", tmp_path / "v.mp4",
                              expected_seconds=5), DownloadError),
    ]
    for server, call, kind in scenarios:
        if kind is None:
            state, _ = run(server, call)
            assert KEY not in repr(state)
        else:
            fails(server, call, kind)  # asserts str() and repr() hold no key

    async def client_repr() -> str:
        async with httpx.AsyncClient(transport=httpx.MockTransport(Server(created()))) as http:
            return repr(ShortAPIClient(http, base_url=BASE, api_key=KEY))

    assert KEY not in asyncio.run(client_repr())


def test_an_http_client_carrying_a_key_is_refused() -> None:
    async def build() -> None:
        async with httpx.AsyncClient(headers={"Authorization": f"Bearer {KEY}"}) as http:
            ShortAPIClient(http, base_url=BASE, api_key=KEY)

    with pytest.raises(ValueError, match="Authorization"):
        asyncio.run(build())


def test_an_empty_key_is_an_auth_error() -> None:
    async def build() -> None:
        async with httpx.AsyncClient() as http:
            ShortAPIClient(http, base_url=BASE, api_key="")

    with pytest.raises(AuthError, match="SHORTAPI_KEY"):
        asyncio.run(build())


def test_rate_limit_spaces_every_call() -> None:
    now = [100.0]
    delays: list[float] = []

    async def sleep(seconds: float) -> None:
        delays.append(seconds)
        now[0] += seconds

    async def main() -> None:
        server = Server(httpx.Response(503), created(), ok({"status": 1}))
        async with httpx.AsyncClient(transport=httpx.MockTransport(server)) as http:
            client = ShortAPIClient(http, base_url=BASE, api_key=KEY, policy=NO_JITTER,
                                    rate=4.0, sleep=sleep, clock=lambda: now[0])
            await client.create(MODEL, ARGS)  # 503 at t=100, backoff 0.5, 200 at t=100.5
            await asyncio.gather(client.query("a"), client.query("b"))

    asyncio.run(main())
    # the retry's backoff already spaced it; the two concurrent queries queue 0.25 s apart
    assert delays == [0.5, 0.25, 0.25]


def test_base_url_and_key_come_from_option_then_environment() -> None:
    assert base_url_from(None, {}) == DEFAULT_BASE_URL
    assert base_url_from(None, {"SHORTAPI_BASE_URL": "http://127.0.0.1:8080/"}) == \
        "http://127.0.0.1:8080"
    assert base_url_from("https://proxy.test", {"SHORTAPI_BASE_URL": "http://x"}) == \
        "https://proxy.test"
    with pytest.raises(UsageError, match="--api-base"):
        base_url_from("ftp://nope", {})
    assert api_key_from({"SHORTAPI_KEY": " sk-1 "}) == "sk-1"
    assert api_key_from({"SHORTAPI_KEY": ""}) is None
    assert api_key_from({"OTHER_KEY": "sk"}) is None


def test_a_server_error_code_inside_a_200_is_an_unknown_outcome_not_a_refusal() -> None:
    server = Server(httpx.Response(200, json={"code": 500, "message": "internal error"}))
    fails(server, lambda c: c.create(MODEL, ARGS), OutcomeUnknown)
    assert server.creates == 1  # never re-sent: the job may exist


def test_a_503_code_inside_a_200_is_retried_like_an_http_503() -> None:
    server = Server(httpx.Response(200, json={"code": 503, "info": "busy"}), created())
    result, _ = run(server, lambda c: c.create(MODEL, ARGS))
    assert result.job_id == "job-1"
    assert server.creates == 2


# ---------------------------------------------------------------- a sandbox says so


def test_a_create_answered_by_a_sandbox_is_marked_as_its_placeholder() -> None:
    answer = created("job-7")
    answer.headers["Storyboard-Sandbox"] = "placeholder videos, no charges"
    result, _ = run(Server(answer), create)
    assert result == Created(job_id="job-7", amount=Decimal("0.475"), sandbox=True)
    real, _ = run(Server(created("job-8")), create)
    assert real.sandbox is False


def test_identify_asks_once_without_the_key_and_reads_the_header() -> None:
    seen: list[httpx.Request] = []

    def answer(sandbox: bool) -> Callable[[httpx.Request], httpx.Response]:
        def handler(request: httpx.Request) -> httpx.Response:
            seen.append(request)
            headers = {"Storyboard-Sandbox": "yes"} if sandbox else {}
            return httpx.Response(401, json={"code": 401}, headers=headers)
        return handler

    assert identify(BASE, transport=httpx.MockTransport(answer(True))) is True
    assert identify(BASE, transport=httpx.MockTransport(answer(False))) is False
    assert [str(r.url) for r in seen] == [f"{BASE}/api/v1/job/query"] * 2
    assert all("authorization" not in r.headers for r in seen)


def test_an_api_that_cannot_be_reached_is_taken_for_the_real_one() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    assert identify(BASE, transport=httpx.MockTransport(refuse)) is False

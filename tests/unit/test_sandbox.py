"""The sandbox over real loopback HTTP (httpx, no mocks): API.md's contract, faults, ledger."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from storyboard.api.sandbox import (
    Faults,
    Sandbox,
    SandboxConfig,
    fault_draw,
    make_job_id,
    parse_latency,
    read_job_id,
)
from storyboard.errors import DownloadError, UsageError
from storyboard.media.probe import verify
from storyboard.model import request_hash

MODEL = "kwaivgi/kling-o3/text-to-video"
CREATE = "/api/v1/job/create"
QUERY = "/api/v1/job/query"
AUTH = {"Authorization": "Bearer test-key"}


def body(**args: Any) -> dict[str, Any]:
    base = {"prompt": "a red kite over the sea", "mode": "pro", "duration": 5,
            "aspect_ratio": "16:9", "sound": "off", "multi_shot": False}
    return {"model": MODEL, "args": {**base, **args}}


Start = Callable[..., Sandbox]


@pytest.fixture
def start() -> Iterator[Start]:
    """start(**config) -> a running sandbox, stopped after the test."""
    running: list[Sandbox] = []

    def _start(**config: Any) -> Sandbox:
        sandbox = Sandbox(SandboxConfig(**config)).start()
        running.append(sandbox)
        return sandbox

    yield _start
    for sandbox in running:
        sandbox.stop()


def client(sandbox: Sandbox, headers: dict[str, str] | None = AUTH) -> httpx.Client:
    return httpx.Client(base_url=sandbox.base_url, headers=headers, timeout=5)


def create_job(http: httpx.Client, request: dict[str, Any] | None = None) -> str:
    response = http.post(CREATE, json=request or body())
    assert response.status_code == 200, response.text
    job_id: str = response.json()["data"]["job_id"]
    return job_id


def wait_done(http: httpx.Client, job_id: str, *, within: float = 5.0) -> dict[str, Any]:
    """Poll until the job leaves status 0/1; a bounded loop, not a sleep that races."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        data: dict[str, Any] = http.get(QUERY, params={"id": job_id}).json()["data"]
        if data["status"] not in (0, 1):
            return data
        time.sleep(0.005)
    raise AssertionError(f"job {job_id} not done within {within} s")


def video_url(data: dict[str, Any]) -> str:
    url: str = data["result"]["videos"][0]["url"]
    return url


# --- the happy path ------------------------------------------------------------------


def test_job_goes_queued_generating_done_and_its_video_verifies(start: Start) -> None:
    sandbox = start(latency=0.4, queued_fraction=0.5)
    with client(sandbox) as http:
        job_id = create_job(http)
        seen: list[int] = []
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and (not seen or seen[-1] < 2):
            reply = http.get(QUERY, params={"id": job_id}).json()
            assert reply["code"] == 0
            status = reply["data"]["status"]
            if not seen or seen[-1] != status:
                seen.append(status)
            time.sleep(0.005)
        video = httpx.get(video_url(reply["data"]), timeout=5)

    assert seen == [0, 1, 2]
    assert video.status_code == 200
    assert video.headers["content-type"] == "video/mp4"
    assert int(video.headers["content-length"]) == len(video.content)
    assert verify(video.content, 5).duration_s == 5.0
    assert sandbox.ledger.downloads == {job_id: 1}


@pytest.mark.parametrize(
    ("latency", "queued_fraction", "status"),
    [(3600.0, 1.0, 0), (3600.0, 0.0, 1), (0.0, 0.3, 2)],
)
def test_status_follows_from_time_since_create(
    start: Start, latency: float, queued_fraction: float, status: int
) -> None:
    sandbox = start(latency=latency, queued_fraction=queued_fraction)
    with client(sandbox) as http:
        job_id = create_job(http)
        reply = http.get(QUERY, params={"id": job_id}).json()

    assert reply["code"] == 0
    assert reply["data"]["status"] == status
    assert ("result" in reply["data"]) is (status == 2)


def test_latency_can_be_a_function_of_the_request_hash(start: Start) -> None:
    slow_hash = request_hash(MODEL, body(prompt="slow")["args"])
    sandbox = start(latency=lambda h: 3600.0 if h == slow_hash else 0.0)
    with client(sandbox) as http:
        slow, fast = create_job(http, body(prompt="slow")), create_job(http, body(prompt="fast"))
        statuses = [http.get(QUERY, params={"id": j}).json()["data"]["status"]
                    for j in (slow, fast)]

    assert statuses == [0, 2]


@pytest.mark.parametrize(
    ("mode", "sound", "seconds", "amount"),
    [("pro", "off", 5, "0.475"), ("pro", "on", 15, "1.785"),
     ("std", "off", 3, "0.213"), ("std", "on", 10, "0.95")],
)
def test_amount_is_duration_times_rate_exactly(
    start: Start, mode: str, sound: str, seconds: int, amount: str
) -> None:
    sandbox = start()
    with client(sandbox) as http:
        reply = http.post(CREATE, json=body(mode=mode, sound=sound, duration=seconds)).json()

    assert reply["code"] == 0
    assert reply["data"]["amount"] == amount
    assert sandbox.ledger.charged() == Decimal(amount)


def test_ledger_records_hashes_duplicates_and_callback_urls(start: Start) -> None:
    sandbox = start()
    request = {**body(), "callback_url": "https://example.org/hook"}
    with client(sandbox) as http:
        first, second = create_job(http, request), create_job(http, request)
        create_job(http, body(duration=7))
        remote = http.get("/_sandbox/ledger").json()

    digest = request_hash(MODEL, body()["args"])
    ledger = sandbox.ledger
    assert first != second
    assert [r.job_id for r in ledger.creates[:2]] == [first, second]
    assert ledger.creates[0].callback_url == "https://example.org/hook"
    assert ledger.creates[0].request_hash == digest
    assert ledger.duplicates() == {digest: 2}
    assert ledger.calls["create"] == 3
    assert remote["duplicates"] == {digest: 2}
    assert remote["charged"] == "1.615"  # 0.475 + 0.475 + 7 x 0.095
    assert [c["amount"] for c in remote["creates"]] == ["0.475", "0.475", "0.665"]


def test_keep_alive_lets_a_client_reuse_one_connection(start: Start) -> None:
    sandbox = start(latency=0.0)
    with client(sandbox) as http:
        job_id = create_job(http)
        for _ in range(20):
            http.get(QUERY, params={"id": job_id})

    assert sandbox.ledger.connections == 1
    assert sandbox.ledger.calls == {"create": 1, "query": 20}


def test_serves_an_asyncio_client_beside_its_event_loop(start: Start) -> None:
    sandbox = start(latency=0.05)
    jobs = 50

    async def run() -> list[int]:
        # Not 100 connections: httpcore's pool bookkeeping grows with the square of
        # them and would dominate this test's time. Kept alive for the whole test: the
        # default 5 s expiry would reopen connections that idled on a loaded machine
        # while the sandbox rendered other jobs' videos, which is not what is counted.
        limits = httpx.Limits(max_connections=25, keepalive_expiry=120)
        async with httpx.AsyncClient(base_url=sandbox.base_url, headers=AUTH, timeout=10,
                                     limits=limits) as http:
            async def one(n: int) -> int:
                created = await http.post(CREATE, json=body(prompt=f"shot {n}"))
                job_id = created.json()["data"]["job_id"]
                for _ in range(500):
                    data = (await http.get(QUERY, params={"id": job_id})).json()["data"]
                    if data["status"] == 2:
                        return (await http.get(video_url(data))).status_code
                    await asyncio.sleep(0.01)
                return 0

            return await asyncio.gather(*(one(n) for n in range(jobs)))

    statuses = asyncio.run(run())

    assert statuses == [200] * jobs
    assert len(sandbox.ledger.creates) == jobs
    assert sandbox.ledger.duplicates() == {}
    assert len(sandbox.ledger.downloads) == jobs
    assert sandbox.ledger.connections <= 25


# --- what the API refuses ------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Bearer"},
     {"Authorization": "Basic secret"}],
)
def test_missing_or_wrong_key_is_401(start: Start, headers: dict[str, str]) -> None:
    sandbox = start(api_key="secret")
    with client(sandbox, headers) as http:
        created = http.post(CREATE, json=body())
        queried = http.get(QUERY, params={"id": "x"})

    for response in (created, queried):
        assert response.status_code == 401
        assert response.json() == {"code": 401,
                                   "message": "unauthorized: missing or invalid API key"}
    assert sandbox.ledger.creates == ()
    assert sandbox.ledger.rejections == {"unauthorized": 2}


def test_the_right_key_or_any_key_without_one_configured_is_accepted(start: Start) -> None:
    with client(start(api_key="secret"), {"Authorization": "Bearer secret"}) as http:
        assert http.post(CREATE, json=body()).json()["code"] == 0
    with client(start(), {"Authorization": "bearer anything"}) as http:
        assert http.post(CREATE, json=body()).json()["code"] == 0


@pytest.mark.parametrize(
    ("request_body", "message"),
    [
        (body(duration=16), "$.args.duration: 16 is greater than the maximum of 15"),
        (body(duration=5.0), "$.args.duration: 5.0 is not an integer (write whole seconds as 5)"),
        (body(duration="5"), "$.args.duration: '5' is not of type 'integer'"),
        (body(sound=True), "$.args.sound: True is not one of ['on', 'off']"),
        (body(multi_shot=True), "$.args: 'shot_type' is a required property"),
        (body(multi_shot=True, shot_type="customize",
              multi_prompt=[{"prompt": "a", "duration": 2}, {"prompt": "b", "duration": 2}]),
         "$.args.multi_prompt: shot durations sum to 4 s, but duration is 5 s"),
        (body(prompt=""), "$.args.prompt: '' should be non-empty"),
        ({**body(), "model": "kling-v2"}, "$.model: 'kwaivgi/kling-o3/text-to-video' was expected"),
        ({**body(), "negative_prompt": "x"}, "$: Additional properties are not allowed "
                                             "('negative_prompt' was unexpected)"),
        ([], "$: [] is not of type 'object'"),
    ],
)
def test_invalid_request_is_400_with_the_first_problem(
    start: Start, request_body: Any, message: str
) -> None:
    sandbox = start()
    with client(sandbox) as http:
        response = http.post(CREATE, json=request_body)

    assert response.status_code == 400
    assert response.json() == {"code": 400, "message": message}
    assert sandbox.ledger.creates == ()
    assert sandbox.ledger.rejections == {"invalid": 1}


def test_valid_multi_shot_request_is_accepted(start: Start) -> None:
    request = body(multi_shot=True, shot_type="customize", prompt="",
                   multi_prompt=[{"prompt": "a", "duration": 2}, {"prompt": "b", "duration": 3}])
    with client(start()) as http:
        assert http.post(CREATE, json=request).json()["code"] == 0


@pytest.mark.parametrize("raw", [b"{", b"\xff", b'{"model": NaN}'])
def test_unparseable_body_is_400(start: Start, raw: bytes) -> None:
    with client(start()) as http:
        response = http.post(CREATE, content=raw)

    assert response.status_code == 400
    assert response.json()["code"] == 400
    assert response.json()["message"].startswith("invalid JSON body: ")


def test_unknown_job_is_http_200_with_code_404_and_msg(start: Start) -> None:
    with client(start()) as http:
        response = http.get(QUERY, params={"id": "no-such-job"})
        missing = http.get(QUERY)

    assert response.status_code == 200
    assert response.json() == {"code": 404, "msg": "job not found"}
    assert missing.status_code == 400


def test_unknown_file_and_bad_token_are_refused(start: Start) -> None:
    sandbox = start(latency=0.0)
    with client(sandbox) as http:
        job_id = create_job(http)
        wait_done(http, job_id)
        unknown = http.get("/files/sbx-nope.mp4?token=x")
        bad_token = http.get(f"/files/{job_id}.mp4?token=forged")
        no_token = http.get(f"/files/{job_id}.mp4")

    assert (unknown.status_code, unknown.json()["code"]) == (404, 404)
    assert (bad_token.status_code, no_token.status_code) == (403, 403)
    assert sandbox.ledger.downloads == {}


def test_unknown_paths_and_methods_and_garbage_get_json_errors(start: Start) -> None:
    sandbox = start()
    with client(sandbox) as http:
        assert http.get("/nothing").json() == {"code": 404, "message": "no such endpoint: /nothing"}
        assert http.get(CREATE).status_code == 405
        assert http.delete(CREATE).json()["code"] == 501
    host, port = sandbox.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as raw:
        raw.sendall(b"GARBAGE\r\n\r\n")
        reply = b"".join(iter(lambda: raw.recv(4096), b""))  # until the server hangs up

    assert reply.startswith(b"HTTP/1.1 400 ")
    assert reply.endswith(b'{"code": 400, "message": "Bad request syntax (\'GARBAGE\')"}')


# --- faults --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "status", "payload"),
    [
        ("http503", 503, {"code": 503, "info": "service unavailable"}),
        ("http500", 500, {"code": 500, "message": "sandbox: injected internal error"}),
        ("http429", 429, {"code": 429, "message": "too many requests"}),
        ("code3000", 200, {"code": 3000, "message": "model temporarily unavailable"}),
    ],
)
def test_create_faults_answer_before_anything_is_charged(
    start: Start, fault: str, status: int, payload: dict[str, Any]
) -> None:
    sandbox = start(faults=Faults.parse([fault, "retry-after=0.5"]))
    with client(sandbox) as http:
        response = http.post(CREATE, json=body())

    assert response.status_code == status
    assert response.json() == payload
    if fault == "http429":
        assert response.headers["retry-after"] == "0.5"
    assert sandbox.ledger.creates == ()
    assert sandbox.ledger.faults == {fault: 1}
    assert sandbox.ledger.faults_by_endpoint == {"create": {fault: 1}}


def test_drop_before_hangs_up_without_running_the_job(start: Start) -> None:
    sandbox = start(faults=Faults(drop_before=1.0))
    with client(sandbox) as http:
        with pytest.raises(httpx.RemoteProtocolError):
            http.post(CREATE, json=body())
        assert http.get("/_sandbox/ledger").status_code == 200  # the server lives on

    assert sandbox.ledger.creates == ()
    assert sandbox.ledger.faults == {"drop_before": 1}


def test_drop_after_charges_the_job_then_hangs_up(start: Start) -> None:
    sandbox = start(faults=Faults(drop_after=1.0))
    with client(sandbox) as http:
        with pytest.raises(httpx.TransportError):
            http.post(CREATE, json=body())
        remote = http.get("/_sandbox/ledger").json()

    assert len(sandbox.ledger.creates) == 1
    assert sandbox.ledger.faults == {"drop_after": 1}
    assert remote["charged"] == "0.475"


def test_slow_delays_the_reply(start: Start) -> None:
    sandbox = start(faults=Faults(slow=1.0, slow_seconds=0.2))
    with client(sandbox) as http:
        began = time.monotonic()
        response = http.post(CREATE, json=body())
        took = time.monotonic() - began
        with pytest.raises(httpx.ReadTimeout):
            http.post(CREATE, json=body(), timeout=0.05)

    assert response.json()["code"] == 0
    assert took >= 0.2
    assert sandbox.ledger.faults == {"slow": 2}
    assert len(sandbox.ledger.creates) == 2  # a read timeout does not mean it did not run


def test_failed_job_ends_in_status_3_refunded(start: Start) -> None:
    sandbox = start(latency=0.0, faults=Faults(fail=1.0))
    with client(sandbox) as http:
        data = wait_done(http, create_job(http))

    assert data == {"status": 3, "refunded": True, "message": "sandbox: injected failure"}
    assert sandbox.ledger.refunded() == Decimal("0.475")
    assert sandbox.ledger.faults == {"fail": 1}


def test_expired_url_is_410_once_and_a_re_query_gives_a_fresh_one(start: Start) -> None:
    sandbox = start(latency=0.0, faults=Faults(expire=1.0))
    with client(sandbox) as http:
        job_id = create_job(http)
        first_url = video_url(wait_done(http, job_id))
        assert video_url(wait_done(http, job_id)) == first_url  # stable until it expires
        expired = http.get(first_url)
        again = http.get(first_url)
        fresh_url = video_url(wait_done(http, job_id))
        video = http.get(fresh_url)

    assert (expired.status_code, expired.json()) == (410, {"code": 410, "message": "url expired"})
    assert again.status_code == 410
    assert fresh_url != first_url
    assert video.status_code == 200
    verify(video.content, 5)
    assert sandbox.ledger.faults == {"expire": 1}


def test_truncated_download_is_a_transport_error_and_fails_verification(start: Start) -> None:
    sandbox = start(latency=0.0, faults=Faults(truncate=1.0))
    received = bytearray()
    with client(sandbox) as http:
        url = video_url(wait_done(http, create_job(http)))
        with pytest.raises(httpx.RemoteProtocolError), http.stream("GET", url) as response:
            promised = int(response.headers["content-length"])
            for chunk in response.iter_raw():
                received += chunk

    assert 0 < len(received) < promised
    with pytest.raises(DownloadError, match="truncated"):
        verify(bytes(received), 5)
    assert sandbox.ledger.faults == {"truncate": 1}
    assert sandbox.ledger.downloads == {}


def test_queries_and_downloads_fault_too_and_retries_get_through(start: Start) -> None:
    sandbox = start(latency=0.0, faults=Faults(http503=0.5, http429=0.2, retry_after=0.0))
    outcomes: dict[str, list[int]] = {"create": [], "query": [], "download": []}
    with client(sandbox) as http:
        for _ in range(100):  # the same create, retried until it runs
            created = http.post(CREATE, json=body())
            outcomes["create"].append(created.status_code)
            if created.status_code == 200:
                break
        job_id = created.json()["data"]["job_id"]
        url = None
        for _ in range(40):
            queried = http.get(QUERY, params={"id": job_id})
            outcomes["query"].append(queried.status_code)
            if queried.status_code == 200:
                url = video_url(queried.json()["data"])
        assert url is not None
        for _ in range(40):
            outcomes["download"].append(http.get(url).status_code)

    assert len(sandbox.ledger.creates) == 1
    for endpoint, statuses in outcomes.items():
        assert statuses[-1] == 200 or endpoint != "create"
        assert set(statuses) <= {200, 429, 503}
        faults = sandbox.ledger.faults_by_endpoint.get(endpoint, {})
        assert faults.get("http503", 0) == statuses.count(503)
        assert faults.get("http429", 0) == statuses.count(429)
    assert {429, 503} <= set(outcomes["query"]) | set(outcomes["download"])
    assert 200 in outcomes["query"] and 200 in outcomes["download"]


def test_fault_decisions_depend_only_on_the_seed(start: Start) -> None:
    def outcomes(seed: int) -> list[int]:
        sandbox = start(seed=seed, faults=Faults(http503=0.5))
        with client(sandbox) as http:
            return [http.post(CREATE, json=body(duration=3 + n % 5)).status_code
                    for n in range(40)]

    first = outcomes(7)

    assert outcomes(7) == first
    assert outcomes(8) != first
    assert 0 < first.count(503) < 40


def test_fault_draw_is_a_pure_uniform_number() -> None:
    draws = [fault_draw(1, "http503", "hash", n) for n in range(2000)]

    assert draws == [fault_draw(1, "http503", "hash", n) for n in range(2000)]
    assert all(0.0 <= d < 1.0 for d in draws)
    assert 0.45 < sum(d < 0.5 for d in draws) / len(draws) < 0.55
    assert fault_draw(2, "http503", "hash", 0) != draws[0]
    assert fault_draw(1, "http500", "hash", 0) != draws[0]


def test_faults_never_print_to_stderr(start: Start, capfd: pytest.CaptureFixture[str]) -> None:
    sandbox = start(latency=0.0, faults=Faults(drop_after=1.0, truncate=1.0))
    with client(sandbox) as http:
        for _ in range(3):
            with pytest.raises(httpx.TransportError):
                http.post(CREATE, json=body())
        job_id = sandbox.ledger.creates[0].job_id
        url = video_url(wait_done(http, job_id))
        with pytest.raises(httpx.TransportError):
            http.get(url)

    assert capfd.readouterr().err == ""


# --- jobs that outlive the sandbox ---------------------------------------------------


def test_a_restarted_sandbox_finishes_the_jobs_of_the_one_before(start: Start) -> None:
    first = start(latency=3600.0)  # still generating when it goes away
    with client(first) as http:
        job_id = create_job(http, body(duration=7))
    first.stop()

    second = start(latency=3600.0)
    with client(second) as http:
        data = wait_done(http, job_id)
        video = http.get(video_url(data))

    assert data["status"] == 2
    assert video.status_code == 200
    assert verify(video.content, 7).duration_s == 7.0
    assert second.ledger.restored == (job_id,)
    assert second.ledger.creates == () and second.ledger.duplicates() == {}
    assert second.ledger.downloads == {job_id: 1}


def test_a_failed_job_is_restored_failed_and_refunded(start: Start) -> None:
    first = start(latency=0.0, faults=Faults(fail=1.0))
    with client(first) as http:
        job_id = create_job(http)
    first.stop()

    second = start()
    with client(second) as http:
        data = http.get(QUERY, params={"id": job_id}).json()["data"]
        file = http.get(f"/files/{job_id}.mp4?token=x")

    assert data == {"status": 3, "refunded": True, "message": "sandbox: injected failure"}
    assert file.status_code == 404
    assert second.ledger.refunded() == Decimal(0)  # refunds belong to the sandbox that charged


def test_an_earlier_sandboxs_url_is_expired_and_a_re_query_gives_a_fresh_one(
    start: Start,
) -> None:
    first = start(latency=0.0)
    with client(first) as http:
        old_url = video_url(wait_done(http, create_job(http)))
    first.stop()

    second = start()
    path = old_url.split("/files/", 1)[1]
    with client(second) as http:
        stale = http.get(f"/files/{path}")
        fresh = http.get(video_url(wait_done(http, path.split(".mp4")[0])))

    assert (stale.status_code, stale.json()) == (410, {"code": 410, "message": "url expired"})
    assert fresh.status_code == 200
    verify(fresh.content, 5)


def test_expire_and_truncate_still_apply_to_restored_jobs(start: Start) -> None:
    job_id = make_job_id(5, False)
    sandbox = start(faults=Faults(expire=1.0, truncate=1.0))
    with client(sandbox) as http:
        first_url = video_url(wait_done(http, job_id))
        expired = http.get(first_url)
        with pytest.raises(httpx.RemoteProtocolError):
            http.get(video_url(wait_done(http, job_id)))

    assert expired.status_code == 410
    assert sandbox.ledger.faults == {"expire": 1, "truncate": 1}


@pytest.mark.parametrize(
    "forge",
    [
        lambda j: j[:-1] + ("0" if j[-1] != "0" else "1"),  # another MAC
        lambda j: j.replace("sbx1-5-", "sbx1-9-", 1),  # another duration
        lambda j: j.replace("-1-", "-0-", 1),  # a refunded failure made a success
        lambda j: j.upper(),
        lambda j: j + "0",
    ],
)
def test_a_tampered_job_id_is_not_found(start: Start, forge: Callable[[str], str]) -> None:
    job_id = make_job_id(5, True)
    forged = forge(job_id)
    sandbox = start()
    with client(sandbox) as http:
        response = http.get(QUERY, params={"id": forged})
        file = http.get(f"/files/{forged}.mp4?token=x")

    assert forged != job_id and read_job_id(forged) is None
    assert response.status_code == 200
    assert response.json() == {"code": 404, "msg": "job not found"}
    assert file.status_code == 404
    assert sandbox.ledger.restored == ()


def test_job_ids_carry_duration_and_outcome_verifiably() -> None:
    ids = {make_job_id(15, False) for _ in range(50)}

    assert len(ids) == 50
    assert {read_job_id(j) for j in ids} == {(15, False)}
    assert read_job_id(make_job_id(3, True)) == (3, True)
    assert read_job_id("sbx-0123456789abcdef0123") is None


# --- latency specs -------------------------------------------------------------------


@pytest.mark.parametrize(("spec", "seconds"), [("2", 2.0), (" 2.5 ", 2.5), ("0", 0.0), (".5", 0.5)])
def test_fixed_latency(spec: str, seconds: float) -> None:
    assert parse_latency(spec) == seconds


def hashes(n: int) -> list[str]:
    return [request_hash(MODEL, body(prompt=f"shot {i}")["args"]) for i in range(n)]


def test_range_latency_is_uniform_and_fixed_per_seed_and_request() -> None:
    latency = parse_latency("0.5-3", seed=1)
    assert callable(latency)
    draws = [latency(h) for h in hashes(400)]

    assert draws == [parse_latency("0.5-3", seed=1)(h) for h in hashes(400)]  # type: ignore[operator]
    assert all(0.5 <= d <= 3.0 for d in draws)
    assert 1.5 < sum(draws) / len(draws) < 2.0
    assert min(draws) < 0.7 and max(draws) > 2.8
    other = parse_latency("0.5-3", seed=2)
    assert callable(other) and other(hashes(1)[0]) != draws[0]
    assert str(latency) == "0.5-3"


def test_lognormal_latency_has_its_median_and_respects_max() -> None:
    latency = parse_latency("lognormal:3,0.5", seed=4)
    capped = parse_latency("LogNormal: 3, 0.5, max=4", seed=4)
    assert callable(latency) and callable(capped)
    keys = hashes(401)
    draws = sorted(latency(h) for h in keys)

    assert 2.6 < draws[200] < 3.4  # the median
    assert draws[-1] > 4.0 and draws[0] > 0.0
    assert [capped(h) for h in keys] == [min(latency(h), 4.0) for h in keys]
    assert parse_latency("lognormal:3,0")("x") == pytest.approx(3.0)  # type: ignore[operator]


def test_a_latency_spec_drives_the_sandbox_per_request(start: Start) -> None:
    latency = parse_latency("1-3600", seed=3)
    assert callable(latency)
    sandbox = start(latency=latency)
    requests = [body(prompt=f"shot {i}") for i in range(5)] + [body(prompt="shot 0")]
    with client(sandbox) as http:
        job_ids = [create_job(http, r) for r in requests]

    seconds = [sandbox._jobs[j].latency for j in job_ids]
    assert seconds == [latency(request_hash(MODEL, r["args"])) for r in requests]
    assert seconds[-1] == seconds[0]  # a duplicate create meets the same latency
    assert len(set(seconds)) == 5


@pytest.mark.parametrize(
    ("spec", "why"),
    [
        ("", ""),
        ("fast", ""),
        ("-1", ""),
        ("nan", ""),
        ("1e3", ""),
        ("3-1", " (3 is above 1)"),
        ("lognormal:3", ""),
        ("lognormal:0,0.5", " (the median must be above 0)"),
        ("lognormal:3,0.5,max=0", " (max must be above 0)"),
        ("lognormal:3,0.5,cap=9", ""),
    ],
)
def test_bad_latency_specs_are_usage_errors(spec: str, why: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_latency(spec)

    assert str(caught.value) == (
        f"bad latency {spec!r}{why}; use seconds (2 or 2.5), a uniform range (0.5-3), "
        "or lognormal:MEDIAN,SIGMA[,max=SECONDS] (lognormal:3,0.5,max=30)"
    )

# --- configuration -------------------------------------------------------------------


def test_faults_parse_cli_specs() -> None:
    faults = Faults.parse(["http503=0.2", "drop-after=0.1,slow-seconds=3", "fail", " EXPIRE "])

    assert faults == Faults(http503=0.2, drop_after=0.1, slow_seconds=3.0, fail=1.0, expire=1.0)
    assert faults.describe() == "http503=0.2, drop-after=0.1, fail=1, expire=1, slow-seconds=3"
    assert Faults.parse([]).describe() == "none"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("http404=0.5", "unknown fault 'http404'; valid: http500, http503, http429, code3000, "
                        "drop-before, drop-after, slow, truncate, fail, expire, no-callback; "
                        "settings: slow-seconds=S, retry-after=S"),
        ("http503=1.5", "fault rate http503=1.5 must be between 0 and 1"),
        ("fail=-0.1", "fault rate fail=-0.1 must be between 0 and 1"),
        ("slow=often", "slow='often': not a number"),
        ("slow-seconds", "slow-seconds needs a value in seconds, like slow-seconds=2"),
        ("retry-after=-1", "fault setting retry-after=-1.0 must be >= 0"),
    ],
)
def test_bad_fault_specs_are_usage_errors(spec: str, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        Faults.parse([spec])

    assert str(caught.value) == message


def test_lifecycle(start: Start) -> None:
    sandbox = Sandbox()
    with pytest.raises(RuntimeError, match="not running"):
        _ = sandbox.base_url
    with sandbox:
        port = int(sandbox.base_url.rsplit(":", 1)[1])
        with pytest.raises(UsageError, match=f"cannot listen on 127.0.0.1:{port}"):
            start(port=port)
    sandbox.stop()  # idempotent
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/_sandbox/ledger", timeout=2)


def test_serve_blocks_until_interrupted() -> None:
    script = (
        "from storyboard.api.sandbox import SandboxConfig, serve\n"
        "serve(SandboxConfig(), ready=lambda url: print(url, flush=True))\n"
    )
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        ledger = httpx.get(f"{url}/_sandbox/ledger", timeout=5).json()
        os.kill(process.pid, signal.SIGINT)
        _, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()

    assert ledger["creates"] == []
    assert json.loads(json.dumps(ledger)) == ledger
    assert process.returncode == 0
    assert err == ""

"""The callback listener over real loopback HTTP: a hint names its generation in the URL,
any POST is answered 204, and only a known hash wakes a wait. It is served on the run's
event loop, and hangs up on what is not a small, prompt HTTP request."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import socket
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from storyboard.errors import UsageError
from storyboard.execute import callbacks
from storyboard.execute.callbacks import (
    MAX_BODY_BYTES,
    Hints,
    Listen,
    Listener,
    callback_url,
)
from storyboard.results import Callbacks, RunSummary


def test_the_url_names_the_generation_and_its_token_in_its_query() -> None:
    assert (callback_url("http://127.0.0.1:8080/", "ab12", "t0k")
            == "http://127.0.0.1:8080/?generation=ab12&token=t0k")
    assert (callback_url("http://127.0.0.1:8080", "ab12", "t0k")
            == "http://127.0.0.1:8080/?generation=ab12&token=t0k")
    assert (callback_url("https://tunnel.example/hook?via=t", "ab12", "t0k")
            == "https://tunnel.example/hook?via=t&generation=ab12&token=t0k")


def test_the_token_is_the_hashs_hmac_under_the_journals_id() -> None:
    """The same journal (an earlier run's jobs) gives the same token; another, another."""
    mine = Hints(["ab12"], "http://127.0.0.1:8080/", key="journal-id")
    expected = hmac.new(b"journal-id", b"ab12", hashlib.sha256).hexdigest()[:32]
    assert mine.url_for("ab12") == f"http://127.0.0.1:8080/?generation=ab12&token={expected}"
    assert Hints(["ab12"], "http://x/", key="journal-id").token("ab12") == expected
    assert Hints(["ab12"], "http://x/", key="another").token("ab12") != expected
    assert Hints(["ab12"], "http://x/").token("ab12") != expected  # no id: a random key


@pytest.mark.parametrize(("text", "expected"), [
    ("0", Listen("127.0.0.1", 0)), ("8080", Listen("127.0.0.1", 8080)),
    ("0.0.0.0:9000", Listen("0.0.0.0", 9000)), ("[::1]:0", Listen("::1", 0)),
])
def test_host_and_port_read_from_one_option(text: str, expected: Listen) -> None:
    assert Listen.parse(text) == expected


@pytest.mark.parametrize("text", ["", "nope", "host:", ":80", "127.0.0.1:65536", "80x", "-1"])
def test_a_bad_host_port_is_one_line(text: str) -> None:
    with pytest.raises(UsageError) as caught:
        Listen.parse(text)
    assert caught.value.lines() == [
        f"error: --callback-listen {text!r}: give [HOST:]PORT, e.g. 8080 or 127.0.0.1:0 "
        "(port 0: any free port)"]


def test_a_port_in_use_is_one_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(UsageError) as caught:
            Listener(Listen("127.0.0.1", port))
    assert caught.value.lines() == [
        f"error: --callback-listen 127.0.0.1:{port}: cannot listen there "
        "(Address already in use)"]


def test_only_a_known_hash_wakes_its_wait_and_junk_changes_nothing() -> None:
    async def scenario() -> tuple[list[int], Hints, bool, bool]:
        listener = Listener(Listen("127.0.0.1", 0))
        hints = Hints(["known", "other"], listener.url)
        listener.attach(asyncio.get_running_loop(), hints)
        try:
            async with httpx.AsyncClient(timeout=5) as http:
                statuses = [
                    (await http.post(hints.url_for("unknown"), content=b'{"job_id": 1}')
                     ).status_code,
                    (await http.post(listener.url, content=b"\x00junk, no generation")
                     ).status_code,
                    (await http.post(listener.url + "?generation=", content=b"")).status_code,
                    # the known hash without its token, or with another's: a guess
                    (await http.post(listener.url + "?generation=known")).status_code,
                    (await http.post(listener.url + "?generation=known&token="
                                     + hints.token("other"))).status_code,
                ]
                # nothing woke: a wait for a known hash runs out its time
                asleep = await hints.wait("known", 0.05)
                statuses.append((await http.post(hints.url_for("known"),
                                                 content=b"not json at all")).status_code)
                woken = await hints.wait("known", 30)  # the hint is latched: no race
        finally:
            listener.close()
        return statuses, hints, asleep, woken

    statuses, hints, asleep, woken = asyncio.run(scenario())
    assert statuses == [204] * 6
    assert (asleep, woken) == (False, True)
    assert (hints.received, hints.ignored) == (1, 5)


def test_a_slow_client_holds_up_no_one_else() -> None:
    """A client that promises a body and never sends it ties up its own thread only."""
    async def scenario() -> int:
        listener = Listener(Listen("127.0.0.1", 0))
        hints = Hints(["known"], listener.url)
        listener.attach(asyncio.get_running_loop(), hints)
        host, port = listener.url.removeprefix("http://").rstrip("/").split(":")
        try:
            with socket.create_connection((host, int(port))) as slow:
                slow.sendall(b"POST /?generation=known HTTP/1.1\r\nHost: x\r\n"
                             b"Content-Length: 100\r\n\r\n")
                async with httpx.AsyncClient(timeout=5) as http:
                    status = (await http.post(hints.url_for("known"))).status_code
                assert await hints.wait("known", 30)
        finally:
            listener.close()
        return status

    assert asyncio.run(scenario()) == 204


def test_every_address_needs_the_url_the_api_reaches() -> None:
    from storyboard.execute.options import run_options

    common = {"sandbox": False, "concurrency": 4, "poll_start": None, "poll_max": None,
              "job_timeout": None}
    with pytest.raises(UsageError) as caught:
        run_options(**common, callback_listen="0.0.0.0:8080")  # type: ignore[arg-type]
    assert caught.value.lines() == [
        "error: --callback-listen 0.0.0.0:8080: listening on every address, storyboard "
        "cannot tell which one the API reaches; give it as --callback-url "
        "http://ADDRESS:PORT/"]
    options = run_options(**common, callback_listen="0.0.0.0:8080",  # type: ignore[arg-type]
                          callback_url="https://render-box.example:8080/")
    assert (options.callback_listen, options.callback_url) == (
        Listen("0.0.0.0", 8080), "https://render-box.example:8080/")


def test_a_stop_ends_every_wait_at_once_and_counts_as_no_hint() -> None:
    async def scenario() -> tuple[list[bool], bool, float]:
        hints = Hints(["a", "b"], "http://127.0.0.1:9/")
        loop = asyncio.get_running_loop()
        started = loop.time()
        waits = [asyncio.ensure_future(hints.wait(h, 30)) for h in ("a", "b")]
        await asyncio.sleep(0)  # both are waiting now
        hints.wake_all()
        ended = await asyncio.gather(*waits)
        hints.hint("a", hints.token("a"))  # a hint after the stop is kept for the next wait
        return ended, await hints.wait("a", 30), loop.time() - started

    ended, later, seconds = asyncio.run(scenario())
    assert ended == [False, False]
    assert later is True
    assert seconds < 30  # neither the stop's waits nor the hinted one ran their course


async def _exchange(listener: Listener, request: bytes) -> bytes:
    """What the listener answers ``request`` before it hangs up (raw, on a socket)."""
    host, port = listener.url.removeprefix("http://").rstrip("/").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(request)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 10)  # until the listener closes
    writer.close()
    return answer


def _serve(scenario: Callable[[Listener, Hints], Awaitable[object]]) -> tuple[object, Hints]:
    async def main() -> tuple[object, Hints]:
        listener = Listener(Listen("127.0.0.1", 0))
        hints = Hints(["known"], listener.url)
        listener.attach(asyncio.get_running_loop(), hints)
        try:
            return await scenario(listener, hints), hints
        finally:
            listener.close()

    return asyncio.run(main())


def test_callbacks_are_served_on_the_event_loop_without_a_thread() -> None:
    async def scenario(listener: Listener, hints: Hints) -> int:
        before = threading.active_count()
        async with httpx.AsyncClient(timeout=5) as http:
            for _ in range(3):
                await http.post(hints.url_for("known"))
        return threading.active_count() - before

    started, hints = _serve(scenario)
    assert started == 0
    assert hints.received == 3


def test_a_request_that_is_not_http_is_answered_400_and_hung_up_on() -> None:
    answer, hints = _serve(lambda listener, hints: _exchange(listener, b"GARBAGE\r\n\r\n"))
    assert isinstance(answer, bytes) and answer.startswith(b"HTTP/1.1 400 ")
    assert (hints.received, hints.ignored) == (0, 0)


def test_a_body_past_the_limit_is_answered_and_hung_up_on_the_hint_counts() -> None:
    def head(hints: Hints) -> bytes:
        target = hints.url_for("known").removeprefix(hints.base_url.rstrip("/"))
        return (f"POST {target} HTTP/1.1\r\nHost: x\r\nContent-Length: "
                f"{MAX_BODY_BYTES * 4}\r\n\r\n").encode()

    answer, hints = _serve(lambda listener, hints: _exchange(
        listener, head(hints) + b"x" * (MAX_BODY_BYTES + 1)))
    assert isinstance(answer, bytes) and answer.startswith(b"HTTP/1.1 204 ")
    assert b"connection: close" in answer.lower()
    assert hints.received == 1


def test_another_method_is_not_a_hint() -> None:
    answer, hints = _serve(lambda listener, hints: _exchange(
        listener, b"GET /?generation=known HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
    assert isinstance(answer, bytes) and answer.startswith(b"HTTP/1.1 501 ")
    assert (hints.received, hints.ignored) == (0, 0)


def test_a_client_that_sends_nothing_is_hung_up_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(callbacks, "READ_TIMEOUT_S", 0.2)
    answer, _ = _serve(lambda listener, hints: _exchange(listener, b"POST /"))
    assert answer == b""


def test_the_run_counts_jobs_a_poll_found_done_before_their_callback() -> None:
    """Of the delivered ones: a job whose last wait ran out unhinted was found by a poll;
    the URL said in the summary keeps neither credentials nor the query."""
    async def scenario() -> Hints:
        hints = Hints(["called", "polled", "failed"],
                      "https://user:secret@tunnel.example:8443/hook?key=abc", key="id")
        hints.hint("called", hints.token("called"))
        assert await hints.wait("called", 30)
        assert not await hints.wait("polled", 0)  # the safety net's look, then done
        assert not await hints.wait("failed", 0)
        return hints

    hints = asyncio.run(scenario())
    assert hints.count(["called", "polled"]) == Callbacks(
        "https://tunnel.example:8443/hook", received=1, polled=1)


@pytest.mark.parametrize(("received", "polled", "said"), [
    (12, 0, []),
    (0, 3, ["  warning: no callback reached http://127.0.0.1:8080/; 3 finished jobs found by "
            "the slower safety-net polls instead — check that the API can reach "
            "--callback-url (or --callback-listen)"]),
    (9, 1, ["  callbacks: 9 received; 1 job found done by a poll first (its callback lost "
            "or late)"]),
])
def test_the_summary_says_when_callbacks_did_not_come(
        tmp_path: Path, received: int, polled: int, said: list[str]) -> None:
    from storyboard.execute.workspace import Workspace
    from storyboard.report.text import run_summary

    summary = RunSummary((), Workspace.beside(tmp_path, "promo"),
                         callbacks=Callbacks("http://127.0.0.1:8080/", received, polled))
    lines = run_summary(summary).splitlines()
    assert [line for line in lines if line.startswith(("  warning", "  callbacks"))] == said

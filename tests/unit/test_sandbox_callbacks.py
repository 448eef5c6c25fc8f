"""The sandbox calls a job's ``callback_url`` when it ends: once, to exactly that URL, with
a few tries when the receiver fails — each against a real receiver on loopback."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from storyboard.api.contract import CREATE_PATH, STATUS_FAILED, STATUS_SUCCEEDED
from storyboard.api.sandbox import CallbackPolicy, Faults, Sandbox, SandboxConfig

AUTH = {"Authorization": "Bearer test-key"}
MODEL = "kwaivgi/kling-o3/text-to-video"


class Receiver:
    """A loopback HTTP server that records every POST and answers ``status``; ``arrived``
    is set once ``expect`` of them came."""

    def __init__(self, status: int = 204, expect: int = 1) -> None:
        self.posts: list[tuple[str, dict[str, Any]]] = []
        self.arrived = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                receiver.posts.append((self.path, json.loads(self.rfile.read(length))))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
                if len(receiver.posts) >= expect:
                    receiver.arrived.set()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True,
                                       kwargs={"poll_interval": 0.01})
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receivers() -> Iterator[list[Receiver]]:
    made: list[Receiver] = []
    yield made
    for receiver in made:
        receiver.close()


def create(sandbox: Sandbox, callback_url: str | None, prompt: str = "a kite") -> str:
    args = {"prompt": prompt, "mode": "std", "duration": 5, "aspect_ratio": "16:9",
            "sound": "off", "multi_shot": False}
    request: dict[str, Any] = {"model": MODEL, "args": args}
    if callback_url is not None:
        request["callback_url"] = callback_url
    reply = httpx.post(sandbox.base_url + CREATE_PATH, json=request, headers=AUTH, timeout=5)
    assert reply.status_code == 200, reply.text
    job_id: str = reply.json()["data"]["job_id"]
    return job_id


def test_a_finished_job_posts_one_hint_to_exactly_its_url(receivers: list[Receiver]) -> None:
    receiver = Receiver()
    receivers.append(receiver)
    sandbox = Sandbox(SandboxConfig(latency=0.05)).start()
    try:
        job_id = create(sandbox, f"{receiver.url}/hook?generation=abc&x=1")
        create(sandbox, None, prompt="no callback for this one")
        assert receiver.arrived.wait(5)
    finally:
        sandbox.stop()
    assert receiver.posts == [("/hook?generation=abc&x=1",
                               {"job_id": job_id, "status": STATUS_SUCCEEDED})]
    assert sandbox.ledger.callbacks == {"sent": 1}
    assert sandbox.ledger.snapshot()["callbacks"] == {"sent": 1}


def test_a_failed_job_says_so_in_its_hint(receivers: list[Receiver]) -> None:
    receiver = Receiver()
    receivers.append(receiver)
    sandbox = Sandbox(SandboxConfig(latency=0.01, faults=Faults(fail=1.0))).start()
    try:
        job_id = create(sandbox, receiver.url)
        assert receiver.arrived.wait(5)
    finally:
        sandbox.stop()
    assert receiver.posts == [("/", {"job_id": job_id, "status": STATUS_FAILED})]


def test_a_failing_receiver_is_tried_three_times_then_counted_failed(
        receivers: list[Receiver]) -> None:
    receiver = Receiver(status=500, expect=3)
    receivers.append(receiver)
    policy = CallbackPolicy(tries=3, timeout=2.0, retry_after=0.01)
    sandbox = Sandbox(SandboxConfig(latency=0.01, callbacks=policy)).start()
    try:
        create(sandbox, receiver.url)
        assert receiver.arrived.wait(5)
    finally:
        sandbox.stop()  # joins the dispatcher: the last try is counted
    assert len(receiver.posts) == 3
    assert sandbox.ledger.callbacks == {"retried": 2, "failed": 1}


def test_nobody_listening_counts_failed_tries_without_hurting_the_job() -> None:
    with Sandbox(SandboxConfig(latency=0.0, callbacks=CallbackPolicy(
            tries=2, timeout=0.5, retry_after=0.0))) as sandbox:
        probe = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
        port = probe.server_address[1]
        probe.server_close()  # nothing listens there now: connections are refused
        job_id = create(sandbox, f"http://127.0.0.1:{port}/")
        query = httpx.get(sandbox.base_url + "/api/v1/job/query", params={"id": job_id},
                          headers=AUTH, timeout=5)
        assert query.json()["data"]["status"] == STATUS_SUCCEEDED


def test_the_no_callback_fault_drops_them_all(receivers: list[Receiver]) -> None:
    receiver = Receiver()
    receivers.append(receiver)
    with Sandbox(SandboxConfig(latency=0.0, faults=Faults.parse(["no-callback=1.0"]))) as sandbox:
        for n in range(3):
            create(sandbox, receiver.url, prompt=f"kite {n}")
        assert sandbox.ledger.callbacks == {"dropped": 3}
    assert receiver.posts == []
    assert Faults.parse(["no-callback=0.3"]).describe() == "no-callback=0.3"

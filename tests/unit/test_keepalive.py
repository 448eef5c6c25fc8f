"""The production client's pool checks idle connections through ``KeptAliveBackend``: a
connection the server closed while idle is still noticed, and the next call goes on a
fresh one instead of failing (for a create, failing there would read as a lost reply).
Its bookkeeping (``_LinearPool``) does exactly what httpcore's does, asking each
connection once."""

from __future__ import annotations

import asyncio
import random
import socket
from typing import Any

import httpcore
import httpx
import pytest

from storyboard.api import keepalive
from storyboard.api.keepalive import KeptAliveBackend, _LinearPool, keep_alive_cheaply, readable
from storyboard.api.policies import new_http_client

REPLY = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n"
         b"Connection: keep-alive\r\n\r\n{\"code\": 0}")


def test_the_production_client_uses_it() -> None:
    async def main() -> object:
        async with new_http_client() as http:
            return http._transport._pool._network_backend  # type: ignore[attr-defined]

    assert isinstance(asyncio.run(main()), KeptAliveBackend)


def test_wrapping_twice_or_a_used_pool_changes_nothing() -> None:
    transport = keep_alive_cheaply(httpx.AsyncHTTPTransport())
    backend = transport._pool._network_backend  # type: ignore[attr-defined]
    assert keep_alive_cheaply(transport)._pool._network_backend is backend  # type: ignore[attr-defined]
    assert isinstance(backend, KeptAliveBackend)
    assert not isinstance(backend._inner, KeptAliveBackend)


def test_readable_sees_data_and_the_peer_hanging_up() -> None:
    a, b = socket.socketpair()
    try:
        assert not readable(a)
        b.sendall(b"x")
        assert readable(a)
        a.recv(1)
        assert not readable(a)
        b.close()
        assert readable(a)  # the end is readable
    finally:
        a.close()
        b.close()
    assert readable(a)  # a closed socket counts as gone


def test_a_connection_the_server_closed_while_idle_is_not_reused(
        monkeypatch: pytest.MonkeyPatch) -> None:
    connections = 0
    looks: list[bool] = []

    def counted(sock: socket.socket) -> bool:
        looks.append(readable(sock))
        return looks[-1]

    monkeypatch.setattr("storyboard.api.keepalive.readable", counted)

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await reader.readuntil(b"\r\n\r\n")
        writer.write(REPLY)
        await writer.drain()
        writer.close()  # hangs up although it said keep-alive

    async def main() -> list[int]:
        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        statuses = []
        async with server, new_http_client() as http:
            for _ in range(3):
                response = await http.get(f"http://127.0.0.1:{port}/")
                statuses.append(response.status_code)
                await asyncio.sleep(0.05)  # the close reaches the idle connection
        return statuses

    assert asyncio.run(main()) == [200, 200, 200]
    assert connections == 3
    assert True in looks  # the hang-up was seen by this module's look


def test_errors_are_the_backends_own() -> None:
    async def main() -> BaseException:
        with socket.socket() as probe:  # a port nobody listens on
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        async with new_http_client() as http:
            try:
                await http.get(f"http://127.0.0.1:{port}/")
            except httpx.HTTPError as exc:
                return exc
        raise AssertionError("connected to a closed port")

    assert isinstance(asyncio.run(main()), httpx.ConnectError)
    assert issubclass(httpx.ConnectError, httpx.TransportError)
    assert httpcore.AsyncNetworkBackend in KeptAliveBackend.__mro__


# ------------------------------------------------- the pool's bookkeeping (_LinearPool)


class FakeConnection:
    """A pooled connection in a given state, counting how often it is asked if idle."""

    def __init__(self, n: int, state: str, origin: str) -> None:
        self.n, self.state, self.origin = n, state, origin
        self.idle_asks = 0

    def is_closed(self) -> bool:
        return self.state == "closed"

    def has_expired(self) -> bool:
        return self.state == "expired"

    def is_idle(self) -> bool:
        self.idle_asks += 1
        return self.state == "idle"

    def is_available(self) -> bool:
        return self.state in ("idle", "available")

    def can_handle_request(self, origin: str) -> bool:
        return origin == self.origin

    def __repr__(self) -> str:
        return f"<{self.n} {self.state} {self.origin}>"


class FakeRequest:
    def __init__(self, origin: str, queued: bool) -> None:
        self.request = type("R", (), {"url": type("U", (), {"origin": origin})()})()
        self.queued = queued
        self.assigned: object = None

    def is_queued(self) -> bool:
        return self.queued

    def assign_to_connection(self, connection: object) -> None:
        self.assigned = connection


def _pool(kind: type[httpcore.AsyncConnectionPool], connections: list[FakeConnection],
          requests: list[FakeRequest], limits: tuple[int, int]) -> httpcore.AsyncConnectionPool:
    pool = kind(max_connections=limits[0], max_keepalive_connections=limits[1])
    made = iter(range(1000, 2000))
    pool.create_connection = lambda origin: FakeConnection(  # type: ignore[method-assign]
        next(made), "new", origin)
    pool._connections = connections  # type: ignore[assignment]
    pool._requests = requests  # type: ignore[assignment]
    return pool


def _picture(pool: httpcore.AsyncConnectionPool, closing: list[Any],
             requests: list[FakeRequest]) -> tuple[list[str], list[str], list[str]]:
    return ([repr(c) for c in pool._connections], [repr(c) for c in closing],
            [repr(r.assigned) for r in requests])


def test_the_linear_pool_does_what_httpcores_does_for_any_pool_state() -> None:
    rng = random.Random(20240917)
    states, origins = ("closed", "expired", "idle", "available", "busy"), ("a", "b")
    for _ in range(3000):
        limits = (rng.randint(1, 12), rng.randint(0, 12))
        layout = [(rng.choice(states), rng.choice(origins)) for _ in range(rng.randint(0, 14))]
        asks = [(rng.choice(origins), rng.random() < 0.6) for _ in range(rng.randint(0, 6))]
        pictures = []
        for kind in (httpcore.AsyncConnectionPool, _LinearPool):
            connections = [FakeConnection(n, *c) for n, c in enumerate(layout)]
            requests = [FakeRequest(*a) for a in asks]
            pool = _pool(kind, connections, requests, limits)
            pictures.append(_picture(pool, pool._assign_requests_to_connections(), requests))
        assert pictures[0] == pictures[1], (limits, layout, asks)


def test_it_asks_each_connection_once_where_httpcore_asks_every_one_for_each() -> None:
    asked = []
    for kind in (httpcore.AsyncConnectionPool, _LinearPool):
        connections = [FakeConnection(n, "idle", "a") for n in range(16)]
        _pool(kind, connections, [], (16, 16))._assign_requests_to_connections()
        asked.append(sum(c.idle_asks for c in connections))
    assert asked == [16 + 16 * 16, 16]


def test_the_production_client_counts_with_it_unless_httpcore_changed(
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert type(new_http_client()._transport._pool) is _LinearPool  # type: ignore[attr-defined]
    monkeypatch.setattr(keepalive, "ASSIGN_AS_READ", "0" * 64)  # another httpcore
    assert type(new_http_client()._transport._pool) is (  # type: ignore[attr-defined]
        httpcore.AsyncConnectionPool)

"""The production client's pool checks idle connections through ``KeptAliveBackend``: a
connection the server closed while idle is still noticed, and the next call goes on a
fresh one instead of failing (for a create, failing there would read as a lost reply)."""

from __future__ import annotations

import asyncio
import socket

import httpcore
import httpx
import pytest

from storyboard.api.keepalive import KeptAliveBackend, keep_alive_cheaply, readable
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

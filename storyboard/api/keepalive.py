"""A cheaper look at the connections a pool keeps alive.

Before every request and after every response, httpcore's pool asks each idle
connection whether the server has closed it (an idle socket that is readable can only
be about to read the end). Through its anyio backend that look builds a mapping of the
socket's attributes, with a ``getpeername`` call, for every idle connection, every
time: with a dozen connections kept, about a tenth of a run's client CPU. The socket of
a connection never changes, so it is looked up once, and the look is one ``poll(2)``.

Everything else — connecting, TLS, reading, writing, their timeouts and the errors they
raise (which decide whether a create may have been sent) — is the backend's own,
called unchanged.
"""

from __future__ import annotations

import select
import ssl
from collections.abc import Iterable
from typing import Any, Protocol

import httpcore
import httpx

SocketOption = (tuple[int, int, int] | tuple[int, int, bytes | bytearray]
                | tuple[int, int, None, int])


class _HasFileno(Protocol):
    def fileno(self) -> int: ...


def readable(sock: _HasFileno) -> bool:
    """Whether ``sock`` has something to read (or is gone): httpcore's own test, done once."""
    fd = sock.fileno()
    if fd < 0:
        return True  # closed: as good as a readable end
    poll = select.poll()
    poll.register(fd, select.POLLIN)
    return bool(poll.poll(0))


class _Stream(httpcore.AsyncNetworkStream):
    """A backend's stream, with ``is_readable`` answered from the socket found at the start."""

    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self._inner = inner
        found = inner.get_extra_info("socket")  # asyncio's TransportSocket, say
        self._socket: _HasFileno | None = found if callable(getattr(found, "fileno", None)) \
            else None

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._inner.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                        timeout: float | None = None) -> httpcore.AsyncNetworkStream:
        return _Stream(await self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable" and self._socket is not None:
            return readable(self._socket)
        return self._inner.get_extra_info(info)


class KeptAliveBackend(httpcore.AsyncNetworkBackend):
    """``inner`` (httpcore's default backend), its streams answering ``is_readable`` cheaply."""

    def __init__(self, inner: httpcore.AsyncNetworkBackend) -> None:
        self._inner = inner

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: Iterable[SocketOption] | None = None,
                          ) -> httpcore.AsyncNetworkStream:
        return _Stream(await self._inner.connect_tcp(
            host, port, timeout=timeout, local_address=local_address,
            socket_options=socket_options))

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable[SocketOption] | None = None,
                                  ) -> httpcore.AsyncNetworkStream:
        return _Stream(await self._inner.connect_unix_socket(
            path, timeout=timeout, socket_options=socket_options))

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def keep_alive_cheaply(transport: httpx.AsyncHTTPTransport) -> httpx.AsyncHTTPTransport:
    """``transport``, its pool's connections made through ``KeptAliveBackend``.

    httpx does not pass a network backend through to its pool, so the pool's is wrapped
    in place before it makes any connection. Where the pool is not the one this was
    written against (another httpx or httpcore, no ``poll``), the transport is returned
    as it was: slower, never different."""
    pool = getattr(transport, "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if (hasattr(select, "poll") and isinstance(pool, httpcore.AsyncConnectionPool)
            and isinstance(backend, httpcore.AsyncNetworkBackend)
            and not isinstance(backend, KeptAliveBackend) and not pool.connections):
        pool._network_backend = KeptAliveBackend(backend)
    return transport

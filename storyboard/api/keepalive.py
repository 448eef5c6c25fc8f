"""A cheaper look at the connections a pool keeps alive, and cheaper bookkeeping of them.

Before every request and after every response, httpcore's pool asks each idle
connection whether the server has closed it (an idle socket that is readable can only
be about to read the end). Through its anyio backend that look builds a mapping of the
socket's attributes, with a ``getpeername`` call, for every idle connection, every
time: with a dozen connections kept, about a tenth of a run's client CPU. The socket of
a connection never changes, so it is looked up once, and the look is one ``poll(2)``.

Everything else — connecting, TLS, reading, writing, their timeouts and the errors they
raise (which decide whether a create may have been sent) — is the backend's own,
called unchanged.

The same pool, on every request and every response it closes, looks for surplus idle
connections by counting all of them — with a list of every connection's ``is_idle()``,
built again for each idle one: n² calls, a tenth of a run's client CPU with a full pool.
``_LinearPool`` counts them with ``len``; it is the same number, and every other step is
httpcore's own, in its order. It replaces only the method it was written against (the
sha256 of its source), never another version's.
"""

from __future__ import annotations

import hashlib
import inspect
import select
import ssl
from collections.abc import Iterable
from typing import Any, Protocol

import httpcore
import httpx
from httpcore._async.interfaces import AsyncConnectionInterface

# sha256 of httpcore 1.0.9's AsyncConnectionPool._assign_requests_to_connections source
ASSIGN_AS_READ = "ea1547e78a655633653bde5257e611ee458cfd46b8ab4543de13c5bae095b0ae"

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


class _LinearPool(httpcore.AsyncConnectionPool):
    """httpcore's pool, counting its connections without asking each one n times."""

    def _assign_requests_to_connections(self) -> list[AsyncConnectionInterface]:
        closing_connections = []
        for connection in list(self._connections):
            if connection.is_closed():
                self._connections.remove(connection)
            elif connection.has_expired() or (
                    connection.is_idle()  # a surplus idle one; httpcore counts them all with
                    # len([connection.is_idle() for connection in self._connections])
                    and len(self._connections) > self._max_keepalive_connections):
                self._connections.remove(connection)
                closing_connections.append(connection)

        queued_requests = [request for request in self._requests if request.is_queued()]
        for pool_request in queued_requests:
            origin = pool_request.request.url.origin
            available_connections = [
                connection for connection in self._connections
                if connection.can_handle_request(origin) and connection.is_available()]
            idle_connections = [
                connection for connection in self._connections if connection.is_idle()]
            if available_connections:
                pool_request.assign_to_connection(available_connections[0])
            elif len(self._connections) < self._max_connections:
                connection = self.create_connection(origin)
                self._connections.append(connection)
                pool_request.assign_to_connection(connection)
            elif idle_connections:
                connection = idle_connections[0]
                self._connections.remove(connection)
                closing_connections.append(connection)
                connection = self.create_connection(origin)
                self._connections.append(connection)
                pool_request.assign_to_connection(connection)
        return closing_connections


def _assign_as_read() -> bool:
    """Whether httpcore's pool bookkeeping is the code ``_LinearPool`` was written from."""
    try:
        source = inspect.getsource(httpcore.AsyncConnectionPool._assign_requests_to_connections)
    except (OSError, TypeError):
        return False
    return hashlib.sha256(source.encode()).hexdigest() == ASSIGN_AS_READ


def keep_alive_cheaply(transport: httpx.AsyncHTTPTransport) -> httpx.AsyncHTTPTransport:
    """``transport``, its pool's connections made through ``KeptAliveBackend`` and counted
    by ``_LinearPool``.

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
        if type(pool) is httpcore.AsyncConnectionPool and _assign_as_read():
            pool.__class__ = _LinearPool
    return transport

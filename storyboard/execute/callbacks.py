"""Callbacks: the API POSTs to a job's ``callback_url`` when it ends, so a run can notice a
finished job in milliseconds with one query, instead of polling for it.

ShortAPI documents ``callback_url`` but not its payload, so a callback is only a hint:
"query this generation's job now". Nothing in its body is read. The URL sent with each
create names the generation instead: ``<base>?generation=<request hash>&token=<token>``
(``&…`` when the base has a query already), where the base is ``--callback-url`` (a public
address that forwards here, e.g. a tunnel) or this listener's own ``http://HOST:PORT/``.
The token is an HMAC of the hash under the journal's own random id, so only whoever was
sent the URL can wake a job — a request hash is no secret (anyone with the storyboard can
compute it) — and a job created by an earlier run on the same journal still wakes the
next one. A hint without the right token is ignored like an unknown hash.

``Listener`` is the receiving end, served on the event loop (an ``asyncio`` server whose
connections h11 reads): it answers 204 to any POST (reading at most ``MAX_BODY_BYTES``
of it, with a timeout against slow clients) and hands the hash and token to ``Hints``,
one latched event per generation of the run (unknown hashes are ignored), which the
executor's poll wait (``Pace``) wakes on. It was a stdlib ``ThreadingHTTPServer``, a
thread for every connection (a sender opens one a callback, as the sandbox does)
contending with the loop for the GIL: ~0.4 ms of CPU a callback, against ~0.3 ms here,
most of it now the kernel's work for the connection. A lost callback must not stall a
job, so polls go on as a safety net, sparse and late (``PollPolicy.net_interval``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import secrets
import socket
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit, urlunsplit

import h11

from storyboard.errors import UsageError
from storyboard.execute.stop import nap, wake
from storyboard.results import Callbacks

DEFAULT_HOST = "127.0.0.1"
PARAMETER = "generation"
TOKEN_PARAMETER = "token"
TOKEN_CHARS = 32  # hex digits of the HMAC kept: 128 bits
MAX_BODY_BYTES = 64 * 1024  # a hint's body is read (to keep the connection) and dropped
MAX_HEAD_BYTES = 16 * 1024  # request line and headers
READ_TIMEOUT_S = 5.0  # a client that sends slower than this is hung up on


@dataclass(frozen=True, slots=True)
class Listen:
    """Where ``--callback-listen`` listens: ``[HOST:]PORT`` (port 0: any free port)."""

    host: str
    port: int

    @classmethod
    def parse(cls, text: str) -> Listen:
        host, colon, port = text.strip().rpartition(":")
        host = host.strip("[]") if colon else DEFAULT_HOST
        if not port.isdigit() or not 0 <= int(port) <= 65535 or (colon and not host):
            raise UsageError(f"--callback-listen {text!r}: give [HOST:]PORT, e.g. 8080 or "
                             "127.0.0.1:0 (port 0: any free port)")
        return cls(host, int(port))


def callback_url(base: str, hash: str, token: str) -> str:
    """``base`` with ``generation=<hash>&token=<token>`` added to its query."""
    parts = urlsplit(base)
    added = f"{PARAMETER}={hash}&{TOKEN_PARAMETER}={token}"
    query = f"{parts.query}&{added}" if parts.query else added
    return urlunsplit(parts._replace(path=parts.path or "/", query=query))


class Hints:
    """The loop's side: a latched hint per generation hash of the run, and the waits it
    ends. A wait is ``stop.nap``, as ``Stop.sleep``'s: every job in flight waits here
    between two looks, and ``wait_for`` would make (and cancel) a task for each."""

    def __init__(self, hashes: Iterable[str], base_url: str, key: str | None = None) -> None:
        """``key``: what tokens are made with (the journal's id); a random one without."""
        self.base_url = base_url
        self._key = (key or secrets.token_hex(16)).encode()
        self._known = frozenset(hashes)
        self._latched: set[str] = set()  # hinted, not yet taken by a wait
        self._waiting: dict[str, asyncio.Future[None]] = {}
        self._unhinted: set[str] = set()  # whose last wait ended with no hint
        self.received = self.ignored = 0

    def token(self, hash: str) -> str:
        return hmac.new(self._key, hash.encode(), "sha256").hexdigest()[:TOKEN_CHARS]

    def url_for(self, hash: str) -> str:
        return callback_url(self.base_url, hash, self.token(hash))

    def hint(self, hash: str | None, token: str | None) -> None:
        """A callback named ``hash`` (on the loop's thread); unknown ones, and any without
        the hash's token, change nothing."""
        if hash is None or hash not in self._known or token is None \
                or not hmac.compare_digest(token, self.token(hash)):
            self.ignored += 1
            return
        self.received += 1
        self._latched.add(hash)
        wake(self._waiting.get(hash))

    def wake_all(self) -> None:
        """Every wait ends now (a stop was asked for); none counts as hinted."""
        for waiter in self._waiting.values():
            wake(waiter)

    async def wait(self, hash: str, seconds: float) -> bool:
        """Until a hint for ``hash`` (True; one that came meanwhile counts) or ``seconds``."""
        if hash in self._waiting:  # not expected (one poll per hash): wait without hints
            await asyncio.sleep(seconds)
            return False
        if hash not in self._latched:
            waiter = self._waiting[hash] = asyncio.get_running_loop().create_future()
            try:
                await nap(seconds, waiter)
            finally:
                del self._waiting[hash]
        if hash in self._latched:
            self._latched.discard(hash)
            self._unhinted.discard(hash)
            return True
        self._unhinted.add(hash)
        return False

    def count(self, delivered: Iterable[str]) -> Callbacks:
        """Of the ``delivered`` hashes, how many a poll found done before their callback."""
        parts = urlsplit(self.base_url)  # a query or credentials in --callback-url stay out
        where = urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))
        return Callbacks(where, self.received, len(self._unhinted.intersection(delivered)))


class _Connection(asyncio.Protocol):
    """One connection to the listener, on the event loop: HTTP/1.1 read by h11, each POST
    answered 204 and its generation handed on (anything else: 501). A client that sends
    nothing for ``READ_TIMEOUT_S``, a body past ``MAX_BODY_BYTES`` or a request h11 cannot
    read is hung up on."""

    def __init__(self, listener: Listener) -> None:
        self._listener = listener
        self._http = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD_BYTES)
        self._transport: asyncio.Transport | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._request: h11.Request | None = None
        self._body = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._listener.connections.add(self)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        self._listener.connections.discard(self)
        if self._timer is not None:
            self._timer.cancel()

    def data_received(self, data: bytes) -> None:
        self._arm()
        self._http.receive_data(data)
        self._read()

    def eof_received(self) -> bool:
        self._http.receive_data(b"")
        self._read()
        return False  # the transport closes itself

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    def _arm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = asyncio.get_running_loop().call_later(READ_TIMEOUT_S, self.close)

    def _read(self) -> None:
        while self._transport is not None and not self._transport.is_closing():
            try:
                event = self._http.next_event()
            except h11.RemoteProtocolError as exc:  # say why where it can, then hang up
                with contextlib.suppress(h11.LocalProtocolError):
                    self._transport.write(self._http.send(h11.Response(
                        status_code=exc.error_status_hint,
                        headers=[("Content-Length", "0"), ("Connection", "close")])) or b"")
                return self.close()
            if event is h11.NEED_DATA or event is h11.PAUSED:
                return None
            if isinstance(event, h11.Request):
                self._request, self._body = event, 0
            elif isinstance(event, h11.Data):
                self._body += len(event.data)
                if self._body > MAX_BODY_BYTES:  # a hint is small: answer, read no more
                    return self._answer(closing=True)
            elif isinstance(event, h11.EndOfMessage):
                self._answer(closing=False)
            else:  # ConnectionClosed
                return self.close()
        return None

    def _answer(self, *, closing: bool) -> None:
        assert self._transport is not None and self._request is not None
        post = self._request.method == b"POST"
        headers = [("Content-Length", "0"), *([("Connection", "close")] if closing else [])]
        self._transport.write(self._http.send(h11.Response(status_code=204 if post else 501,
                                                           headers=headers)) or b"")
        self._transport.write(self._http.send(h11.EndOfMessage()) or b"")
        if post:  # whatever it held, a 204: a caller learns nothing by trying
            query = parse_qs(urlsplit(self._request.target.decode("ascii", "replace")).query)
            self._listener.deliver(*(query[name][0] if name in query else None
                                     for name in (PARAMETER, TOKEN_PARAMETER)))
        if closing or self._http.our_state is h11.MUST_CLOSE:
            self.close()
        else:
            self._http.start_next_cycle()


class Listener:
    """The HTTP end of callbacks: bound when made (a port in use fails before anything is
    created), served on the run's event loop from ``attach`` until ``detach``, and given
    back by ``close``. Nothing runs in a thread: a hint costs the loop about what reading
    a poll's reply does."""

    def __init__(self, listen: Listen) -> None:
        self._socket = socket.socket(socket.AF_INET6 if ":" in listen.host else socket.AF_INET)
        try:
            self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._socket.bind((listen.host, listen.port))
            self._socket.listen(128)
        except OSError as exc:
            self._socket.close()
            raise UsageError(f"--callback-listen {listen.host}:{listen.port}: cannot listen "
                             f"there ({exc.strerror or exc})") from None
        host, port = self._socket.getsockname()[:2]
        self.url = f"http://{f'[{host}]' if ':' in host else host}:{port}/"
        self.connections: set[_Connection] = set()
        self._hints: Hints | None = None
        self._serving: asyncio.Task[asyncio.Server] | None = None

    def attach(self, loop: asyncio.AbstractEventLoop, hints: Hints) -> None:
        """Hand every callback's hash to ``hints`` from now on, served on ``loop`` (the
        running one; connections made before wait to be accepted)."""
        self._hints = hints
        if self._serving is None:
            self._serving = loop.create_task(loop.create_server(
                lambda: _Connection(self), sock=self._socket.dup()))

    def deliver(self, hash: str | None, token: str | None) -> None:
        if self._hints is not None:
            self._hints.hint(hash, token)

    def detach(self) -> None:
        """Serve no more (on the loop that served: the run's, before it ends)."""
        serving, self._serving, self._hints = self._serving, None, None
        if serving is not None:
            if not serving.done():
                serving.cancel()
            elif not serving.cancelled() and serving.exception() is None:
                serving.result().close()
        for connection in list(self.connections):
            connection.close()

    def close(self) -> None:
        with contextlib.suppress(RuntimeError):  # the loop that served it has closed
            self.detach()
        self._socket.close()


@contextlib.contextmanager
def listening(listen: Listen | None) -> Iterator[Listener | None]:
    """A bound ``Listener`` for ``listen`` (None: callbacks are off), closed afterwards."""
    if listen is None:
        yield None
        return
    listener = Listener(listen)
    try:
        yield listener
    finally:
        listener.close()


@contextlib.contextmanager
def hinted(listener: Listener | None, hashes: Iterable[str], public_url: str | None,
           key: str | None) -> Iterator[Hints | None]:
    """The run's hints, served by ``listener`` on the running loop while the run lasts
    (None: callbacks off). Creates name ``public_url`` (``--callback-url``) when given,
    else the listener; their tokens are made with ``key`` (the journal's id)."""
    if listener is None:
        yield None
        return
    hints = Hints(hashes, public_url or listener.url, key)
    listener.attach(asyncio.get_running_loop(), hints)
    try:
        yield hints
    finally:
        listener.detach()

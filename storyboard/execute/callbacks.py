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

``Listener`` is the receiving end: a stdlib ``ThreadingHTTPServer`` in a daemon thread
that answers 204 to any POST (reading at most ``MAX_BODY_BYTES`` of it, with a timeout
against slow clients) and hands the hash to the event loop with
``loop.call_soon_threadsafe``. ``Hints`` is the loop's side: one latched event per
generation of the run (unknown hashes are ignored), which the executor's poll wait
(``Pace``) wakes on. A lost callback must not stall a job, so polls go on as a safety
net, sparse and late (``PollPolicy.net_interval``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import secrets
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

from storyboard.errors import UsageError
from storyboard.results import Callbacks
from storyboard.execute.stop import nap, wake

DEFAULT_HOST = "127.0.0.1"
PARAMETER = "generation"
TOKEN_PARAMETER = "token"
TOKEN_CHARS = 32  # hex digits of the HMAC kept: 128 bits
MAX_BODY_BYTES = 64 * 1024  # a hint's body is read (to keep the connection) and dropped
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


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = READ_TIMEOUT_S
    server: _Server

    def do_POST(self) -> None:
        length = self.headers.get("Content-Length", "")
        if self.headers.get("Transfer-Encoding") or not length.isdigit() \
                or int(length) > MAX_BODY_BYTES:
            self.close_connection = True  # the body is not read: the connection cannot go on
        else:
            self.rfile.read(int(length))
        query = parse_qs(urlsplit(self.path).query)
        self.send_response(204)  # whatever it held: a caller learns nothing by trying
        self.send_header("Content-Length", "0")
        self.end_headers()
        self.server.deliver(*(query[name][0] if name in query else None
                              for name in (PARAMETER, TOKEN_PARAMETER)))

    def log_message(self, format: str, *args: Any) -> None:
        pass  # a hint is not worth a line on the user's terminal


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    deliver: Callable[[str | None, str | None], None] = staticmethod(lambda hash, token: None)


class Listener:
    """The HTTP end of callbacks: bound when made (a port in use fails before anything is
    created), serving from ``attach`` until ``close``."""

    def __init__(self, listen: Listen) -> None:
        try:
            self._server = _Server((listen.host, listen.port), _Handler)
        except OSError as exc:
            raise UsageError(f"--callback-listen {listen.host}:{listen.port}: cannot listen "
                             f"there ({exc.strerror or exc})") from None
        host, port = str(self._server.server_address[0]), int(self._server.server_address[1])
        self.url = f"http://{f'[{host}]' if ':' in host else host}:{port}/"
        self._thread: threading.Thread | None = None

    def attach(self, loop: asyncio.AbstractEventLoop, hints: Hints) -> None:
        """Hand every callback's hash and token to ``hints`` on ``loop`` from now on."""
        def deliver(hash: str | None, token: str | None) -> None:
            with contextlib.suppress(RuntimeError):  # the loop closed: the run is over
                loop.call_soon_threadsafe(hints.hint, hash, token)

        self._server.deliver = deliver
        if self._thread is None:
            self._thread = threading.Thread(target=self._server.serve_forever,
                                            kwargs={"poll_interval": 0.05}, daemon=True,
                                            name="storyboard-callbacks")
            self._thread.start()

    def close(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()


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


def hints_for(listener: Listener | None, hashes: Iterable[str],
              public_url: str | None, key: str | None) -> Hints | None:
    """The run's hints, served by ``listener`` on the running loop (None: callbacks off).
    Creates name ``public_url`` (``--callback-url``) when given, else the listener; their
    tokens are made with ``key`` (the journal's id)."""
    if listener is None:
        return None
    hints = Hints(hashes, public_url or listener.url, key)
    listener.attach(asyncio.get_running_loop(), hints)
    return hints

"""Callbacks: the API POSTs to a job's ``callback_url`` when it ends, so a run can notice a
finished job in milliseconds with one query, instead of polling for it.

ShortAPI documents ``callback_url`` but not its payload, so a callback is only a hint:
"query this generation's job now". Nothing in its body is read. The URL sent with each
create names the generation instead: ``<base>?generation=<request hash>`` (``&…`` when the
base has a query already), where the base is ``--callback-url`` (a public address that
forwards here, e.g. a tunnel) or this listener's own ``http://HOST:PORT/``.

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
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

from storyboard.errors import UsageError
from storyboard.execute.stop import nap, wake

DEFAULT_HOST = "127.0.0.1"
PARAMETER = "generation"
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


def callback_url(base: str, hash: str) -> str:
    """``base`` with ``generation=<hash>`` added to its query."""
    parts = urlsplit(base)
    query = f"{parts.query}&{PARAMETER}={hash}" if parts.query else f"{PARAMETER}={hash}"
    return urlunsplit(parts._replace(path=parts.path or "/", query=query))


class Hints:
    """The loop's side: a latched hint per generation hash of the run, and the waits it
    ends. A wait is ``stop.nap``, as ``Stop.sleep``'s: every job in flight waits here
    between two looks, and ``wait_for`` would make (and cancel) a task for each."""

    def __init__(self, hashes: Iterable[str], base_url: str) -> None:
        self.base_url = base_url
        self._known = frozenset(hashes)
        self._latched: set[str] = set()  # hinted, not yet taken by a wait
        self._waiting: dict[str, asyncio.Future[None]] = {}
        self.received = self.ignored = 0

    def url_for(self, hash: str) -> str:
        return callback_url(self.base_url, hash)

    def hint(self, hash: str | None) -> None:
        """A callback named ``hash`` (on the loop's thread); unknown ones change nothing."""
        if hash is None or hash not in self._known:
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
            return True
        return False


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
        values = parse_qs(urlsplit(self.path).query).get(PARAMETER)
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()
        self.server.deliver(values[0] if values else None)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # a hint is not worth a line on the user's terminal


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    deliver: Callable[[str | None], None] = staticmethod(lambda hash: None)


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
        """Hand every callback's hash to ``hints`` on ``loop`` from now on."""
        def deliver(hash: str | None) -> None:
            with contextlib.suppress(RuntimeError):  # the loop closed: the run is over
                loop.call_soon_threadsafe(hints.hint, hash)

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
              public_url: str | None) -> Hints | None:
    """The run's hints, served by ``listener`` on the running loop (None: callbacks off).
    Creates name ``public_url`` (``--callback-url``) when given, else the listener."""
    if listener is None:
        return None
    hints = Hints(hashes, public_url or listener.url)
    listener.attach(asyncio.get_running_loop(), hints)
    return hints

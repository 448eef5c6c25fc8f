"""HTTP plumbing for the sandbox: a threading server on loopback and a handler that turns
requests into the service's calls and its replies into bytes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from storyboard.api.contract import SANDBOX_HEADER

if TYPE_CHECKING:
    from storyboard.api.sandbox.service import Sandbox

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1 << 20
IDLE_TIMEOUT_S = 120.0  # an idle keep-alive connection is closed after this


# --- the service ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Request:
    method: str
    path: str
    query: Mapping[str, list[str]]
    headers: Message
    body: bytes


@dataclass(frozen=True, slots=True)
class _Reply:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0  # seconds to wait before answering
    drop: bool = False  # close the connection without a reply
    send_bytes: int | None = None  # send only this much of the body, then close

    def after(self, delay: float) -> _Reply:
        return dataclasses.replace(self, delay=delay) if delay else self


# --- HTTP plumbing -------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # a benchmark opens 100 connections at once

    def __init__(self, address: tuple[str, int], sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        self.sandbox.ledger.count_connection()
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Hang up on open keep-alive connections so their threads end with the server."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients hang up mid-reply all the time (timeouts, injected faults); never
        # print a traceback for it.
        log.debug("sandbox: connection from %s ended with an error", client_address,
                  exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so clients pool connections
    default_request_version = "HTTP/1.1"  # so even a garbled request gets a status line
    server_version = "storyboard-sandbox"
    disable_nagle_algorithm = True
    timeout = IDLE_TIMEOUT_S
    server: _Server

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        if self.headers.get("Transfer-Encoding"):
            self.send_error(411, "send the body with a Content-Length")
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY_BYTES:
            self.send_error(413 if length > 0 else 400, "bad or too large Content-Length")
            return
        body = self.rfile.read(length) if length else b""
        target = urlsplit(self.path)
        request = _Request(
            method=self.command,
            path=target.path,
            query=parse_qs(target.query),
            headers=self.headers,
            body=body,
        )
        self._write(self.server.sandbox._respond(request))

    def _write(self, reply: _Reply) -> None:
        if reply.delay:
            time.sleep(reply.delay)
        if reply.drop:
            self._hang_up()
            return
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers:
            self.send_header(name, value)
        self._identify()
        self.end_headers()
        if reply.send_bytes is None:
            self.wfile.write(reply.body)
        else:
            self.wfile.write(reply.body[: reply.send_bytes])
            self._hang_up()

    def _identify(self) -> None:
        if self.server.sandbox.config.identify:
            self.send_header(SANDBOX_HEADER, "placeholder videos, no charges")

    def _hang_up(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def send_error(self, code: int, message: str | None = None,
                   explain: str | None = None) -> None:
        """Errors http.server raises itself (bad request line, ...) as JSON, like the API."""
        text = message or self.responses.get(code, ("error",))[0]
        body = json.dumps({"code": code, "message": text}).encode("utf-8")
        self.close_connection = True
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self._identify()
        self.end_headers()
        if getattr(self, "command", "") != "HEAD":
            self.wfile.write(body)

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("sandbox: %s " + format, self.address_string(), *args)

"""How a failed exchange is told: safe to repeat or not, and in words that carry no secret."""

from __future__ import annotations

import re
import urllib.parse

import httpx

from storyboard.errors import ExecutionError

REDACTED = "[redacted]"


class _Transient(Exception):
    """Internal: this try failed in a way that is safe to repeat."""

    def __init__(self, error: ExecutionError, retry_after: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after


# Transport failures that happen before any byte of the request can have left.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ProxyError)

# the values of URL query parameters whose name says they are a credential
_SECRET_PARAM = re.compile(
    r"(?i)([?&;][\w.~-]*(?:key|token|secret|signature|sig|password|passwd|auth|credential)"
    r"[\w.~-]*=)[^&#;\s'\"]*")


def redact(text: str, key: str) -> str:
    """``text`` with the API key (as sent or URL-encoded) and the values of secret-looking
    URL parameters replaced: a result URL may carry the key (``?key=…``), and nothing that
    is written — journal, manifest, messages — may."""
    for form in {key, urllib.parse.quote(key, safe=""), urllib.parse.quote_plus(key)}:
        if form:
            text = text.replace(form, REDACTED)
    return _SECRET_PARAM.sub(rf"\g<1>{REDACTED}", text)


def _lost_reply(exc: httpx.HTTPError) -> str:
    """Why no reply came, without the library's own words (the journal keeps no traceback)."""
    if isinstance(exc, httpx.TimeoutException):
        return "no reply came in time"
    return "the connection dropped before the reply"


_TRANSPORT_TROUBLE = ((httpx.TimeoutException, "timed out"),
                      (httpx.ConnectError, "could not connect"),
                      (httpx.RemoteProtocolError, "the connection dropped"),
                      (httpx.NetworkError, "the connection failed"))


def _describe_exception(exc: BaseException) -> str:
    """What went wrong on the wire, in words (a library's class name means nothing to a user)."""
    what = next((words for kind, words in _TRANSPORT_TROUBLE if isinstance(exc, kind)),
                "the request failed")
    detail = str(exc).strip().rstrip(".")
    return f"{what}: {detail}" if detail else what

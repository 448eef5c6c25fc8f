"""ShortAPI's wire contract, written once for the client and the sandbox: paths, codes,
statuses, headers, and how a reply reads (its job id, amount, status, video URL and
message, wherever a reply puts them).
"""

from __future__ import annotations

import email.utils
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx

DEFAULT_BASE_URL = "https://api.shortapi.ai"
BASE_URL_ENV = "SHORTAPI_BASE_URL"
API_KEY_ENV = "SHORTAPI_KEY"
CREATE_PATH = "/api/v1/job/create"
QUERY_PATH = "/api/v1/job/query"
CODE_OK = 0
CODE_MODEL_UNAVAILABLE = 3000  # upstream model temporarily unavailable: not run, retry
STATUS_QUEUED = 0
STATUS_GENERATING = 1
STATUS_SUCCEEDED = 2
STATUS_FAILED = 3  # what the sandbox answers; the API has more failure codes (any other)
MESSAGE_KEYS = ("message", "msg", "info")


# Every answer of a sandbox carries this header, so that nothing it makes (a placeholder
# video, a $0 "charge") is ever taken for the real API's work.
SANDBOX_HEADER = "Storyboard-Sandbox"


@dataclass(frozen=True, slots=True)
class Created:
    """An accepted create: the job id to persist at once, and what it was charged."""

    job_id: str
    amount: Decimal | None
    sandbox: bool = False  # the answer came from a sandbox: the job is a placeholder


@dataclass(frozen=True, slots=True)
class JobState:
    """One query's answer. ``url`` is set exactly when ``done``."""

    status: int
    done: bool
    failed: bool
    url: str | None
    refunded: bool
    message: str | None

    @property
    def pending(self) -> bool:
        return not (self.done or self.failed)


def parse_retry_after(value: str | None, now: float) -> float | None:
    """``Retry-After`` as seconds to wait: delta-seconds or an HTTP date; None if absent/bad."""
    if value is None:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:  # an HTTP date is always GMT
            return None
        seconds = when.timestamp() - now
    if math.isnan(seconds):
        return None
    return max(0.0, seconds)


@dataclass(frozen=True, slots=True)
class _Reply:
    """An HTTP answer read defensively: ``body`` is None unless it is a JSON object
    with a usable ``code`` (absent counts as success)."""

    status: int
    body: Mapping[str, Any] | None
    code: int | None
    message: str | None
    retry_after: float | None
    sandbox: bool = False

    def data(self) -> Mapping[str, Any] | None:
        data = self.body.get("data") if self.body is not None else None
        return data if isinstance(data, Mapping) else None

    def describe(self) -> str:
        parts = [f"HTTP {self.status}"]
        if self.code not in (None, CODE_OK):
            parts.append(f"code {self.code}")
        text = ", ".join(parts)
        return f"{text}: {self.message}" if self.message else text


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    return None


def _message(*sources: Mapping[str, Any] | None) -> str | None:
    for source in sources:
        if source is None:
            continue
        for key in MESSAGE_KEYS:
            value = source.get(key)
            if isinstance(value, str) and value.strip():
                return " ".join(value.split())
    return None


def is_sandbox(response: httpx.Response) -> bool:
    return SANDBOX_HEADER in response.headers


def _read_reply(response: httpx.Response, now: float) -> _Reply:
    retry_after = parse_retry_after(response.headers.get("retry-after"), now)
    sandbox = is_sandbox(response)
    try:
        parsed = json.loads(response.content, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError, RecursionError):
        parsed = None
    if not isinstance(parsed, Mapping):
        return _Reply(response.status_code, None, None, None, retry_after, sandbox)
    raw_code = parsed.get("code", CODE_OK)
    code = _int_or_none(raw_code)
    message = _message(parsed)
    body = parsed if code is not None else None
    return _Reply(response.status_code, body, code, message, retry_after, sandbox)


def _job_id(data: Mapping[str, Any] | None) -> str | None:
    value = data.get("job_id") if data is not None else None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _amount(data: Mapping[str, Any] | None) -> Decimal | None:
    """The charged amount; a malformed one is None rather than losing the job id."""
    value = data.get("amount") if data is not None else None
    if isinstance(value, bool) or value is None:
        return None
    try:
        amount = Decimal(value) if isinstance(value, str | int | Decimal) else None
    except InvalidOperation:
        return None
    return amount if amount is not None and amount.is_finite() else None


def _video_url(data: Mapping[str, Any]) -> str | None:
    result = data.get("result")
    videos = result.get("videos") if isinstance(result, Mapping) else None
    first = videos[0] if isinstance(videos, list) and videos else None
    url = first.get("url") if isinstance(first, Mapping) else None
    return url if isinstance(url, str) and url.strip() else None


def _failure_text(body: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """The top-level message, unless it is only the envelope's 'success'."""
    if body is None:
        return None
    text = _message(body)
    if text is None or text.lower() in ("ok", "success", "succeeded"):
        return None
    return body


def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value != 0
    return isinstance(value, str) and value.strip().lower() in ("true", "1", "yes")

"""The ShortAPI job API, spoken over an injected ``httpx.AsyncClient``.

Money is real, so every create is classified by what is *certain* about it:

* it certainly did not run (refused connection, connect/pool timeout, HTTP 429/503,
  ``code: 3000``) -> retried with backoff, then ``RetryableAPIError``;
* it was refused (HTTP 4xx, a non-zero ``code``) -> ``AuthError``/``APIError``, not run;
* anything else after the first byte may have left (read/write timeout, dropped
  connection, other 5xx, an unreadable or incomplete 2xx) -> ``OutcomeUnknown`` at once:
  there is no idempotency key, so sending it again could pay twice.

Queries and downloads cost nothing and are retried freely. The API key is sent only
to the API (never on downloads, whose URLs may be a CDN) and is never part of an
error, a log line or a repr. Every number that shapes timing lives in
``RetryPolicy``, ``Timeouts`` and ``Limits``.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import hashlib
import json
import logging
import math
import os
import random
import re
import tempfile
import time
import urllib.parse
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, BinaryIO, NoReturn, TypeVar

import httpx

from storyboard import __version__
from storyboard.errors import (
    APIError,
    AuthError,
    DownloadError,
    ExecutionError,
    OutcomeUnknown,
    RetryableAPIError,
    UsageError,
)
from storyboard.media.probe import verify as verify_video
from storyboard.store import fsync_dir, new_file_mode

log = logging.getLogger(__name__)

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
MESSAGE_KEYS = ("message", "msg", "info")
# Every answer of a sandbox carries this header, so that nothing it makes (a placeholder
# video, a $0 "charge") is ever taken for the real API's work.
SANDBOX_HEADER = "Storyboard-Sandbox"
PROBE_TIMEOUT_S = 5.0
REDACTED = "[redacted]"

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently a call is repeated when repeating it is safe.

    ``attempts`` counts every try, the first included. The n-th retry waits
    ``min(max_delay, base_delay * 2**(n-1))`` shortened by up to ``jitter`` of itself
    (so many clients do not retry in step), unless the server said ``Retry-After``:
    then exactly that long. A ``Retry-After`` above ``max_retry_after`` is not slept
    through inside one call; the call gives up and the error carries it.
    """

    attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 30.0
    jitter: float = 0.5
    max_retry_after: float = 120.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("RetryPolicy.attempts must be at least 1")
        if not 0.0 <= self.jitter <= 1.0:
            raise ValueError("RetryPolicy.jitter is a fraction between 0 and 1")
        if self.base_delay < 0 or self.max_delay < 0 or self.max_retry_after < 0:
            raise ValueError("RetryPolicy delays cannot be negative")

    def backoff(self, retry: int, rng: random.Random) -> float:
        """The wait before retry number ``retry`` (1-based) when the server gave none."""
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** (retry - 1))
        return ceiling * (1.0 - self.jitter * rng.random())


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds per phase of one HTTP exchange; downloads get a longer read timeout."""

    connect: float = 10.0
    read: float = 60.0
    write: float = 30.0
    pool: float = 60.0
    download_read: float = 120.0

    def api(self) -> httpx.Timeout:
        return httpx.Timeout(connect=self.connect, read=self.read, write=self.write,
                             pool=self.pool)

    def download(self) -> httpx.Timeout:
        return httpx.Timeout(connect=self.connect, read=self.download_read, write=self.write,
                             pool=self.pool)


@dataclass(frozen=True, slots=True)
class Limits:
    """Sizes and counts that bound what one client may use."""

    max_connections: int = 16
    max_keepalive_connections: int = 8
    max_download_bytes: int = 1 << 30  # a 15 s clip is tens of MB; refuse a runaway body


def new_http_client(*, timeouts: Timeouts = Timeouts(),
                    limits: Limits = Limits()) -> httpx.AsyncClient:
    """The production ``httpx.AsyncClient``: no default headers, no redirects on API calls."""
    return httpx.AsyncClient(
        timeout=timeouts.api(),
        limits=httpx.Limits(max_connections=limits.max_connections,
                            max_keepalive_connections=limits.max_keepalive_connections),
        follow_redirects=False,
    )


def base_url_from(option: str | None, env: Mapping[str, str]) -> str:
    """``--api-base``, else ``$SHORTAPI_BASE_URL``, else the public API."""
    raw = option or env.get(BASE_URL_ENV) or DEFAULT_BASE_URL
    return _checked_base_url(raw, "--api-base" if option else BASE_URL_ENV)


def _checked_base_url(raw: str, source: str) -> str:
    try:
        url = httpx.URL(raw.strip())
    except httpx.InvalidURL:
        url = None
    if url is None or url.scheme not in ("http", "https") or not url.host:
        raise UsageError(f"{source}: {raw!r} is not an http(s) URL such as {DEFAULT_BASE_URL}")
    return str(url).rstrip("/")


def api_key_from(env: Mapping[str, str]) -> str | None:
    """The key comes from ``$SHORTAPI_KEY`` only (never a file, an option or a plan)."""
    key = env.get(API_KEY_ENV, "").strip()
    return key or None


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


# ----------------------------------------------------------------------------- replies


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


def identify(base_url: str, *, transport: httpx.BaseTransport | None = None,
             timeout: float = PROBE_TIMEOUT_S) -> bool:
    """Whether the API at ``base_url`` is a sandbox, asked before a run plans anything.

    One GET of the query endpoint without a key (nothing is sent that could cost or
    leak); any answer carries the sandbox's header if it is one. An API that cannot be
    reached is taken for the real one: the safe side, since then nothing a sandbox
    made is reused.
    """
    try:
        with httpx.Client(transport=transport, timeout=timeout,
                          follow_redirects=False) as http:
            response = http.get(_checked_base_url(base_url, "base URL") + QUERY_PATH,
                                headers={"User-Agent": f"storyboard/{__version__}"})
    except httpx.HTTPError:
        return False
    return is_sandbox(response)


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


class _Transient(Exception):
    """Internal: this try failed in a way that is safe to repeat."""

    def __init__(self, error: ExecutionError, retry_after: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after


class _TokenBucket:
    """One token per ``1/rate`` seconds, no burst beyond one: every call takes a token."""

    def __init__(self, rate: float, sleep: Callable[[float], Awaitable[None]],
                 clock: Callable[[], float]) -> None:
        if not rate > 0:
            raise ValueError("rate must be a positive number of requests per second")
        self._interval = 1.0 / rate
        self._sleep = sleep
        self._clock = clock
        self._next = -math.inf

    async def take(self) -> None:
        # Reserve a slot synchronously (no await in between), so concurrent callers on
        # one event loop queue up in order without a lock.
        now = self._clock()
        slot = max(now, self._next)
        self._next = slot + self._interval
        if slot > now:
            await self._sleep(slot - now)


# ------------------------------------------------------------------------------ client

# Transport failures that happen before any byte of the request can have left.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ProxyError)


class ShortAPIClient:
    """Create, query and download ShortAPI jobs; retry only what certainly did not run."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        base_url: str,
        api_key: str,
        policy: RetryPolicy = RetryPolicy(),
        timeouts: Timeouts = Timeouts(),
        limits: Limits = Limits(),
        rate: float | None = None,
        rng: random.Random | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not api_key:
            raise AuthError(f"no API key: set {API_KEY_ENV}")
        if not api_key.isascii() or not api_key.isprintable() or any(c.isspace() for c in api_key):
            raise AuthError(f"{API_KEY_ENV} holds characters that cannot be sent in a header")
        if "authorization" in http.headers:
            raise ValueError("the injected httpx client must not carry an Authorization header: "
                             "downloads from other hosts would leak it")
        self._http = http
        self._base_url = _checked_base_url(base_url, "base URL")
        self._api_key = api_key
        self._policy = policy
        self._timeouts = timeouts
        self._limits = limits
        self._rng = rng if rng is not None else random.Random()
        self._sleep = sleep
        self._bucket = _TokenBucket(rate, sleep, clock) if rate is not None else None
        self._user_agent = f"storyboard/{__version__}"

    def __repr__(self) -> str:
        return f"ShortAPIClient(base_url={self._base_url!r})"

    @property
    def base_url(self) -> str:
        return self._base_url

    # ------------------------------------------------------------------ create

    async def create(self, model: str, args: Mapping[str, Any], *,
                     callback_url: str | None = None) -> Created:
        """POST one job. Returns only when the job certainly exists; see the module doc."""
        body: dict[str, Any] = {"model": model, "args": dict(args)}
        if callback_url is not None:
            body["callback_url"] = callback_url
        content = json.dumps(body, ensure_ascii=False, separators=(",", ":"),
                             allow_nan=False).encode("utf-8")
        what = f"create {model}"

        async def once() -> Created:
            await self._throttle()
            try:
                response = await self._http.post(
                    self._base_url + CREATE_PATH, content=content,
                    headers=self._api_headers(json_body=True), timeout=self._timeouts.api(),
                    follow_redirects=False)
            except _NOT_SENT as exc:
                raise _Transient(RetryableAPIError(
                    self.redact(f"{what}: could not connect to {self._base_url} "
                                 f"({_describe_exception(exc)}); nothing was sent"))) from exc
            except httpx.HTTPError as exc:
                self._unknown(_lost_reply(exc), exc)
            return self._created(what, _read_reply(response, time.time()))

        return await self._retrying(what, once, self._gave_up_api)

    def _created(self, what: str, reply: _Reply) -> Created:
        status = reply.status
        if 200 <= status < 300:
            if reply.body is None:
                self._unknown(f"the API answered HTTP {status} with a reply that is not its "
                              "JSON")
            if reply.code == CODE_MODEL_UNAVAILABLE:
                raise _Transient(self._api_error(RetryableAPIError, what, reply),
                                 reply.retry_after)
            job_id = _job_id(reply.data())
            if reply.code != CODE_OK:
                if job_id is not None:
                    self._unknown(f"the API answered {reply.describe()} yet named job {job_id}")
                if reply.code == 503:
                    raise _Transient(self._api_error(RetryableAPIError, what, reply),
                                     reply.retry_after)
                if isinstance(reply.code, int) and 500 <= reply.code < 600:
                    # an HTTP-style server error inside a 200: as with an HTTP 5xx, the
                    # job may have been recorded before it failed
                    self._unknown(f"the API answered {reply.describe()}")
                raise self._api_error(APIError, what, reply, rejected=True)
            if job_id is None:
                self._unknown(f"the API answered HTTP {status} without a job id")
            return Created(job_id=job_id, amount=_amount(reply.data()), sandbox=reply.sandbox)
        if status in (429, 503):
            raise _Transient(self._api_error(RetryableAPIError, what, reply), reply.retry_after)
        if status in (401, 403):
            raise self._api_error(AuthError, what, reply, rejected=True)
        if 400 <= status < 500:
            if reply.code == CODE_MODEL_UNAVAILABLE:
                raise _Transient(self._api_error(RetryableAPIError, what, reply),
                                 reply.retry_after)
            raise self._api_error(APIError, what, reply, rejected=True)
        # Other 5xx (the server may have recorded the job before failing), 1xx, 3xx.
        self._unknown(f"the API answered {reply.describe()}")

    def _unknown(self, why: str, cause: BaseException | None = None) -> NoReturn:
        """What happened to a create that was sent, in the user's words: the run says what
        it means (it may have been charged) and what to do, once."""
        raise OutcomeUnknown(self.redact(f"the create was sent but {why}")) from cause

    # ------------------------------------------------------------------- query

    async def query(self, job_id: str) -> JobState:
        """One look at a job; transient trouble is retried, a missing job is not."""
        what = f"query job {job_id}"

        async def once() -> JobState:
            await self._throttle()
            try:
                response = await self._http.get(
                    self._base_url + QUERY_PATH, params={"id": job_id},
                    headers=self._api_headers(json_body=False), timeout=self._timeouts.api(),
                    follow_redirects=False)
            except httpx.HTTPError as exc:
                raise _Transient(RetryableAPIError(
                    self.redact(f"{what}: {_describe_exception(exc)}"))) from exc
            return self._job_state(what, _read_reply(response, time.time()))

        return await self._retrying(what, once, self._gave_up_api)

    def _job_state(self, what: str, reply: _Reply) -> JobState:
        status = reply.status
        if status in (401, 403):
            raise self._api_error(AuthError, what, reply)
        refused = 400 <= status < 500 and status not in (408, 429)
        if refused and reply.code != CODE_MODEL_UNAVAILABLE:
            raise self._api_error(APIError, what, reply)  # 404: no such job
        if not 200 <= status < 300 or reply.body is None:
            raise _Transient(self._api_error(RetryableAPIError, what, reply), reply.retry_after)
        if reply.code == CODE_MODEL_UNAVAILABLE:
            raise _Transient(self._api_error(RetryableAPIError, what, reply), reply.retry_after)
        if reply.code != CODE_OK:
            raise self._api_error(APIError, what, reply)  # e.g. "job not found"
        data = reply.data()
        job_status = _int_or_none(data.get("status")) if data is not None else None
        if data is None or job_status is None:
            raise _Transient(RetryableAPIError(
                self.redact(f"{what}: HTTP {status} without data.status")), reply.retry_after)
        if job_status in (STATUS_QUEUED, STATUS_GENERATING):
            return JobState(job_status, done=False, failed=False, url=None, refunded=False,
                            message=None)
        if job_status == STATUS_SUCCEEDED:
            url = _video_url(data)
            if url is None:
                raise _Transient(RetryableAPIError(self.redact(
                    f"{what}: succeeded but result.videos[0].url is missing")))
            return JobState(job_status, done=True, failed=False, url=url, refunded=False,
                            message=None)
        reason = _message(data, _failure_text(reply.body))
        refunded = _truthy(data.get("refunded")) or _truthy((reply.body or {}).get("refunded"))
        return JobState(job_status, done=False, failed=True, url=None, refunded=refunded,
                        message=self.redact(reason) if reason else None)

    # ---------------------------------------------------------------- download

    async def download(self, url: str, dest: Path, *,
                       expected_seconds: int | None) -> tuple[str, int]:
        """Fetch a result video to ``dest`` atomically; returns ``(sha256 hex, size)``.

        The body goes to a temporary file beside ``dest``, is fsynced and verified as an
        MP4 of about ``expected_seconds``, and only then renamed into place, so ``dest``
        is either absent or complete. Never sends the API key.
        """
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL:
            parsed = None
        if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
            raise DownloadError(self.redact(f"download: {url!r} is not an http(s) URL"))
        what = self.redact(f"download {parsed.copy_with(query=None, fragment=None)}")
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DownloadError(f"{what}: cannot create {dest.parent}: {exc.strerror}") from exc

        async def once() -> tuple[str, int]:
            return await self._download_once(what, url, dest, expected_seconds)

        def gave_up(last: _Transient, attempts: int) -> ExecutionError:
            return DownloadError(f"{last.error} (gave up after {attempts} attempts)")

        return await self._retrying(what, once, gave_up)

    async def _download_once(self, what: str, url: str, dest: Path,
                             expected_seconds: int | None) -> tuple[str, int]:
        await self._throttle()
        try:
            fd, temp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.",
                                             suffix=".part")
        except OSError as exc:
            raise DownloadError(f"{what}: cannot write in {dest.parent}: {exc.strerror}") from exc
        temp = Path(temp_name)
        placed = False
        try:
            os.fchmod(fd, new_file_mode())  # the cache file is the render (a hard link)
            with os.fdopen(fd, "wb") as out:
                digest, size = await self._stream_to(what, url, out)
                out.flush()
                os.fsync(out.fileno())
            if size == 0:
                raise _Transient(DownloadError(f"{what}: the server sent an empty body"))
            try:
                verify_video(temp, expected_seconds)
            except DownloadError as exc:
                raise _Transient(DownloadError(f"{what}: {exc}")) from exc
            os.replace(temp, dest)
            placed = True
        finally:
            if not placed:
                with contextlib.suppress(FileNotFoundError):
                    temp.unlink()
        fsync_dir(dest.parent)
        return digest, size

    async def _stream_to(self, what: str, url: str, out: BinaryIO) -> tuple[str, int]:
        digest = hashlib.sha256()
        size = 0
        headers = {"User-Agent": self._user_agent, "Accept": "video/mp4, */*"}
        try:
            async with self._http.stream("GET", url, headers=headers,
                                         timeout=self._timeouts.download(),
                                         follow_redirects=True) as response:
                status = response.status_code
                if not 200 <= status < 300:
                    retry_after = parse_retry_after(response.headers.get("retry-after"),
                                                    time.time())
                    error = DownloadError(f"{what}: HTTP {status}")
                    if status in (408, 429) or status >= 500:
                        raise _Transient(error, retry_after)
                    raise DownloadError(f"{what}: HTTP {status}; the URL may have expired, "
                                        "query the job again for a fresh one")
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > self._limits.max_download_bytes:
                        raise DownloadError(f"{what}: larger than "
                                            f"{self._limits.max_download_bytes} bytes")
                    digest.update(chunk)
                    out.write(chunk)
        except httpx.HTTPError as exc:
            raise _Transient(DownloadError(
                self.redact(f"{what}: {_describe_exception(exc)}"))) from exc
        return digest.hexdigest(), size

    # ----------------------------------------------------------------- shared

    async def _retrying(self, what: str, once: Callable[[], Awaitable[T]],
                        gave_up: Callable[[_Transient, int], ExecutionError]) -> T:
        policy = self._policy
        for attempt in range(1, policy.attempts + 1):
            try:
                return await once()
            except _Transient as transient:
                too_long = (transient.retry_after is not None
                            and transient.retry_after > policy.max_retry_after)
                if attempt == policy.attempts or too_long:
                    raise gave_up(transient, attempt) from transient.__cause__
                if transient.retry_after is not None:
                    delay = transient.retry_after
                else:
                    delay = policy.backoff(attempt, self._rng)
                log.info("%s: %s; retrying in %.1fs (attempt %d of %d)", what,
                         transient.error, delay, attempt + 1, policy.attempts)
                await self._sleep(delay)
        raise AssertionError("unreachable: RetryPolicy.attempts >= 1")

    def _gave_up_api(self, last: _Transient, attempts: int) -> ExecutionError:
        error = last.error
        status = error.status if isinstance(error, APIError) else None
        code = error.code if isinstance(error, APIError) else None
        return RetryableAPIError(f"{error} (gave up after {attempts} attempts)",
                                 status=status, code=code, retry_after=last.retry_after)

    def _api_error(self, kind: type[APIError], what: str, reply: _Reply, *,
                   rejected: bool = False) -> APIError:
        text = f"{what}: {reply.describe()}"
        if reply.body is None and 200 <= reply.status < 300:
            text += " (the reply is not the API's JSON)"
        if kind is AuthError:
            text += f"; check {API_KEY_ENV}"
        elif rejected:
            text += " (refused; nothing was charged)"
        code = reply.code if reply.code not in (None, CODE_OK) else None
        return kind(self.redact(text), status=reply.status, code=code,
                    retry_after=reply.retry_after)

    def _api_headers(self, *, json_body: bool) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self._api_key}", "Accept": "application/json",
                   "User-Agent": self._user_agent}
        if json_body:
            headers["Content-Type"] = "application/json"
        return headers

    async def _throttle(self) -> None:
        if self._bucket is not None:
            await self._bucket.take()

    def redact(self, text: str) -> str:
        """``text`` without the key or secret-looking URL parameters: what may be written."""
        return redact(text, self._api_key)


# ----------------------------------------------------------------------------- helpers

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

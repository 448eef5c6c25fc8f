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
import json
import logging
import random
import time
import urllib.parse
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any, NoReturn, Protocol, TypeVar

import httpx

from storyboard import __version__
from storyboard.api.contract import (
    API_KEY_ENV,
    CODE_MODEL_UNAVAILABLE,
    CODE_OK,
    CREATE_PATH,
    QUERY_PATH,
    STATUS_GENERATING,
    STATUS_QUEUED,
    STATUS_SUCCEEDED,
    Created,
    JobState,
    _amount,
    _failure_text,
    _int_or_none,
    _job_id,
    _message,
    _read_reply,
    _Reply,
    _truthy,
    _video_url,
)
from storyboard.api.download import Fetch
from storyboard.api.endpoint import _checked_base_url, api_key_from, base_url_from, identify
from storyboard.api.failures import (
    _NOT_SENT,
    REDACTED,
    _describe_exception,
    _lost_reply,
    _Transient,
    redact,
)
from storyboard.api.policies import Limits, RetryPolicy, Timeouts, _TokenBucket
from storyboard.errors import (
    APIError,
    AuthError,
    DownloadError,
    ExecutionError,
    OutcomeUnknown,
    RetryableAPIError,
)

__all__ = ["REDACTED", "JobWatch", "ShortAPIClient", "api_key_from", "base_url_from",
           "identify", "redact"]

log = logging.getLogger(__name__)
T = TypeVar("T")


class JobWatch(Protocol):
    """Told about the jobs a client makes and sees (``storyboard.execute.latency.Expected``
    learns their latencies so)."""

    def created(self, job_id: str, args: Mapping[str, Any], at: float) -> None: ...

    def seen(self, job_id: str, state: JobState, at: float) -> None: ...


API_CALLS_AT_ONCE = 4  # creates and queries in flight at least (half the pool at most)
_QUERIES_KEPT = 4096  # job ids whose query request is kept built (one per job in flight)


def _check_credentials(http: httpx.AsyncClient, api_key: str) -> None:
    if not api_key:
        raise AuthError(f"no API key: set {API_KEY_ENV}")
    if not api_key.isascii() or not api_key.isprintable() or any(c.isspace() for c in api_key):
        raise AuthError(f"{API_KEY_ENV} holds characters that cannot be sent in a header")
    if "authorization" in http.headers:
        raise ValueError("the injected httpx client must not carry an Authorization header: "
                         "downloads from other hosts would leak it")


def _gates(limits: Limits) -> tuple[asyncio.Semaphore, asyncio.Semaphore]:
    """How many API calls, and how many downloads, go out at once.

    Few API calls (httpcore's pool looks at every connection for every waiting request:
    a queue there costs CPU per call), never behind downloads, so that a stalled one
    cannot stop the polls. Downloads may take all of the pool but the few connections
    API calls always keep, and beyond that wait here, for free: in httpcore's pool every
    queued request is matched against every connection each time one is taken or given
    back, so a queue there costs CPU that grows with both."""
    pool = limits.max_connections
    api_calls = max(1, min(pool, max(API_CALLS_AT_ONCE, pool // 2)))
    return asyncio.Semaphore(api_calls), asyncio.Semaphore(max(1, pool - API_CALLS_AT_ONCE))


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
        _check_credentials(http, api_key)
        self._http = http
        self._base_url = _checked_base_url(base_url, "base URL")
        self._api_key = api_key
        self._policy = policy
        self._rng = rng if rng is not None else random.Random()
        self._sleep = sleep
        self._clock = clock
        self._bucket = _TokenBucket(rate, sleep, clock) if rate is not None else None
        self._watch: JobWatch | None = None
        # Built once, not per call: a run makes thousands of calls, and httpx parses
        # every URL given as text and merges every header mapping anew.
        user_agent = f"storyboard/{__version__}"
        self._query_headers = httpx.Headers({"Authorization": f"Bearer {api_key}",
                                             "Accept": "application/json",
                                             "User-Agent": user_agent})
        self._create_headers = httpx.Headers({**self._query_headers,
                                              "Content-Type": "application/json"})
        self._create_url = httpx.URL(self._base_url + CREATE_PATH)
        self._query_prefix = self._base_url + QUERY_PATH + "?id="
        self._queries: dict[str, httpx.Request] = {}
        self._api_timeout = timeouts.api()
        self._gate, self._download_gate = _gates(limits)
        self._fetch = Fetch(http, headers=httpx.Headers({"User-Agent": user_agent,
                                                         "Accept": "video/mp4, */*"}),
                            timeout=timeouts.download(), max_bytes=limits.max_download_bytes,
                            redact=self.redact)

    def __repr__(self) -> str:
        return f"ShortAPIClient(base_url={self._base_url!r})"

    @property
    def base_url(self) -> str:
        return self._base_url

    def watch(self, watch: JobWatch | None) -> None:
        """Tell ``watch`` of every job created and every state seen from now on."""
        self._watch = watch

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
            sent = self._clock()
            try:
                async with self._gate:
                    response = await self._http.post(
                        self._create_url, content=content, headers=self._create_headers,
                        timeout=self._api_timeout, follow_redirects=False)
            except _NOT_SENT as exc:
                raise _Transient(RetryableAPIError(
                    self.redact(f"{what}: could not connect to {self._base_url} "
                                 f"({_describe_exception(exc)}); nothing was sent"))) from exc
            except httpx.HTTPError as exc:
                self._unknown(_lost_reply(exc), exc)
            created = self._created(what, _read_reply(response, time.time()))
            if self._watch is not None:
                self._watch.created(created.job_id, args, sent)
            return created

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
                raise self._api_error(APIError, what, reply)
            if job_id is None:
                self._unknown(f"the API answered HTTP {status} without a job id")
            return Created(job_id=job_id, amount=_amount(reply.data()), sandbox=reply.sandbox)
        if status in (429, 503):
            raise _Transient(self._api_error(RetryableAPIError, what, reply), reply.retry_after)
        if status in (401, 403):
            raise self._api_error(AuthError, what, reply)
        if 400 <= status < 500:
            if reply.code == CODE_MODEL_UNAVAILABLE:
                raise _Transient(self._api_error(RetryableAPIError, what, reply),
                                 reply.retry_after)
            raise self._api_error(APIError, what, reply)
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

        request = self._query_request(job_id)

        async def once() -> JobState:
            await self._throttle()
            try:
                async with self._gate:
                    response = await self._http.send(request, follow_redirects=False)
            except httpx.HTTPError as exc:
                raise _Transient(RetryableAPIError(
                    self.redact(f"{what}: {_describe_exception(exc)}"))) from exc
            return self._job_state(what, _read_reply(response, time.time()))

        state = await self._retrying(what, once, self._gave_up_api)
        if state.done or state.failed:
            self._queries.pop(job_id, None)
        if self._watch is not None:
            self._watch.seen(job_id, state, self._clock())
        return state

    def _query_request(self, job_id: str) -> httpx.Request:
        """The GET that asks about ``job_id``, built (the client's defaults merged in) once
        and sent for every poll of the job: a GET has no body to use up, and building
        one costs about a tenth of the call."""
        request = self._queries.get(job_id)
        if request is None:
            if len(self._queries) >= _QUERIES_KEPT:
                self._queries.clear()
            url = httpx.URL(self._query_prefix + urllib.parse.quote_plus(job_id))
            request = self._queries[job_id] = self._http.build_request(
                "GET", url, headers=self._query_headers, timeout=self._api_timeout)
        return request

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
            await self._throttle()
            async with self._download_gate:
                return await self._fetch.once(what, url, dest, expected_seconds)

        def gave_up(last: _Transient, attempts: int) -> ExecutionError:
            return DownloadError(f"{last.error} (gave up after {attempts} attempts)")

        return await self._retrying(what, once, gave_up)

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

    def _api_error(self, kind: type[APIError], what: str, reply: _Reply) -> APIError:
        text = f"{what}: {reply.describe()}"
        if reply.body is None and 200 <= reply.status < 300:
            text += " (the reply is not the API's JSON)"
        if kind is AuthError:
            text += f"; check {API_KEY_ENV}"
        code = reply.code if reply.code not in (None, CODE_OK) else None
        return kind(self.redact(text), status=reply.status, code=code,
                    retry_after=reply.retry_after)

    async def _throttle(self) -> None:
        if self._bucket is not None:
            await self._bucket.take()

    def redact(self, text: str) -> str:
        """``text`` without the key or secret-looking URL parameters: what may be written."""
        return redact(text, self._api_key)

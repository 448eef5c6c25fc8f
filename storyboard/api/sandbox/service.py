"""The sandbox's service: ShortAPI's contract answered in-process — auth, create, query,
results and the ledger — behind a loopback HTTP server.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hmac
import json
import re
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any

from storyboard.api.contract import (
    CODE_OK,
    CREATE_PATH,
    QUERY_PATH,
    STATUS_FAILED,
    STATUS_GENERATING,
    STATUS_QUEUED,
    STATUS_SUCCEEDED,
)
from storyboard.api.sandbox.callbacks import Dispatcher
from storyboard.api.sandbox.checks import reject_constant, request_problem, validator
from storyboard.api.sandbox.faults import fault_draw
from storyboard.api.sandbox.http import _Reply, _Request, _Server
from storyboard.api.sandbox.jobids import make_job_id, read_job_id
from storyboard.api.sandbox.jobs import Job, placeholder_video
from storyboard.api.sandbox.ledger import CreateRecord, Ledger, SandboxConfig
from storyboard.api.sandbox.replies import (
    DROP,
    JOB_NOT_FOUND,
    UNAUTHORIZED,
    fault_reply,
    json_reply,
)
from storyboard.errors import UsageError
from storyboard.media import placeholder
from storyboard.media import require as require_media
from storyboard.model import request_hash
from storyboard.plan.pricing import format_usd, load_price_table

LEDGER_PATH = "/_sandbox/ledger"
FILES_PREFIX = "/files/"
POLL_INTERVAL_S = 0.01  # how soon stop() is noticed (an idle loop costs ~nothing)
_FILE_PATH = re.compile(r"/files/([A-Za-z0-9_-]+)\.mp4")


class Sandbox:
    """The sandbox service, served from a background thread.

    ``with Sandbox(config) as sandbox:`` starts it on a free loopback port; point a
    client at ``sandbox.base_url`` and read ``sandbox.ledger`` afterwards.
    """

    def __init__(self, config: SandboxConfig | None = None) -> None:
        require_media("the sandbox")  # its videos: say so now, not at the first download
        self.config = config or SandboxConfig()
        self.ledger = Ledger()
        self._prices = self.config.prices or load_price_table()
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}
        self._attempts: Counter[tuple[str, str]] = Counter()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._base_url: str | None = None
        self._callbacks = Dispatcher(self.ledger, self.config.callbacks)
        validator()  # compile the schema now, not in the first request

    # Lifecycle.

    def start(self) -> Sandbox:
        if self._server is not None:
            return self
        address = (self.config.host, self.config.port)
        try:
            self._server = _Server(address, self)
        except OSError as exc:
            raise UsageError(
                f"sandbox: cannot listen on {self.config.host}:{self.config.port}: "
                f"{exc.strerror or exc}"
            ) from None
        host = self.config.host if self.config.host not in ("", "0.0.0.0") else "127.0.0.1"
        self._base_url = f"http://{host}:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": POLL_INTERVAL_S},
            name="storyboard-sandbox",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        self._callbacks.stop()
        if server is None:
            return
        server.shutdown()
        server.server_close()
        server.close_connections()
        if thread is not None:
            thread.join()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``; result URLs in query replies start with it."""
        if self._server is None or self._base_url is None:
            raise RuntimeError("the sandbox is not running; call start() first")
        return self._base_url

    # Requests.

    def _respond(self, request: _Request) -> _Reply:
        if request.path == CREATE_PATH and request.method == "POST":
            return self._guarded("create", request, self._create)
        if request.path == QUERY_PATH and request.method == "GET":
            return self._guarded("query", request, self._query)
        if request.path.startswith(FILES_PREFIX) and request.method == "GET":
            self.ledger.count_call("download")
            return self._download(request)
        if request.path == LEDGER_PATH and request.method == "GET":
            self.ledger.count_call("ledger")
            return json_reply(200, self.ledger.snapshot())
        self.ledger.count_call("other")
        if request.path in (CREATE_PATH, QUERY_PATH, LEDGER_PATH):
            return json_reply(405, {"code": 405, "message": f"method {request.method} not allowed"})
        return json_reply(404, {"code": 404, "message": f"no such endpoint: {request.path}"})

    def _guarded(self, endpoint: str, request: _Request,
                 handler: Callable[[_Request], _Reply]) -> _Reply:
        self.ledger.count_call(endpoint)
        if not self._authorized(request.headers.get("Authorization")):
            self.ledger.count_rejection("unauthorized")
            return UNAUTHORIZED
        return handler(request)

    def _authorized(self, header: str | None) -> bool:
        scheme, _, token = (header or "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return False
        expected = self.config.api_key
        return expected is None or hmac.compare_digest(token.encode(), expected.encode())

    def _create(self, request: _Request) -> _Reply:
        try:
            body = json.loads(request.body, parse_constant=reject_constant)
        except (ValueError, UnicodeDecodeError) as exc:
            self.ledger.count_rejection("bad-json")
            return json_reply(400, {"code": 400, "message": f"invalid JSON body: {exc}"})
        problem = request_problem(body)
        if problem is not None:
            self.ledger.count_rejection("invalid")
            return json_reply(400, {"code": 400, "message": problem})
        model, args = body["model"], body["args"]
        digest = request_hash(model, args)
        duration = int(args["duration"])
        try:
            amount = self._prices.rate(model, args["mode"], args["sound"]) * duration
        except UsageError as exc:
            return json_reply(500, {"code": 500, "message": f"sandbox: {exc}"})

        attempt = self._next_attempt("create", digest)
        delay = self._slow("create", digest, attempt)
        for fault in ("drop_before", "http429", "http503", "http500", "code3000"):
            if self._faulted(fault, digest, attempt):
                self.ledger.count_fault("create", fault)
                return fault_reply(fault, self.config.faults.retry_after).after(delay)

        job = self._new_job(digest, duration, args)
        self.ledger.record_create(CreateRecord(
            job_id=job.job_id, request_hash=digest, amount=amount, duration=duration,
            created_at=time.time(), fails=job.fails, callback_url=body.get("callback_url"),
        ))
        if job.fails:
            self.ledger.count_fault("create", "fail")
        self._call_back(job, body.get("callback_url"))
        if self._faulted("drop_after", digest, attempt):
            self.ledger.count_fault("create", "drop_after")
            return DROP.after(delay)
        data = {"amount": format_usd(amount), "job_id": job.job_id}
        return json_reply(200, {"code": CODE_OK, "data": data}).after(delay)

    def _new_job(self, digest: str, duration: int, args: Mapping[str, Any]) -> Job:
        latency = self.config.latency
        seconds = latency(digest) if callable(latency) else latency  # per request hash
        with self._lock:
            ordinal = self._attempts[("job", digest)]
            self._attempts[("job", digest)] += 1
            # like the model, another job of the same request makes another video: the
            # first keeps the request's colour, the n-th is drawn from "<hash>#<n>"
            look = placeholder.Placeholder.for_request(
                digest if ordinal == 0 else f"{digest}#{ordinal}", args)
            fails = self._faulted("fail", digest, ordinal)
            job = Job(
                job_id=make_job_id(duration, fails),
                key=f"{digest}#{ordinal}",
                request_hash=digest,
                duration=duration,
                created=time.monotonic(),
                latency=max(0.0, float(seconds)),
                fails=fails,
                expire_first_url=self._faulted("expire", digest, ordinal),
                look=look,
            )
            self._jobs[job.job_id] = job
        return job

    def _call_back(self, job: Job, url: Any) -> None:
        """When the job ends, POST a hint to its callback URL (unless a fault drops it)."""
        if isinstance(url, str) and url and self._faulted("no_callback", job.key, 0):
            self.ledger.count_fault("callback", "no_callback")
            self.ledger.count_callback("dropped")
        elif isinstance(url, str) and url:
            self._callbacks.schedule(job.created + job.latency, url, job.job_id,
                                     STATUS_FAILED if job.fails else STATUS_SUCCEEDED)

    def _job(self, job_id: str) -> Job | None:
        """The job with this id; one made by an earlier sandbox is restored, finished.

        Call with the lock held. A restored job knows only what its id says: its
        duration and whether it failed. It has no request hash, so faults on its
        queries and downloads are drawn by its id (as stable, since ids are journaled).
        """
        job = self._jobs.get(job_id)
        if job is not None:
            return job
        known = read_job_id(job_id)
        if known is None:
            return None
        duration, fails = known
        job = Job(
            job_id=job_id,
            key=job_id,
            request_hash="",
            duration=duration,
            created=time.monotonic(),
            latency=0.0,  # finished long ago
            fails=fails,
            expire_first_url=self._faulted("expire", job_id, 0),
            look=placeholder.Placeholder.for_request(job_id, {
                "duration": duration, "prompt": "restored: the sandbox knows only its length"}),
        )
        self._jobs[job_id] = job
        self.ledger.record_restored(job_id)
        return job

    def _query(self, request: _Request) -> _Reply:
        job_id = _param(request, "id")
        if not job_id:
            self.ledger.count_rejection("missing-id")
            return json_reply(400, {"code": 400, "message": "missing query parameter: id"})
        with self._lock:
            job = self._job(job_id)
            if job is not None:
                attempt = job.queries
                job.queries += 1
        if job is None:
            self.ledger.count_rejection("unknown-job")
            return JOB_NOT_FOUND
        delay = self._slow("query", job.key, attempt)
        fault_reply = self._transient_fault("query", job.key, attempt)
        if fault_reply is not None:
            return fault_reply.after(delay)
        self.ledger.count_query(job_id)
        status = self._status(job)
        if status == STATUS_FAILED:
            data: dict[str, Any] = {
                "status": STATUS_FAILED, "refunded": True, "message": "sandbox: injected failure",
            }
        elif status == STATUS_SUCCEEDED:
            url = f"{self._base_url}/files/{job.job_id}.mp4?token={self._token(job)}"
            if self.config.key_in_url:
                _, _, key = (request.headers.get("Authorization") or "").partition(" ")
                url += f"&key={key.strip()}"
            data = {"status": STATUS_SUCCEEDED, "result": {"videos": [{"url": url}]}}
        else:
            data = {"status": status}
        return json_reply(200, {"code": CODE_OK, "data": data}).after(delay)

    def _status(self, job: Job) -> int:
        elapsed = time.monotonic() - job.created
        if elapsed < job.latency * self.config.queued_fraction:
            return STATUS_QUEUED
        if elapsed < job.latency:
            return STATUS_GENERATING
        return STATUS_FAILED if job.fails else STATUS_SUCCEEDED

    def _token(self, job: Job) -> str:
        with self._lock:
            if job.token is None:
                job.token = secrets.token_urlsafe(12)
            return job.token

    def _download(self, request: _Request) -> _Reply:
        match = _FILE_PATH.fullmatch(request.path)
        with self._lock:
            job_id = match.group(1) if match else ""
            stale = job_id not in self._jobs  # an earlier sandbox's URL, if restored now
            job = self._job(job_id) if job_id else None
            if job is not None:
                attempt = job.downloads
                job.downloads += 1
        if job is None or job.fails:
            self.ledger.count_rejection("unknown-file")
            return json_reply(404, {"code": 404, "message": "no such file"})
        if stale:
            # Its token came from a sandbox that is gone: like an expired URL, a
            # re-query hands out a fresh one.
            self.ledger.count_rejection("stale-url")
            return json_reply(410, {"code": 410, "message": "url expired"})
        delay = self._slow("download", job.key, attempt)
        if attempt == 0 and self.config.first_download_stall > 0:
            self.ledger.count_fault("download", "stall")
            delay = max(delay, self.config.first_download_stall)
        fault_reply = self._transient_fault("download", job.key, attempt)
        if fault_reply is not None:
            return fault_reply.after(delay)
        token = _param(request, "token")
        with self._lock:
            expired = token in job.expired_tokens
            if not expired and token and token == job.token and job.expire_first_url:
                job.expire_first_url = False
                job.expired_tokens.add(token)
                job.token = None  # the next query hands out a fresh URL
                self.ledger.count_fault("download", "expire")
                expired = True
            valid = token is not None and token == job.token
        if expired:
            return json_reply(410, {"code": 410, "message": "url expired"}).after(delay)
        if not valid:
            self.ledger.count_rejection("bad-token")
            return json_reply(403, {"code": 403, "message": "invalid or missing token"}
                              ).after(delay)
        video = placeholder_video(job.look)
        reply = _Reply(status=200, body=video, content_type="video/mp4", delay=delay)
        if self._faulted("truncate", job.key, attempt):
            self.ledger.count_fault("download", "truncate")
            return dataclasses.replace(reply, send_bytes=len(video) // 2)
        self.ledger.count_download(job.job_id)
        return reply

    # Faults.

    def _next_attempt(self, endpoint: str, key: str) -> int:
        with self._lock:
            attempt = self._attempts[(endpoint, key)]
            self._attempts[(endpoint, key)] += 1
            return attempt

    def _faulted(self, fault: str, key: str, attempt: int) -> bool:
        rate: float = getattr(self.config.faults, fault)
        return rate > 0 and fault_draw(self.config.seed, fault, key, attempt) < rate

    def _slow(self, endpoint: str, key: str, attempt: int) -> float:
        if not self._faulted("slow", key, attempt):
            return 0.0
        self.ledger.count_fault(endpoint, "slow")
        return self.config.faults.slow_seconds

    def _transient_fault(self, endpoint: str, key: str, attempt: int) -> _Reply | None:
        """A 429, 503 or 500 for a query or a download, if one is due."""
        for fault in ("http429", "http503", "http500"):
            if self._faulted(fault, key, attempt):
                self.ledger.count_fault(endpoint, fault)
                return fault_reply(fault, self.config.faults.retry_after)
        return None

def _param(request: _Request, name: str) -> str | None:
    values = request.query.get(name)
    return values[0] if values else None


def serve(config: SandboxConfig, *, ready: Callable[[str], None] | None = None) -> None:
    """Serve until interrupted (Ctrl-C); ``ready`` gets the base URL once it listens."""
    with Sandbox(config) as sandbox:
        if ready is not None:
            ready(sandbox.base_url)
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)

"""A local stand-in for the ShortAPI job API: real HTTP on loopback, no money.

It speaks ShortAPI's published contract exactly (auth, create, query, result URLs, both error
styles), so ``storyboard run --sandbox`` and the test suite exercise the client's
real HTTP stack: connection pooling, timeouts, retries and downloads included.

Three things make it useful beyond a mock:

* **A ledger** of everything the server saw: every charged create with its request
  hash, duplicates per hash (the number that must stay zero: paying twice), call and
  fault counts. Tests in another process read it from ``GET /_sandbox/ledger``.
* **Faults on request**, each a rate. Whether a request faults is a pure function of
  (seed, fault, request hash or job, attempt number), never of thread timing, so a
  run with a given seed meets the same faults every time; and since each attempt is
  drawn afresh, a client that retries correctly always gets through at rates < 1.
* **Time without threads**: a job's status follows from the time since its create
  (queued, then generating, then done after its latency), so a thousand jobs cost
  nothing between queries. ``parse_latency`` reads the CLI's latency specs (fixed,
  a uniform range, or a log-normal), each drawn per request hash, never at random.
* **Videos a person can check by eye** (``media/placeholder.py``): the requested
  aspect ratio and length at a small size, 24 fps, a tone when ``sound`` is on, and
  on every frame the request's short hash, prompt, shot and time. A request's first
  job always gets the same bytes; its n-th job (another candidate of it) gets another
  colour, drawn from ``<hash>#<n>``, as the model makes another video each time.
* **Jobs that outlive the server**, as real ones do: a job id carries its duration
  and outcome under an HMAC (``sbx1-<duration>-<fails>-<random>-<mac>``), so a
  sandbox restarted after an interrupted ``storyboard run --sandbox`` recognises the
  ids the client journaled and answers them as finished jobs, instead of "job not
  found" for work that was paid for. Such a restored job is not a create: the ledger
  lists it under ``restored``, never under creates or duplicates.

It does not call ``callback_url`` back (ShortAPI documents no callback payload, so a
callback is only a hint to re-query); the URL is recorded in the ledger. Routes::

    POST /api/v1/job/create        {"model", "args", "callback_url"?}  (Bearer auth)
    GET  /api/v1/job/query?id=ID                                       (Bearer auth)
    GET  /files/<job_id>.mp4?token=T                                   (result URLs)
    GET  /_sandbox/ledger                                              (no auth)
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import hmac
import json
import logging
import math
import re
import secrets
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from email.message import Message
from functools import cache, lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from statistics import NormalDist
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from storyboard.api.client import SANDBOX_HEADER
from storyboard.errors import UsageError
from storyboard.media import placeholder
from storyboard.media import require as require_media
from storyboard.model import request_hash
from storyboard.plan.pricing import PriceTable, format_usd, load_price_table
from storyboard.resources import REQUEST_SCHEMA, load_schema

log = logging.getLogger(__name__)

CREATE_PATH = "/api/v1/job/create"
QUERY_PATH = "/api/v1/job/query"
LEDGER_PATH = "/_sandbox/ledger"
FILES_PREFIX = "/files/"
MAX_BODY_BYTES = 1 << 20
IDLE_TIMEOUT_S = 120.0  # an idle keep-alive connection is closed after this
POLL_INTERVAL_S = 0.01  # how soon stop() is noticed (an idle loop costs ~nothing)

_FILE_PATH = re.compile(r"/files/([A-Za-z0-9_-]+)\.mp4")

# Job ids: ``sbx1-<duration>-<fails 0|1>-<12 random hex>-<10 hex HMAC of the rest>``.
# The key is no secret worth keeping (this is a sandbox); it only has to be the same
# in every process, so that a restarted sandbox can trust what an id says.
_JOB_ID_KEY = b"storyboard-sandbox job ids v1"
_JOB_ID = re.compile(r"(sbx1-(\d{1,3})-([01])-[0-9a-f]{12})-([0-9a-f]{10})")


# --- faults --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Faults:
    """How often each fault is injected: a rate from 0.0 (never) to 1.0 (always).

    ``drop_before`` closes the connection of a create without a reply and without
    running it; ``drop_after`` runs (and charges) it first, the case a client must
    never re-send. ``fail`` ends jobs in status 3 (refunded); ``expire`` makes a job's
    first result URL answer 410 once, until a re-query hands out a fresh one;
    ``truncate`` cuts a download short after promising its full length.
    """

    http500: float = 0.0
    http503: float = 0.0
    http429: float = 0.0
    code3000: float = 0.0
    drop_before: float = 0.0
    drop_after: float = 0.0
    slow: float = 0.0
    slow_seconds: float = 2.0
    truncate: float = 0.0
    fail: float = 0.0
    expire: float = 0.0
    retry_after: float = 1.0  # seconds, sent in the Retry-After header of 429s

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name in _SETTINGS:
                if not value >= 0:  # also rejects NaN
                    raise UsageError(f"fault setting {_cli(f.name)}={value} must be >= 0")
            elif not 0.0 <= value <= 1.0:
                raise UsageError(f"fault rate {_cli(f.name)}={value} must be between 0 and 1")

    @classmethod
    def parse(cls, specs: Iterable[str]) -> Faults:
        """From CLI strings: ``http503=0.2``, ``drop-after=0.1,slow-seconds=5``, ``fail``.

        A bare fault name means rate 1.0; settings (``slow-seconds``, ``retry-after``)
        need a value.
        """
        values: dict[str, float] = {}
        for spec in specs:
            for part in filter(None, (p.strip() for p in spec.split(","))):
                name, has_value, text = part.partition("=")
                key = name.strip().lower().replace("-", "_")
                if key not in _FIELDS:
                    raise UsageError(f"unknown fault {name.strip()!r}; valid: {_valid_names()}")
                if not has_value:
                    if key in _SETTINGS:
                        raise UsageError(f"{_cli(key)} needs a value in seconds, "
                                         f"like {_cli(key)}=2")
                    values[key] = 1.0
                    continue
                try:
                    values[key] = float(text)
                except ValueError:
                    raise UsageError(f"{_cli(key)}={text.strip()!r}: not a number") from None
        return cls(**values)

    def describe(self) -> str:
        """The faults in force, as ``parse`` reads them (``none`` if there are none)."""
        default = Faults()
        parts = [
            f"{_cli(f.name)}={getattr(self, f.name):g}"
            for f in dataclasses.fields(self)
            if f.name not in _SETTINGS and getattr(self, f.name) > 0
        ]
        parts += [
            f"{_cli(name)}={getattr(self, name):g}"
            for name in sorted(_SETTINGS)
            if getattr(self, name) != getattr(default, name)
        ]
        return ", ".join(parts) or "none"


_SETTINGS = frozenset({"slow_seconds", "retry_after"})
_FIELDS = frozenset(f.name for f in dataclasses.fields(Faults))


def _cli(name: str) -> str:
    return name.replace("_", "-")


def _valid_names() -> str:
    names = [_cli(f.name) for f in dataclasses.fields(Faults) if f.name not in _SETTINGS]
    return ", ".join(names) + "; settings: slow-seconds=S, retry-after=S"


def fault_draw(seed: int, fault: str, key: str, attempt: int) -> float:
    """A uniform number in [0, 1) fixed by its arguments: the fault fires if it is < rate."""
    digest = hashlib.sha256(f"{seed}\x1f{fault}\x1f{key}\x1f{attempt}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


# --- latency -------------------------------------------------------------------------

LATENCY_FORMS = (
    "seconds (2 or 2.5), a uniform range (0.5-3), "
    "or lognormal:MEDIAN,SIGMA[,max=SECONDS] (lognormal:3,0.5,max=30)"
)
_NUMBER = r"(\d+(?:\.\d*)?|\.\d+)"  # no sign, exponent, inf or nan
_FIXED = re.compile(_NUMBER)
_RANGE = re.compile(rf"{_NUMBER}\s*-\s*{_NUMBER}")
_LOGNORMAL = re.compile(rf"lognormal:\s*{_NUMBER}\s*,\s*{_NUMBER}(?:\s*,\s*max\s*=\s*{_NUMBER})?",
                        re.IGNORECASE)
_STANDARD_NORMAL = NormalDist()


@dataclass(frozen=True, slots=True)
class _UniformLatency:
    """Seconds uniform in [low, high], fixed by (seed, request hash)."""

    spec: str
    seed: int
    low: float
    high: float

    def __call__(self, request_hash: str) -> float:
        u = fault_draw(self.seed, "latency", request_hash, 0)
        return self.low + (self.high - self.low) * u

    def __str__(self) -> str:
        return self.spec


@dataclass(frozen=True, slots=True)
class _LognormalLatency:
    """Seconds log-normal around ``median`` (inverse CDF of a hashed uniform), capped."""

    spec: str
    seed: int
    median: float
    sigma: float
    maximum: float | None

    def __call__(self, request_hash: str) -> float:
        u = fault_draw(self.seed, "latency", request_hash, 0)
        u = min(max(u, 1e-12), 1.0 - 1e-12)  # inv_cdf wants an open interval
        seconds = self.median * math.exp(self.sigma * _STANDARD_NORMAL.inv_cdf(u))
        return seconds if self.maximum is None else min(seconds, self.maximum)

    def __str__(self) -> str:
        return self.spec


def parse_latency(spec: str, *, seed: int = 0) -> float | Callable[[str], float]:
    """A job latency from a CLI spec, for ``SandboxConfig.latency``.

    ``"2"`` or ``"2.5"``: that many seconds for every job. ``"0.5-3"``: uniform in
    that range. ``"lognormal:3,0.5"``: log-normal with median 3 s and sigma 0.5 (of
    the underlying normal), optionally capped: ``"lognormal:3,0.5,max=30"``. The
    variable forms are functions of the request hash drawn like faults, from (seed,
    hash) only, so a request meets the same latency in every run with that seed.
    """
    text = spec.strip()

    def bad(why: str = "") -> UsageError:
        reason = f" ({why})" if why else ""
        return UsageError(f"bad latency {spec!r}{reason}; use {LATENCY_FORMS}")

    if match := _FIXED.fullmatch(text):
        return float(match.group(1))
    if match := _RANGE.fullmatch(text):
        low, high = float(match.group(1)), float(match.group(2))
        if low > high:
            raise bad(f"{low:g} is above {high:g}")
        return _UniformLatency(text, seed, low, high)
    if match := _LOGNORMAL.fullmatch(text):
        median, sigma = float(match.group(1)), float(match.group(2))
        maximum = None if match.group(3) is None else float(match.group(3))
        if median <= 0:
            raise bad("the median must be above 0")
        if maximum is not None and maximum <= 0:
            raise bad("max must be above 0")
        return _LognormalLatency(text, seed, median, sigma, maximum)
    raise bad()


# --- job ids -------------------------------------------------------------------------


def _job_id_mac(body: str) -> str:
    return hmac.new(_JOB_ID_KEY, body.encode("ascii"), hashlib.sha256).hexdigest()[:10]


def make_job_id(duration: int, fails: bool) -> str:
    """A fresh job id that says, verifiably, how long the job's video is and if it fails."""
    body = f"sbx1-{duration}-{int(fails)}-{secrets.token_hex(6)}"
    return f"{body}-{_job_id_mac(body)}"


def read_job_id(job_id: str) -> tuple[int, bool] | None:
    """``(duration, fails)`` from a job id this sandbox (in any process) made, else None."""
    match = _JOB_ID.fullmatch(job_id)
    if match is None:
        return None
    body, duration, fails, mac = match.groups()
    if not hmac.compare_digest(mac, _job_id_mac(body)):
        return None
    return int(duration), fails == "1"


# --- configuration and ledger --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SandboxConfig:
    host: str = "127.0.0.1"
    port: int = 0  # 0: any free port; read Sandbox.base_url
    api_key: str | None = None  # None: any non-empty Bearer token is accepted
    # Seconds from create to the end of a job, or a function of the request hash.
    latency: float | Callable[[str], float] = 1.0
    queued_fraction: float = 0.3  # status 0 for this share of the latency, then 1
    faults: Faults = Faults()
    seed: int = 0
    prices: PriceTable | None = None  # None: the built-in price table
    # Seconds each job's *first* download waits before it answers (later ones do not):
    # a download in progress, for tests that interrupt one and then resume.
    first_download_stall: float = 0.0
    # Every answer says "I am a sandbox" (the Storyboard-Sandbox header), so a client
    # never takes a placeholder for a render. Only tests turn it off, to stand in for
    # the real API; the command line cannot.
    identify: bool = True
    # Result URLs carry the caller's key (``&key=…``), as some gateways' signed URLs do:
    # for tests that nothing written keeps it.
    key_in_url: bool = False


@dataclass(frozen=True, slots=True)
class CreateRecord:
    """One create the sandbox accepted, and so charged."""

    job_id: str
    request_hash: str
    amount: Decimal
    duration: int
    created_at: float  # time.time()
    fails: bool  # the job will end in status 3, refunded
    callback_url: str | None = None


class Ledger:
    """What the server saw; thread-safe. Readers get copies, never live state."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._creates: list[CreateRecord] = []
        self._calls: Counter[str] = Counter()
        self._faults: Counter[tuple[str, str]] = Counter()
        self._rejections: Counter[str] = Counter()
        self._queries: Counter[str] = Counter()
        self._downloads: Counter[str] = Counter()
        self._restored: list[str] = []
        self._connections = 0

    # The server's side.

    def record_create(self, record: CreateRecord) -> None:
        with self._lock:
            self._creates.append(record)

    def record_restored(self, job_id: str) -> None:
        log.info("sandbox: restored job %s from its id", job_id)
        with self._lock:
            self._restored.append(job_id)

    def count_connection(self) -> None:
        with self._lock:
            self._connections += 1

    def count_call(self, endpoint: str) -> None:
        self._count(self._calls, endpoint)

    def count_fault(self, endpoint: str, fault: str) -> None:
        log.info("sandbox: injected %s into a %s", fault, endpoint)
        self._count(self._faults, (endpoint, fault))

    def count_rejection(self, reason: str) -> None:
        self._count(self._rejections, reason)

    def count_query(self, job_id: str) -> None:
        self._count(self._queries, job_id)

    def count_download(self, job_id: str) -> None:
        self._count(self._downloads, job_id)

    def _count(self, counter: Counter[Any], key: Any) -> None:
        with self._lock:
            counter[key] += 1

    # The reader's side.

    @property
    def creates(self) -> tuple[CreateRecord, ...]:
        with self._lock:
            return tuple(self._creates)

    def creates_per_hash(self) -> dict[str, int]:
        return dict(Counter(record.request_hash for record in self.creates))

    def duplicates(self) -> dict[str, int]:
        """Request hashes paid for more than once: created and not refunded.

        A failed job is refunded, so creating its request again (as a rerun does) is
        not paying twice; ``creates_per_hash`` still counts every create.
        """
        paid = Counter(record.request_hash for record in self.creates if not record.fails)
        return {h: n for h, n in paid.items() if n > 1}

    @property
    def calls(self) -> dict[str, int]:
        """HTTP requests per endpoint: create, query, download, ledger, other."""
        with self._lock:
            return dict(self._calls)

    @property
    def faults(self) -> dict[str, int]:
        """Injected faults per fault name, over all endpoints."""
        totals: Counter[str] = Counter()
        for (_, fault), n in self._fault_items():
            totals[fault] += n
        return dict(totals)

    @property
    def faults_by_endpoint(self) -> dict[str, dict[str, int]]:
        table: dict[str, dict[str, int]] = {}
        for (endpoint, fault), n in self._fault_items():
            table.setdefault(endpoint, {})[fault] = n
        return table

    def _fault_items(self) -> list[tuple[tuple[str, str], int]]:
        with self._lock:
            return sorted(self._faults.items())

    @property
    def rejections(self) -> dict[str, int]:
        """Requests refused for the client's fault: unauthorized, bad-json, invalid, ..."""
        with self._lock:
            return dict(self._rejections)

    @property
    def queries(self) -> dict[str, int]:
        """Answered queries per known job id."""
        with self._lock:
            return dict(self._queries)

    @property
    def downloads(self) -> dict[str, int]:
        """Complete video files served per job id."""
        with self._lock:
            return dict(self._downloads)

    @property
    def restored(self) -> tuple[str, ...]:
        """Job ids this sandbox did not create but recognised (made before a restart)."""
        with self._lock:
            return tuple(self._restored)

    @property
    def connections(self) -> int:
        """TCP connections accepted: few, when a client pools them (keep-alive)."""
        with self._lock:
            return self._connections

    def charged(self) -> Decimal:
        return sum((r.amount for r in self.creates), Decimal(0))

    def refunded(self) -> Decimal:
        return sum((r.amount for r in self.creates if r.fails), Decimal(0))

    def snapshot(self) -> dict[str, Any]:
        """The ledger as JSON-ready data (amounts as decimal strings)."""
        return {
            "creates": [
                {**dataclasses.asdict(r), "amount": format_usd(r.amount)} for r in self.creates
            ],
            "creates_per_hash": self.creates_per_hash(),
            "duplicates": self.duplicates(),
            "calls": self.calls,
            "connections": self.connections,
            "faults": self.faults,
            "faults_by_endpoint": self.faults_by_endpoint,
            "rejections": self.rejections,
            "queries": self.queries,
            "downloads": self.downloads,
            "restored": list(self.restored),
            "charged": format_usd(self.charged()),
            "refunded": format_usd(self.refunded()),
        }


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


def _json(status: int, payload: Mapping[str, Any], **kwargs: Any) -> _Reply:
    body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
    return _Reply(status=status, body=body, **kwargs)


_UNAUTHORIZED = _json(401, {"code": 401, "message": "unauthorized: missing or invalid API key"})
# HTTP 200 with a non-zero code, and the text under "msg": ShortAPI's errors come every way.
_JOB_NOT_FOUND = _json(200, {"code": 404, "msg": "job not found"})
_DROP = _Reply(drop=True)


@dataclass(slots=True)
class _Job:
    """Server-side state of one job (guarded by the sandbox's lock)."""

    job_id: str
    key: str  # fault-draw key: request hash + ordinal (stable across runs), or a restored id
    request_hash: str
    duration: int
    created: float  # time.monotonic()
    latency: float
    fails: bool
    expire_first_url: bool
    look: placeholder.Placeholder  # what its video shows
    token: str | None = None  # the result URL's token handed out now
    expired_tokens: set[str] = field(default_factory=set)
    queries: int = 0
    downloads: int = 0


@lru_cache(maxsize=16)  # a job's retried downloads, and jobs of the same request
def _video(look: placeholder.Placeholder) -> bytes:
    return placeholder.render(look)


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(load_schema(REQUEST_SCHEMA))


def request_problem(body: Any) -> str | None:
    """Why the API would reject this create body (``$.path: message``), or None.

    The sandbox checks on its own, as the real service would, rather than trusting
    the client's compile-time check: that is the point of a stand-in.
    """
    error = best_match(_validator().iter_errors(body))
    if error is not None:
        return f"{error.json_path}: {error.message}"
    args = body["args"]
    shots = args.get("multi_prompt") or []
    durations = {"$.args.duration": args["duration"]}
    durations.update(
        (f"$.args.multi_prompt[{i}].duration", shot["duration"]) for i, shot in enumerate(shots)
    )
    for path, value in durations.items():
        # JSON Schema counts 5.0 as an integer; the API wants whole seconds written as such.
        if isinstance(value, float):
            return f"{path}: {value!r} is not an integer (write whole seconds as {int(value)})"
    if shots:
        total = sum(shot["duration"] for shot in shots)
        if total != args["duration"]:
            return (
                f"$.args.multi_prompt: shot durations sum to {total} s, "
                f"but duration is {args['duration']} s"
            )
    return None


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
        self._jobs: dict[str, _Job] = {}
        self._attempts: Counter[tuple[str, str]] = Counter()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._base_url: str | None = None
        _validator()  # compile the schema now, not in the first request

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
            return _json(200, self.ledger.snapshot())
        self.ledger.count_call("other")
        if request.path in (CREATE_PATH, QUERY_PATH, LEDGER_PATH):
            return _json(405, {"code": 405, "message": f"method {request.method} not allowed"})
        return _json(404, {"code": 404, "message": f"no such endpoint: {request.path}"})

    def _guarded(
        self, endpoint: str, request: _Request, handler: Callable[[_Request], _Reply]
    ) -> _Reply:
        self.ledger.count_call(endpoint)
        if not self._authorized(request.headers.get("Authorization")):
            self.ledger.count_rejection("unauthorized")
            return _UNAUTHORIZED
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
            body = json.loads(request.body, parse_constant=_reject_constant)
        except (ValueError, UnicodeDecodeError) as exc:
            self.ledger.count_rejection("bad-json")
            return _json(400, {"code": 400, "message": f"invalid JSON body: {exc}"})
        problem = request_problem(body)
        if problem is not None:
            self.ledger.count_rejection("invalid")
            return _json(400, {"code": 400, "message": problem})
        model, args = body["model"], body["args"]
        digest = request_hash(model, args)
        duration = int(args["duration"])
        try:
            amount = self._prices.rate(model, args["mode"], args["sound"]) * duration
        except UsageError as exc:
            return _json(500, {"code": 500, "message": f"sandbox: {exc}"})

        attempt = self._next_attempt("create", digest)
        delay = self._slow("create", digest, attempt)
        for fault in ("drop_before", "http429", "http503", "http500", "code3000"):
            if self._faulted(fault, digest, attempt):
                self.ledger.count_fault("create", fault)
                return self._fault_reply(fault).after(delay)

        job = self._new_job(digest, duration, args)
        self.ledger.record_create(CreateRecord(
            job_id=job.job_id, request_hash=digest, amount=amount, duration=duration,
            created_at=time.time(), fails=job.fails, callback_url=body.get("callback_url"),
        ))
        if job.fails:
            self.ledger.count_fault("create", "fail")
        if self._faulted("drop_after", digest, attempt):
            self.ledger.count_fault("create", "drop_after")
            return _DROP.after(delay)
        data = {"amount": format_usd(amount), "job_id": job.job_id}
        return _json(200, {"code": 0, "data": data}).after(delay)

    def _new_job(self, digest: str, duration: int, args: Mapping[str, Any]) -> _Job:
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
            job = _Job(
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

    def _job(self, job_id: str) -> _Job | None:
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
        job = _Job(
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
            return _json(400, {"code": 400, "message": "missing query parameter: id"})
        with self._lock:
            job = self._job(job_id)
            if job is not None:
                attempt = job.queries
                job.queries += 1
        if job is None:
            self.ledger.count_rejection("unknown-job")
            return _JOB_NOT_FOUND
        delay = self._slow("query", job.key, attempt)
        fault_reply = self._transient_fault("query", job.key, attempt)
        if fault_reply is not None:
            return fault_reply.after(delay)
        self.ledger.count_query(job_id)
        status = self._status(job)
        if status == 3:
            data: dict[str, Any] = {
                "status": 3, "refunded": True, "message": "sandbox: injected failure",
            }
        elif status == 2:
            url = f"{self._base_url}/files/{job.job_id}.mp4?token={self._token(job)}"
            if self.config.key_in_url:
                _, _, key = (request.headers.get("Authorization") or "").partition(" ")
                url += f"&key={key.strip()}"
            data = {"status": 2, "result": {"videos": [{"url": url}]}}
        else:
            data = {"status": status}
        return _json(200, {"code": 0, "data": data}).after(delay)

    def _status(self, job: _Job) -> int:
        elapsed = time.monotonic() - job.created
        if elapsed < job.latency * self.config.queued_fraction:
            return 0
        if elapsed < job.latency:
            return 1
        return 3 if job.fails else 2

    def _token(self, job: _Job) -> str:
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
            return _json(404, {"code": 404, "message": "no such file"})
        if stale:
            # Its token came from a sandbox that is gone: like an expired URL, a
            # re-query hands out a fresh one.
            self.ledger.count_rejection("stale-url")
            return _json(410, {"code": 410, "message": "url expired"})
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
            return _json(410, {"code": 410, "message": "url expired"}).after(delay)
        if not valid:
            self.ledger.count_rejection("bad-token")
            return _json(403, {"code": 403, "message": "invalid or missing token"}).after(delay)
        video = _video(job.look)
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
                return self._fault_reply(fault)
        return None

    def _fault_reply(self, fault: str) -> _Reply:
        if fault == "drop_before":
            return _DROP
        if fault == "http429":
            retry_after = f"{self.config.faults.retry_after:g}"
            return _json(429, {"code": 429, "message": "too many requests"},
                         headers=(("Retry-After", retry_after),))
        if fault == "http503":
            return _json(503, {"code": 503, "info": "service unavailable"})
        if fault == "http500":
            return _json(500, {"code": 500, "message": "sandbox: injected internal error"})
        if fault == "code3000":
            return _json(200, {"code": 3000, "message": "model temporarily unavailable"})
        raise AssertionError(f"no reply for fault {fault}")


def _param(request: _Request, name: str) -> str | None:
    values = request.query.get(name)
    return values[0] if values else None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def serve(config: SandboxConfig, *, ready: Callable[[str], None] | None = None) -> None:
    """Serve until interrupted (Ctrl-C); ``ready`` gets the base URL once it listens."""
    with Sandbox(config) as sandbox:
        if ready is not None:
            ready(sandbox.base_url)
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)


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

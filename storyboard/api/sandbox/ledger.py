"""A sandbox's settings and its ledger: every create it saw, what it charged, which were
duplicates — the oracle tests count paid jobs with.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from storyboard.api.sandbox.callbacks import CallbackPolicy
from storyboard.api.sandbox.faults import Faults
from storyboard.plan.pricing import PriceTable, format_usd

log = logging.getLogger(__name__)


# --- configuration and ledger --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SandboxConfig:
    host: str = "127.0.0.1"
    port: int = 0  # 0: any free port; read Sandbox.base_url
    api_key: str | None = None  # None: any non-empty Bearer token is accepted
    # Seconds from create to the end of a job, or a function of the request hash.
    latency: float | Callable[[str], float] = 1.0
    queued_fraction: float = 0.3  # status 0 for this share of the latency, then 1
    faults: Faults = field(default_factory=Faults)
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
    # How a job's callback_url is called when it ends (tries, timeout, gap between).
    callbacks: CallbackPolicy = field(default_factory=CallbackPolicy)


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
        self._callbacks: Counter[str] = Counter()
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

    def count_callback(self, outcome: str) -> None:
        """A callback ``sent``, ``retried``, ``failed`` (every try) or ``dropped`` (fault)."""
        self._count(self._callbacks, outcome)

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
    def callbacks(self) -> dict[str, int]:
        """Callbacks per outcome: sent, retried, failed, dropped."""
        with self._lock:
            return dict(self._callbacks)

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
            "callbacks": self.callbacks,
            "charged": format_usd(self.charged()),
            "refunded": format_usd(self.refunded()),
        }

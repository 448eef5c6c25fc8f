"""The sandbox's callbacks: when a job created with a ``callback_url`` ends, POST a hint there.

ShortAPI documents that it POSTs "the result" to ``callback_url`` but not the payload, and
callbacks elsewhere are retried a few times with short timeouts. So the sandbox sends a
small JSON hint, ``{"job_id": ..., "status": 2}`` (3 for a failed job), that no client may
rely on: a client treats any callback as "query this job now". It is sent

* from one dispatcher thread with a heap of due times (a job's end is known when it is
  created), never a thread per job, handing due ones to a few sender threads (a slow
  receiver does not hold up the others' callbacks: the real service sends them at once);
* to exactly the URL given and nowhere else (``http.client``: no proxies from the
  environment, no redirects followed);
* up to ``CallbackPolicy.tries`` times, each with a short timeout, a non-2xx answer or a
  connection error counting as a failed try.

The ledger counts callbacks sent, failed (every try failed) and dropped (the
``no-callback`` fault), so tests can see the safety net at work.
"""

from __future__ import annotations

import contextlib
import heapq
import http.client
import itertools
import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from storyboard.api.sandbox.ledger import Ledger

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CallbackPolicy:
    tries: int = 3
    timeout: float = 2.0  # seconds per try: connect, send, read the status line
    retry_after: float = 0.5  # seconds between tries
    senders: int = 4  # callbacks in flight at once


@dataclass(frozen=True, slots=True)
class _Due:
    url: str
    body: bytes
    try_number: int


class Dispatcher:
    """Sends due callbacks from one background thread; ``stop`` drops those not yet due."""

    def __init__(self, ledger: Ledger, policy: CallbackPolicy = CallbackPolicy()) -> None:
        self._ledger = ledger
        self._policy = policy
        self._heap: list[tuple[float, int, _Due]] = []
        self._order = itertools.count()  # ties keep the order they were scheduled in
        self._wake = threading.Condition()
        self._stopped = False
        self._thread: threading.Thread | None = None
        self._senders = ThreadPoolExecutor(max(1, policy.senders),
                                           thread_name_prefix="storyboard-sandbox-callback")

    def schedule(self, at: float, url: str, job_id: str, status: int) -> None:
        """POST ``{"job_id", "status"}`` to ``url`` at ``at`` (``time.monotonic()``)."""
        body = json.dumps({"job_id": job_id, "status": status}).encode("utf-8")
        self._push(at, _Due(url, body, 1))

    def _push(self, at: float, due: _Due) -> None:
        with self._wake:
            if self._stopped:
                return
            heapq.heappush(self._heap, (at, next(self._order), due))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, daemon=True,
                                                name="storyboard-sandbox-callbacks")
                self._thread.start()
            self._wake.notify()

    def stop(self) -> None:
        with self._wake:
            self._stopped = True
            self._heap.clear()
            self._wake.notify()
            thread = self._thread
        if thread is not None:
            thread.join()
        self._senders.shutdown(wait=True, cancel_futures=True)  # tries under way end

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._stopped and (
                        not self._heap or self._heap[0][0] > time.monotonic()):
                    wait = self._heap[0][0] - time.monotonic() if self._heap else None
                    self._wake.wait(wait)
                if self._stopped:
                    return
                _, _, due = heapq.heappop(self._heap)
                self._senders.submit(self._send, due)

    def _send(self, due: _Due) -> None:
        if _post(due.url, due.body, self._policy.timeout):
            self._ledger.count_callback("sent")
        elif due.try_number < self._policy.tries:
            self._ledger.count_callback("retried")
            self._push(time.monotonic() + self._policy.retry_after,
                       _Due(due.url, due.body, due.try_number + 1))
        else:
            self._ledger.count_callback("failed")


def _post(url: str, body: bytes, timeout: float) -> bool:
    """One try: True when the URL answered 2xx."""
    parts = urlsplit(url)
    kind = {"http": http.client.HTTPConnection, "https": http.client.HTTPSConnection}.get(
        parts.scheme.lower())
    if kind is None or not parts.hostname:
        return False
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection = kind(parts.hostname, parts.port, timeout=timeout)
    except (ValueError, OSError):  # a bad port
        return False
    try:
        connection.request("POST", target, body=body, headers={
            "Content-Type": "application/json", "User-Agent": "storyboard-sandbox"})
        status: int = connection.getresponse().status
    except (OSError, http.client.HTTPException, ValueError) as exc:
        log.debug("sandbox: callback to %s failed: %s", url, exc)
        return False
    finally:
        with contextlib.suppress(OSError):
            connection.close()
    return 200 <= status < 300

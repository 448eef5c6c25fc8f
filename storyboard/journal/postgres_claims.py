"""The shared journal's claims: a runner claims a generation before it creates (or takes
over) its job, renews its claims from a heartbeat, and releases each when done; a claim
whose runner stopped renewing it expires after the lease and is taken over. Time is the
server's (``clock_timestamp()``), so the runners' clocks need not agree."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

import psycopg

from storyboard.errors import ClaimLost, StateError

T = TypeVar("T")
LIVE = "expires_at > clock_timestamp()"


class Claims:
    """Claims on generations, for ``PostgresJournal``, which provides the connections."""

    path: str
    _runner: str
    _lease: float
    _held: set[tuple[str, str]]  # (origin, hash) this runner claimed
    _beat: psycopg.Connection[dict[str, Any]] | None
    _beat_mutex: threading.Lock

    if TYPE_CHECKING:
        def _run(self, work: Callable[[psycopg.Connection[dict[str, Any]]], T], *,
                 retry: bool = True, transaction: bool = True) -> T: ...
        def _writable(self) -> None: ...
        def _connect(self) -> psycopg.Connection[dict[str, Any]]: ...
        def _failure(self, exc: psycopg.Error) -> StateError: ...

    def claim(self, hash: str, origin: str) -> bool:
        """Claim a generation for this runner (taking over an expired claim); False while
        another runner's claim is live."""
        self._writable()
        row = self._run(lambda c: c.execute(
            "INSERT INTO storyboard.claims AS c (origin, hash, runner, expires_at) "
            "VALUES (%s, %s, %s, clock_timestamp() + make_interval(secs => %s)) "
            "ON CONFLICT (origin, hash) DO UPDATE SET runner = EXCLUDED.runner, "
            f"expires_at = EXCLUDED.expires_at WHERE NOT c.{LIVE} OR c.runner = EXCLUDED.runner "
            "RETURNING runner", (origin, hash, self._runner, self._lease)).fetchone())
        if row is None:
            return False
        self._held.add((origin, hash))
        return True

    def release(self, hash: str, origin: str) -> None:
        self._held.discard((origin, hash))
        self._run(lambda c: c.execute(
            "DELETE FROM storyboard.claims WHERE origin = %s AND hash = %s AND runner = %s",
            (origin, hash, self._runner)))

    def renew(self) -> None:
        """Extend every claim this runner holds (the heartbeat; its own connection, so a
        long statement on the main one never lets a lease lapse)."""
        if not self._held:
            return
        with self._beat_mutex:
            try:
                if self._beat is None or self._beat.closed or self._beat.broken:
                    self._beat = self._connect()
                self._beat.execute(
                    "UPDATE storyboard.claims SET expires_at = clock_timestamp() + "
                    "make_interval(secs => %s) WHERE runner = %s", (self._lease, self._runner))
            except psycopg.Error as exc:
                if self._beat is not None and (self._beat.closed or self._beat.broken):
                    self._beat = None
                raise self._failure(exc) from None

    def free(self, hashes: Iterable[str], origin: str) -> set[str]:
        """Those of ``hashes`` that no other runner's live claim holds."""
        wanted = list(hashes)
        rows = self._run(lambda c: c.execute(
            f"SELECT hash FROM storyboard.claims WHERE origin = %s AND hash = ANY(%s) AND {LIVE} "
            "AND runner <> %s", (origin, wanted, self._runner)).fetchall())
        return set(wanted) - {r["hash"] for r in rows}

    def _still_mine(self, conn: psycopg.Connection[dict[str, Any]], origin: str,
                    hash: str) -> None:
        row = conn.execute("SELECT runner FROM storyboard.claims WHERE origin = %s AND "
                           "hash = %s FOR UPDATE", (origin, hash)).fetchone()
        if row is None or row["runner"] != self._runner:
            self._held.discard((origin, hash))
            by = f" by {row['runner']}" if row else ""
            raise ClaimLost(f"{self.path}: this runner's claim on {hash[:12]} expired and was "
                            f"taken over{by}; not sent (the other runner renders it)")
        conn.execute("UPDATE storyboard.claims SET expires_at = clock_timestamp() + "
                     "make_interval(secs => %s) WHERE origin = %s AND hash = %s",
                     (self._lease, origin, hash))

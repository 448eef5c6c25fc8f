"""The shared journal: PostgreSQL, so that runners on several machines (CI jobs, teammates)
never pay twice for one generation.

The attempts are the folder journal's, with the same statuses and moves, plus which runner
wrote each; what sharing adds is the claim (``postgres_claims``). ``begin`` re-checks the
claim under a row lock in the same transaction that writes the attempt, so a runner whose
lease lapsed while it was away cannot create what another took over, and checks the
storyboard's budget against what *every* runner has spent, under an advisory lock.

A dropped connection is made again once per call and the call retried (every write is
idempotent: ``begin`` carries a token, a move to the status an attempt already has with the
same values does nothing); a server that stays away is a ``StateError`` naming the URL,
never its password. Tables live in their own schema, ``storyboard`` (``postgres_schema``).
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import urlsplit

import psycopg
from psycopg.rows import dict_row

from storyboard.errors import JournalLost, StateError
from storyboard.journal.base import (
    ACCEPT_LOST_OPTION,
    API,
    DEFAULT_LEASE,
    INTERRUPTED,
    MOVES,
    Attempt,
    Ended,
    Status,
    Traces,
    check_origin,
    check_within,
    money_text,
    one_by_one,
)
from storyboard.journal.lock import lock_folder
from storyboard.journal.postgres_claims import LIVE, Claims
from storyboard.journal.postgres_schema import (
    COLUMNS,
    attempt_from_row,
    insert_imported,
    prepare,
    redact_url,
    spent_in,
    status_text,
)
from storyboard.model import Spent, canonical_json

T = TypeVar("T")
CONNECT_TIMEOUT = 10  # seconds
class PostgresJournal(Claims):
    """A journal in PostgreSQL, shared by every runner that names the same database."""

    shared = True

    def __init__(self, url: str, *, exclusive: bool, lease: float,
                 clock: Callable[[], float], lock_fd: int | None) -> None:
        self._url = url
        self.path = redact_url(url)
        self._exclusive = exclusive
        self.lease = self._lease = lease
        self._clock = clock
        self._lock_fd = lock_fd
        self._conn: psycopg.Connection[dict[str, Any]] | None = None
        self._beat: psycopg.Connection[dict[str, Any]] | None = None
        self._mutex = threading.Lock()  # one statement stream per connection
        self._beat_mutex = threading.Lock()
        self._held: set[tuple[str, str]] = set()  # (origin, hash) this runner claimed
        self._runner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._state_id: str | None = None
        self.imported = 0  # attempts copied in from a state folder's journal by this runner
        self._traces: Callable[[], Traces] = Traces

    @classmethod
    def open(cls, url: str, *, exclusive: bool = True, lock_dir: Path | None = None,
             traces: Callable[[], Traces] = Traces, accept_lost: bool = False,
             lease: float = DEFAULT_LEASE, clock: Callable[[], float] = time.time,
             adopt: Callable[[PostgresJournal], None] | None = None) -> PostgresJournal:
        """Connect (creating the tables in a new database). A writer locks ``lock_dir``,
        its local folder (cache, rescue file), calls ``adopt(journal)`` (to import what
        that folder journaled before the team shared one), then refuses a database that
        does not know the job ids the published manifest lists (``JournalLost``) unless
        ``accept_lost``."""
        lock_fd = None
        if exclusive and lock_dir is not None:
            lock_dir.mkdir(parents=True, exist_ok=True)
            lock_fd = lock_folder(lock_dir, hint=(
                "give each runner its own checkout (runners share the journal through the "
                "database, not a folder)"))
        journal = cls(url, exclusive=exclusive, lease=lease, clock=clock, lock_fd=lock_fd)
        journal._traces = traces
        try:
            journal._state_id = journal._run(
                lambda c: prepare(c, writer=exclusive, where=journal.path), transaction=False)
            if exclusive and adopt is not None:
                adopt(journal)
            if exclusive and not accept_lost:
                journal._refuse_if_lost(traces())
        except BaseException:
            journal.close()
            raise
        return journal

    # ------------------------------------------------------------ the interface

    @property
    def exclusive(self) -> bool:
        return self._exclusive

    @property
    def runner(self) -> str:
        return self._runner

    @property
    def state_id(self) -> str | None:
        return self._state_id

    def close(self) -> None:
        """Release this runner's claims (others need not wait for them to expire), then
        close the connections and the local folder's lock."""
        if self._held:
            with contextlib.suppress(StateError):
                self._run(lambda c: c.execute(
                    "DELETE FROM storyboard.claims WHERE runner = %s", (self._runner,)),
                    retry=False)
            self._held.clear()
        for conn in (self._conn, self._beat):
            if conn is not None:
                with contextlib.suppress(psycopg.Error):
                    conn.close()
        self._conn = self._beat = None
        if self._lock_fd is not None:
            fd, self._lock_fd = self._lock_fd, None
            os.close(fd)

    def __enter__(self) -> PostgresJournal:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"PostgresJournal({self.path!r}, {'writer' if self._exclusive else 'reader'})"

    def begin(self, *, hash: str, generation_id: str, storyboard: str,
              request: Mapping[str, Any], estimated_usd: Decimal, origin: str = API,
              api_base: str | None = None, within: Decimal | None = None) -> int:
        """Record an attempt as ``submitting`` (see ``SqliteJournal.begin``), only while
        this runner still holds the generation's claim, and within the budget."""
        self._writable()
        token = uuid.uuid4().hex
        values = (token, hash, generation_id, storyboard, canonical_json(dict(request)),
                  Status.SUBMITTING.value, money_text(estimated_usd), check_origin(origin),
                  api_base, self._runner)

        def write(conn: psycopg.Connection[dict[str, Any]]) -> int:
            row = conn.execute("SELECT attempt_id FROM storyboard.attempts WHERE token = %s",
                               (token,)).fetchone()
            if row is not None:  # written before the connection dropped
                return int(row["attempt_id"])
            if (origin, hash) in self._held:
                self._still_mine(conn, origin, hash)
            if within is not None:
                conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                             (f"budget:{origin}:{storyboard}",))
                check_within(spent_in(conn, storyboard, origin), estimated_usd, within)
            now = self._clock()
            row = conn.execute(
                "INSERT INTO storyboard.attempts (token, hash, generation_id, storyboard, "
                "request_json, status, estimated_usd, created_at, updated_at, origin, "
                "api_base, runner) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
                "RETURNING attempt_id", (*values[:7], now, now, *values[7:])).fetchone()
            assert row is not None
            return int(row["attempt_id"])

        return self._run(write)

    def created(self, attempt_id: int, job_id: str, charged_usd: Decimal | None,
                origin: str | None = None) -> None:
        if not job_id:
            raise ValueError("a created attempt needs its job id")
        fields_: dict[str, Any] = {"job_id": job_id, "error": None, "charged_usd": (
            None if charged_usd is None else Decimal(money_text(charged_usd)))}
        if origin is not None:
            fields_["origin"] = check_origin(origin)
        self._move(attempt_id, Status.PENDING, **fields_)

    def unknown(self, attempt_id: int, error: str) -> None:
        self._move(attempt_id, Status.UNKNOWN, error=error)

    def rejected(self, attempt_id: int, error: str) -> None:
        self._move(attempt_id, Status.REJECTED, error=error)

    def failed(self, attempt_id: int, reason: str, refunded: bool, status: int | None) -> None:
        self._move(attempt_id, Status.FAILED, error=reason, refunded=bool(refunded),
                   job_status=status)

    def done(self, attempt_id: int, *, url: str | None, file: str, sha256: str) -> None:
        self._move(attempt_id, Status.DONE, url=url, file=file, sha256=sha256, error=None)

    def note(self, attempt_id: int, error: str | None) -> None:
        self._writable()

        def write(conn: psycopg.Connection[dict[str, Any]]) -> None:
            self._status_of(conn, attempt_id)
            conn.execute("UPDATE storyboard.attempts SET error = %s, updated_at = %s "
                         "WHERE attempt_id = %s", (error, self._clock(), attempt_id))

        self._run(write)

    def reconcile_interrupted(self) -> list[Attempt]:
        """Creates a stopped runner left ``submitting`` become ``unknown`` — only those
        whose generation no live runner claims (a live one is sending it now)."""
        self._writable()
        rows = self._run(lambda c: c.execute(
            "UPDATE storyboard.attempts AS a SET status = %s, error = %s, updated_at = %s "
            "WHERE status = %s AND NOT EXISTS (SELECT 1 FROM storyboard.claims AS c WHERE "
            f"c.origin = a.origin AND c.hash = a.hash AND c.{LIVE}) RETURNING *",
            (Status.UNKNOWN.value, INTERRUPTED, self._clock(), Status.SUBMITTING.value),
        ).fetchall())
        return sorted((self._attempt(r) for r in rows), key=lambda a: a.attempt_id)

    def get(self, attempt_id: int) -> Attempt | None:
        rows = self._select("WHERE attempt_id = %s", (attempt_id,))
        return rows[0] if rows else None

    def latest(self, hash: str, origin: str | None = None) -> Attempt | None:
        where, params = ("WHERE hash = %s", (hash,)) if origin is None else (
            "WHERE hash = %s AND origin = %s", (hash, origin))
        rows = self._select(f"{where} ORDER BY attempt_id DESC LIMIT 1", params)
        return rows[0] if rows else None

    def latest_all(self, origin: str | None = None) -> dict[str, Attempt]:
        if not self._state_id:  # a reader of a database no runner has written yet
            return {}
        where, params = ("", ()) if origin is None else ("WHERE origin = %s", (origin,))
        rows = self._run(lambda c: c.execute(
            f"SELECT DISTINCT ON (hash) * FROM storyboard.attempts {where} "
            "ORDER BY hash, attempt_id DESC", params).fetchall())
        return {a.hash: a for a in sorted(map(self._attempt, rows),
                                          key=lambda a: a.attempt_id)}

    def spent(self, storyboard: str, origin: str = API) -> Spent:
        if not self._state_id:
            return Spent()
        return self._run(lambda c: spent_in(c, storyboard, origin))

    def attempts(self, hash: str | None = None) -> list[Attempt]:
        if hash is None:
            return self._select("ORDER BY attempt_id", ())
        return self._select("WHERE hash = %s ORDER BY attempt_id", (hash,))

    def run_batch(self, calls: Sequence[Callable[[], Any]]) -> list[Ended]:
        """Each call in a transaction of its own, as when made alone: one transaction for
        all would need savepoints inside ``_run``'s reconnect-and-retry."""
        return one_by_one(calls)

    def import_attempts(self, attempts: Iterable[Attempt], source: str) -> int:
        """Copy another journal's attempts in — a state folder's, when its team moves to a
        shared journal — so that nothing it paid for is paid again. Each is copied once
        however often this runs (its token names ``source`` and its id there); a create
        it was still sending becomes one of unknown outcome. Returns how many were new; a
        source already copied up to its last attempt costs one lookup, not an insert each."""
        self._writable()
        listed = list(attempts)
        added = self._run(lambda c: insert_imported(c, listed, source)) if listed else 0
        self.imported += added
        return added

    # -------------------------------------------------------------- internals

    def _connect(self) -> psycopg.Connection[dict[str, Any]]:
        return psycopg.connect(self._url, autocommit=True, row_factory=dict_row,
                               connect_timeout=CONNECT_TIMEOUT, application_name="storyboard")

    def _run(self, work: Callable[[psycopg.Connection[dict[str, Any]]], T], *,
             retry: bool = True, transaction: bool = True) -> T:
        """``work(conn)`` in one transaction; a connection found dropped is made again and
        the work tried once more (every write here is idempotent)."""
        with self._mutex:
            for attempt in (1, 2):
                try:
                    if self._conn is None or self._conn.closed or self._conn.broken:
                        self._conn = self._connect()
                    if not transaction:
                        return work(self._conn)
                    with self._conn.transaction():
                        return work(self._conn)
                except psycopg.OperationalError as exc:
                    dropped = self._conn is None or self._conn.closed or self._conn.broken
                    if dropped and self._conn is not None:
                        with contextlib.suppress(psycopg.Error):
                            self._conn.close()
                        self._conn = None
                    if not (retry and dropped and attempt == 1):
                        raise self._failure(exc) from None
                except psycopg.Error as exc:
                    raise self._failure(exc) from None
        raise AssertionError("unreachable")

    def lost(self) -> str | None:
        """Why ``storyboard run`` would refuse this database (see ``_refuse_if_lost``)."""
        try:
            self._refuse_if_lost(self._traces())
        except JournalLost as exc:
            return str(exc)
        return None

    def _refuse_if_lost(self, traces: Traces) -> None:
        """Published renders list job ids this database never saw: its journal is
        elsewhere (a state folder, another database), and going on would pay again."""
        if not traces.job_ids:
            return
        known = {r["job_id"] for r in self._run(lambda c: c.execute(
            "SELECT DISTINCT job_id FROM storyboard.attempts WHERE job_id = ANY(%s)",
            (sorted(traces.job_ids),)).fetchall())}
        unknown = traces.job_ids - known
        if unknown:
            n = len(unknown)
            raise JournalLost(
                f"{self.path}: {traces.manifest or 'the manifest'} lists {n} job "
                f"id{'s' * (n != 1)} this journal does not know: they were journaled "
                "elsewhere (a state folder, or another database). Going on would pay again "
                "for jobs already paid. Run with the state that made them, or rerun with "
                f"{ACCEPT_LOST_OPTION} to go on knowingly")

    def _move(self, attempt_id: int, target: Status, **values: Any) -> None:
        unknown_columns = set(values) - COLUMNS
        if unknown_columns:
            raise ValueError(f"not journal columns: {sorted(unknown_columns)}")
        self._writable()

        def write(conn: psycopg.Connection[dict[str, Any]]) -> None:
            row = conn.execute("SELECT * FROM storyboard.attempts WHERE attempt_id = %s "
                               "FOR UPDATE", (attempt_id,)).fetchone()
            if row is None:
                raise StateError(f"{self.path}: no attempt {attempt_id} in the journal")
            current = status_text(self.path, row["status"])
            if current is target and all(row[k] == v for k, v in values.items()):
                return  # already written (the connection dropped before the answer)
            if current not in MOVES[target]:
                raise StateError(f"{self.path}: attempt {attempt_id} is {current}; "
                                 f"it cannot become {target}")
            assignments = ", ".join(f"{column} = %s" for column in values)
            conn.execute(f"UPDATE storyboard.attempts SET status = %s, {assignments}, "
                         "updated_at = %s WHERE attempt_id = %s",
                         (target.value, *values.values(), self._clock(), attempt_id))

        self._run(write)

    def _status_of(self, conn: psycopg.Connection[dict[str, Any]], attempt_id: int) -> Status:
        row = conn.execute("SELECT status FROM storyboard.attempts WHERE attempt_id = %s",
                           (attempt_id,)).fetchone()
        if row is None:
            raise StateError(f"{self.path}: no attempt {attempt_id} in the journal")
        return status_text(self.path, row["status"])

    def _select(self, where: str, params: tuple[Any, ...]) -> list[Attempt]:
        if not self._state_id:  # a reader of a database no runner has written yet
            return []
        rows = self._run(lambda c: c.execute(
            f"SELECT * FROM storyboard.attempts {where}", params).fetchall())
        return [self._attempt(row) for row in rows]

    def _attempt(self, row: Mapping[str, Any]) -> Attempt:
        return attempt_from_row(self.path, row)

    def _writable(self) -> None:
        if not self._exclusive:
            raise StateError(f"{self.path}: the journal is open read-only "
                             "(only `storyboard run` writes it)")

    def _failure(self, exc: psycopg.Error) -> StateError:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        password = urlsplit(self._url).password if "://" in self._url else None
        if password:
            text = text.replace(password, "…")
        if "does not exist" in text and "database" in text:
            todo = "create the database (e.g. `createdb`) or fix the URL"
        elif "authentication failed" in text or "no password supplied" in text:
            todo = "check the user and password (in the URL, PGPASSWORD or ~/.pgpass)"
        else:
            todo = "nothing is lost: rerun the same command once the database is reachable"
        return StateError(f"{self.path}: cannot use the journal: {text} ({todo})")

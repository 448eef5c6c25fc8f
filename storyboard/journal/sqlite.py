"""The folder journal: SQLite in the state folder, the embedded default.

Each write is committed durably (WAL, ``synchronous=FULL``) before the call returns (the
rules every journal keeps are in ``base``). One ``storyboard run`` at a time owns a state
folder: ``open(exclusive=True)`` takes an ``flock`` on ``<state>/lock`` that the kernel
drops when the process ends, however it ends. Readers (``status``) open without the lock
and cannot write. A journal that knows less than its mark or its folder shows is refused
(``sqlite_mark``). Its connection may be used from any thread, one call at a time: a run
makes its journal calls in a thread of their own (``execute.journal_thread``).

Every attempt records where its job was made: ``origin`` is ``api`` or ``sandbox`` (a
sandbox says so on the wire, in every answer), and ``api_base`` the URL it was sent
to. A run reads only the attempts of its own origin, so a sandbox's placeholder is
never reused, counted or published as a real render, whatever folder it shares.
Journals of schema 1 (before origins were recorded) are migrated when a run opens
them (``sqlite_file``). Money is decimal TEXT, never REAL. The API key has no column.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import Any

from storyboard.errors import JournalLost, StateError
from storyboard.journal.base import (
    ACCEPT_LOST_OPTION,
    API,
    INTERRUPTED,
    MOVES,
    ORIGINS,
    SANDBOX,
    Attempt,
    Ended,
    OneWriter,
    Status,
    Traces,
    charged_to,
    check_origin,
    check_within,
    ended,
    money_text,
    spent_by,
)
from storyboard.journal.lock import LOCK_FILE
from storyboard.journal.sqlite_file import (
    COLUMNS,
    JOURNAL_FILE,
    SCHEMA_VERSION,
    attempt_from_row,
    failure,
    status_text,
)
from storyboard.journal.sqlite_mark import MARK_FILE, Mark, state_id_of, write_mark
from storyboard.journal.sqlite_open import open_reader, open_writer
from storyboard.model import Spent, canonical_json

NO_MARK = "not sent: the journal's mark could not be written"
__all__ = [  # what callers imported from here before the interface moved to journal.base
    "ACCEPT_LOST_OPTION", "API", "JOURNAL_FILE", "LOCK_FILE", "MARK_FILE", "ORIGINS", "SANDBOX",
    "SCHEMA_VERSION", "Attempt", "Journal", "SqliteJournal", "Status", "Traces", "charged_to",
    "state_id_of",
]


class SqliteJournal(OneWriter):
    """The state folder's journal; open with ``Journal.open`` and close (or ``with``).

    One writer at a time (the state folder's lock), so every claim is granted."""

    def __init__(self, conn: sqlite3.Connection, *, path: Path, state_dir: Path,
                 lock_fd: int | None, clock: Callable[[], float],
                 mark: Mark | None = None) -> None:
        self._conn = conn
        self._lock_fd = lock_fd
        self._clock = clock
        self._mark = mark
        self.path = path
        self.state_dir = state_dir
        self._lost: Callable[[], None] = lambda: None
        self._using = threading.RLock()  # one call at a time on the connection (any thread)
        self._begun: dict[int, int] | None = None  # in a batch: call number -> attempt begun
        self._calling = 0  # in a batch: the call being made

    def lost(self) -> str | None:
        """Why ``storyboard run`` would refuse this journal as lost (see ``JournalLost``),
        for a reader to warn about; None when it would not."""
        try:
            self._lost()
        except JournalLost as exc:
            return str(exc)
        return None

    @classmethod
    def open(cls, state_dir: Path, *, exclusive: bool = True,
             clock: Callable[[], float] = time.time,
             traces: Callable[[], Traces] = Traces,
             accept_lost: bool = False) -> SqliteJournal:
        """Open (and, when ``exclusive``, create and lock) the journal in ``state_dir``.

        ``exclusive=False`` is for readers: it takes no lock, never writes, and creates
        nothing; a folder without a journal reads as empty. A writer refuses a journal
        that lost what ``journal.mark`` or ``traces()`` show it held (``JournalLost``),
        unless ``accept_lost``: then it goes on with it and resets the mark.
        """
        state_dir = Path(state_dir)
        path = state_dir / JOURNAL_FILE
        if not exclusive:
            conn, lost = open_reader(state_dir, traces)
            reader = cls(conn, path=path, state_dir=state_dir, lock_fd=None, clock=clock)
            reader._lost = lost
            return reader
        conn, lock_fd, mark = open_writer(state_dir, traces, accept_lost)
        try:
            journal = cls(conn, path=path, state_dir=state_dir, lock_fd=lock_fd, clock=clock,
                          mark=mark)
            journal._write_mark(journal._high_water())
        except BaseException:
            conn.close()
            os.close(lock_fd)
            raise
        return journal

    @property
    def exclusive(self) -> bool:
        return self._lock_fd is not None

    @property
    def runner(self) -> str:
        return f"pid {os.getpid()}"

    @property
    def state_id(self) -> str | None:
        """The state folder's id (from ``journal.mark``; None for a reader of a new one)."""
        return self._mark.state_id if self._mark else None

    def close(self) -> None:
        """Close the database, then drop the lock (in that order: no writer after it)."""
        with self._using, contextlib.suppress(sqlite3.Error):
            self._conn.close()
        if self._lock_fd is not None:
            fd, self._lock_fd = self._lock_fd, None
            os.close(fd)  # closing the descriptor releases the flock

    def __enter__(self) -> SqliteJournal:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        mode = "exclusive" if self.exclusive else "read-only"
        return f"Journal({str(self.path)!r}, {mode})"

    # ---------------------------------------------------------------- writing

    def begin(self, *, hash: str, generation_id: str, storyboard: str,
              request: Mapping[str, Any], estimated_usd: Decimal, origin: str = API,
              api_base: str | None = None, within: Decimal | None = None) -> int:
        """Record an attempt as ``submitting``; durable before it returns (send after).

        ``origin`` is where the run believes it sends the create; ``created`` corrects
        it from the answer itself. With ``within``, refuse (``OverBudget``) an attempt
        that would take what ``storyboard`` has spent past it."""
        with self._using:
            return self._begin(hash, generation_id, storyboard, request, estimated_usd,
                               origin, api_base, within)

    def _begin(self, hash: str, generation_id: str, storyboard: str,
               request: Mapping[str, Any], estimated_usd: Decimal, origin: str,
               api_base: str | None, within: Decimal | None) -> int:
        now = self._clock()
        with self._writing() as conn:
            if within is not None:
                check_within(self._spent_in(conn, storyboard, origin), estimated_usd, within)
            cursor = conn.execute(
                "INSERT INTO attempts (hash, generation_id, storyboard, request_json, status, "
                "estimated_usd, refunded, created_at, updated_at, origin, api_base) "
                "VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?)",
                (hash, generation_id, storyboard, canonical_json(dict(request)),
                 Status.SUBMITTING.value, money_text(estimated_usd), now, now, check_origin(origin),
                 api_base),
            )
            attempt_id = cursor.lastrowid
        if attempt_id is None:
            raise StateError(f"{self.path}: the journal did not return the new attempt's id")
        if self._begun is not None:  # marked once for the whole batch, after its commit
            self._begun[self._calling] = attempt_id
            return attempt_id
        try:
            self._write_mark(attempt_id)
        except StateError:
            # without its mark, a later loss of the journal could go unnoticed: not sent
            with contextlib.suppress(StateError):
                self.rejected(attempt_id, NO_MARK)
            raise
        return attempt_id

    def run_batch(self, calls: Sequence[Callable[[], Any]]) -> list[Ended]:
        """Group commit: ``calls`` (this journal's) in one transaction, committed durably
        once, and the mark written once for every attempt they begin, before any result
        is returned. A call that fails is undone alone (a savepoint of its own); a commit
        that fails fails them all; a mark that cannot be written fails the attempts begun,
        which are rejected (never sent), as one ``begin``'s would be."""
        if len(calls) == 1:  # its own transaction and mark, without a savepoint's two
            return [ended(calls[0])]  # statements
        with self._using:
            self._begun = {}
            outcomes: list[Ended] = []
            try:
                with self._writing():
                    for n, call in enumerate(calls):
                        self._calling = n
                        outcomes.append(ended(call))
            except StateError as exc:  # the commit: nothing of the batch was written
                return [(None, exc)] * len(calls)
            finally:
                begun, self._begun = self._begun, None
            if begun:
                try:
                    self._write_mark(max(begun.values()))
                except StateError as exc:
                    for n, attempt_id in begun.items():
                        with contextlib.suppress(StateError):
                            self.rejected(attempt_id, NO_MARK)
                        outcomes[n] = (None, exc)
            return outcomes

    def created(self, attempt_id: int, job_id: str, charged_usd: Decimal | None,
                origin: str | None = None) -> None:
        """The API accepted the create: keep its job id (durable before returning), and
        where the answer says the job was made."""
        if not job_id:
            raise ValueError("a created attempt needs its job id")
        fields: dict[str, Any] = {"job_id": job_id, "error": None, "charged_usd": (
            None if charged_usd is None else money_text(charged_usd))}
        if origin is not None:
            fields["origin"] = check_origin(origin)
        self._move(attempt_id, Status.PENDING, **fields)

    def unknown(self, attempt_id: int, error: str) -> None:
        self._move(attempt_id, Status.UNKNOWN, error=error)

    def rejected(self, attempt_id: int, error: str) -> None:
        self._move(attempt_id, Status.REJECTED, error=error)

    def failed(self, attempt_id: int, reason: str, refunded: bool, status: int | None) -> None:
        self._move(attempt_id, Status.FAILED, error=reason, refunded=int(bool(refunded)),
                   job_status=status)

    def done(self, attempt_id: int, *, url: str | None, file: str, sha256: str) -> None:
        self._move(attempt_id, Status.DONE, url=url, file=file, sha256=sha256, error=None)

    def note(self, attempt_id: int, error: str | None) -> None:
        """Record a problem (say, a download that will be retried) without a new status."""
        with self._writing() as conn:
            self._status_of(conn, attempt_id)
            conn.execute("UPDATE attempts SET error = ?, updated_at = ? WHERE attempt_id = ?",
                         (error, self._clock(), attempt_id))

    def reconcile_interrupted(self) -> list[Attempt]:
        """Turn attempts a crashed run left ``submitting`` into ``unknown``; return them."""
        with self._writing() as conn:
            ids = [row["attempt_id"] for row in conn.execute(
                "SELECT attempt_id FROM attempts WHERE status = ? ORDER BY attempt_id",
                (Status.SUBMITTING.value,))]
            conn.executemany(
                "UPDATE attempts SET status = ?, error = ?, updated_at = ? WHERE attempt_id = ?",
                [(Status.UNKNOWN.value, INTERRUPTED, self._clock(), i) for i in ids])
        return [self._get(i) for i in ids]

    # ---------------------------------------------------------------- reading

    def get(self, attempt_id: int) -> Attempt | None:
        rows = self._select("WHERE attempt_id = ?", (attempt_id,))
        return rows[0] if rows else None

    def latest(self, hash: str, origin: str | None = None) -> Attempt | None:
        """The most recent attempt for a generation hash (made by ``origin``, if given)."""
        rows = [a for a in self._select("WHERE hash = ? ORDER BY attempt_id DESC", (hash,))
                if origin is None or a.origin == origin]
        return rows[0] if rows else None

    def latest_all(self, origin: str | None = None) -> dict[str, Attempt]:
        """Every hash's most recent attempt (of those ``origin`` made, if given)."""
        latest: dict[str, Attempt] = {}
        for attempt in self._select("ORDER BY attempt_id", ()):
            if origin is None or attempt.origin == origin:
                latest[attempt.hash] = attempt
        return latest

    def spent(self, storyboard: str, origin: str = API) -> Spent:
        """What ``storyboard`` has spent in this state by ``origin`` (see ``Spent``)."""
        return spent_by(self._select("WHERE storyboard = ?", (storyboard,)), origin)

    def _spent_in(self, conn: sqlite3.Connection, storyboard: str, origin: str) -> Spent:
        rows = conn.execute("SELECT * FROM attempts WHERE storyboard = ?", (storyboard,))
        return spent_by((attempt_from_row(self.path, row) for row in rows), origin)

    def attempts(self, hash: str | None = None) -> list[Attempt]:
        """All attempts (or one hash's), oldest first."""
        if hash is None:
            return self._select("ORDER BY attempt_id", ())
        return self._select("WHERE hash = ? ORDER BY attempt_id", (hash,))

    # -------------------------------------------------------------- internals

    def _high_water(self) -> int:
        try:
            row = self._conn.execute("SELECT COALESCE(MAX(attempt_id), 0) FROM attempts")
            return int(row.fetchone()[0])
        except sqlite3.Error as exc:
            raise failure(self.path, exc) from exc

    def _write_mark(self, attempts: int) -> None:
        """Keep ``journal.mark`` at the journal's high-water mark (written durably)."""
        self._mark = write_mark(self.state_dir, self._mark, attempts)

    @contextlib.contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """One durable transaction (within a batch's, a savepoint of its own); only the
        lock holder writes."""
        if self._lock_fd is None:
            raise StateError(f"{self.path}: the journal is open read-only "
                             "(only a locked `storyboard run` writes it)")
        conn = self._conn
        try:
            with self._using:
                nested = conn.in_transaction
                conn.execute("SAVEPOINT one" if nested else "BEGIN IMMEDIATE")
                try:
                    yield conn
                except BaseException:
                    conn.execute("ROLLBACK TO one" if nested else "ROLLBACK")
                    if nested:
                        conn.execute("RELEASE one")
                    raise
                conn.execute("RELEASE one" if nested else "COMMIT")
        except sqlite3.Error as exc:
            raise failure(self.path, exc) from exc

    def _move(self, attempt_id: int, target: Status, **fields: Any) -> None:
        unknown_columns = set(fields) - COLUMNS
        if unknown_columns:
            raise ValueError(f"not journal columns: {sorted(unknown_columns)}")
        with self._writing() as conn:
            current = self._status_of(conn, attempt_id)
            if current not in MOVES[target]:
                raise StateError(f"{self.path}: attempt {attempt_id} is {current}; "
                                 f"it cannot become {target}")
            assignments = ", ".join(f"{column} = ?" for column in fields)
            conn.execute(
                f"UPDATE attempts SET status = ?, {assignments}, updated_at = ? "
                "WHERE attempt_id = ?",
                (target.value, *fields.values(), self._clock(), attempt_id))

    def _status_of(self, conn: sqlite3.Connection, attempt_id: int) -> Status:
        row = conn.execute("SELECT status FROM attempts WHERE attempt_id = ?",
                           (attempt_id,)).fetchone()
        if row is None:
            raise StateError(f"{self.path}: no attempt {attempt_id} in the journal")
        return status_text(self.path, row["status"])

    def _get(self, attempt_id: int) -> Attempt:
        attempt = self.get(attempt_id)
        if attempt is None:
            raise StateError(f"{self.path}: no attempt {attempt_id} in the journal")
        return attempt

    def _select(self, where: str, params: tuple[Any, ...]) -> list[Attempt]:
        try:
            with self._using:
                rows = self._conn.execute(f"SELECT * FROM attempts {where}", params).fetchall()
        except sqlite3.Error as exc:
            raise failure(self.path, exc) from exc
        return [attempt_from_row(self.path, row) for row in rows]


Journal = SqliteJournal  # the name it had before the PostgreSQL backend came

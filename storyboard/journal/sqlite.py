"""The journal: a crash-safe record of every create attempt, kept forever.

A paid job must never be lost and never be paid for twice, so each attempt is
written *before* its create is sent (``begin`` -> ``submitting``) and again the moment
its job id is known (``created`` -> ``pending``), each write committed durably
(SQLite WAL, ``synchronous=FULL``) before the call returns. A row still
``submitting`` after a crash may or may not have reached the API: it becomes
``unknown`` and is reported, never re-sent blindly.

Statuses and the only moves between them (anything else is a bug and raises)::

    submitting ──created──▶ pending ──done──▶ done ◀─┐ (re-download)
        │  │                   └──failed──▶ failed   │
        │  └──rejected──▶ rejected         done ─────┘
        └──unknown──▶ unknown ──created──▶ pending (its job id found later)

One ``storyboard run`` at a time owns a state folder: ``open(exclusive=True)`` takes
an ``flock`` on ``<state>/lock`` that the kernel drops when the process ends, however
it ends. Readers (``status``) open without the lock and cannot write.

A journal that was lost is never replaced silently. Beside it, ``journal.mark`` keeps
its high-water mark (the last attempt id written, updated after every ``begin``) and the
state folder's id; ``open(exclusive=True)`` refuses (``JournalLost``) a journal that is
missing, empty or older than the mark, or than what the state folder shows (``Traces``:
cached videos, job ids in published manifests), unless told ``accept_lost``.

Every attempt records where its job was made: ``origin`` is ``api`` or ``sandbox`` (a
sandbox says so on the wire, in every answer), and ``api_base`` the URL it was sent
to. A run reads only the attempts of its own origin, so a sandbox's placeholder is
never reused, counted or published as a real render, whatever folder it shares.
Journals of schema 1 (before origins were recorded) are migrated when a run opens
them: an attempt whose job id is one the sandbox made (they carry an HMAC) is a
sandbox attempt; every other one is taken as the API's, its base unknown.

Money is decimal TEXT, never REAL. The API key has no column and no parameter.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, fields
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import TracebackType
from typing import Any

from storyboard.errors import JournalCorrupt, JournalLost, StateError
from storyboard.journal.base import (
    ACCEPT_LOST_OPTION,
    API,
    INTERRUPTED,
    MOVES,
    ORIGINS,
    SANDBOX,
    Attempt,
    Status,
    Traces,
    charged_to,
    check_origin,
    check_within,
    money_text,
    spent_by,
)
from storyboard.journal.lock import LOCK_FILE, lock_folder
from storyboard.model import Spent, canonical_json
from storyboard.store import write_atomic

__all__ = [  # what callers imported from here before the interface moved to journal.base
    "ACCEPT_LOST_OPTION", "API", "JOURNAL_FILE", "LOCK_FILE", "MARK_FILE", "ORIGINS", "SANDBOX",
    "SCHEMA_VERSION", "Attempt", "Journal", "SqliteJournal", "Status", "Traces", "charged_to",
    "state_id_of",
]

SCHEMA_VERSION = 2  # 2: origin and api_base (1 is migrated on open)
JOURNAL_FILE = "journal.sqlite3"
MARK_FILE = "journal.mark"
BUSY_TIMEOUT_MS = 10_000


_SCHEMA = f"""
CREATE TABLE attempts (
    attempt_id    INTEGER PRIMARY KEY AUTOINCREMENT,
    hash          TEXT NOT NULL,
    generation_id TEXT NOT NULL,
    storyboard    TEXT NOT NULL,
    request_json  TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ({", ".join(repr(s.value) for s in Status)})),
    job_id        TEXT,
    estimated_usd TEXT,
    charged_usd   TEXT,
    refunded      INTEGER NOT NULL DEFAULT 0 CHECK (refunded IN (0, 1)),
    job_status    INTEGER,
    url           TEXT,
    file          TEXT,
    sha256        TEXT,
    error         TEXT,
    created_at    REAL NOT NULL,
    updated_at    REAL NOT NULL,
    origin        TEXT NOT NULL DEFAULT 'api' CHECK (origin IN ('api', 'sandbox')),
    api_base      TEXT
);
CREATE INDEX attempts_by_hash ON attempts (hash, attempt_id);
CREATE INDEX attempts_by_status ON attempts (status);
"""
_COLUMNS = frozenset(f.name for f in fields(Attempt)) - {"runner"}  # one writer: no runner
_V1_COLUMNS = _COLUMNS - {"origin", "api_base"}
_MIGRATE_V1 = f"""
ALTER TABLE attempts ADD COLUMN origin TEXT NOT NULL DEFAULT 'api'
    CHECK (origin IN ('api', 'sandbox'));
ALTER TABLE attempts ADD COLUMN api_base TEXT;
PRAGMA user_version = {SCHEMA_VERSION};
"""


@dataclass(frozen=True, slots=True)
class Mark:
    """``journal.mark``: the journal's high-water mark and the state folder's id."""

    state_id: str
    attempts: int  # the highest attempt id ever written to the journal


class SqliteJournal:
    """The state folder's journal; open with ``Journal.open`` and close (or ``with``).

    One writer at a time (the state folder's lock), so every claim is granted."""

    shared = False
    lease = 30.0  # (no claims to renew: one writer)
    imported = 0

    def __init__(self, conn: sqlite3.Connection, *, path: Path, state_dir: Path,
                 lock_fd: int | None, clock: Callable[[], float],
                 mark: Mark | None = None) -> None:
        self._conn = conn
        self._lock_fd = lock_fd
        self._clock = clock
        self._mark = mark
        self.path = path
        self.state_dir = state_dir

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
            if not path.exists():
                return cls(_empty_in_memory(), path=path, state_dir=state_dir, lock_fd=None,
                           clock=clock)
            conn = _connect(path, writable=False)
            try:
                if not _prepare(conn, path, writable=False):
                    conn.close()
                    conn = _empty_in_memory()
            except BaseException:
                conn.close()
                raise
            return cls(conn, path=path, state_dir=state_dir, lock_fd=None, clock=clock)

        try:
            state_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StateError(f"{state_dir}: cannot create the state folder: "
                             f"{exc.strerror or exc}") from None
        lock_fd = lock_folder(state_dir)
        try:
            mark = _read_mark(state_dir, accept_lost=accept_lost)
            existed = path.exists()

            def whole(conn: sqlite3.Connection | None, has_schema: bool) -> None:
                if not accept_lost:
                    _refuse_if_lost(conn, path, has_schema, existed, mark, traces())

            if not existed:
                whole(None, False)  # before connecting creates the file
            conn = _connect(path, writable=True)
            try:
                _prepare(conn, path, writable=True, check=whole)
                journal = cls(conn, path=path, state_dir=state_dir, lock_fd=lock_fd,
                              clock=clock, mark=mark)
                journal._write_mark(journal._high_water())
            except BaseException:
                conn.close()
                raise
        except BaseException:
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
        with contextlib.suppress(sqlite3.Error):
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
        try:
            self._write_mark(attempt_id)
        except StateError:
            # without its mark, a later loss of the journal could go unnoticed: not sent
            with contextlib.suppress(StateError):
                self.rejected(attempt_id, "not sent: the journal's mark could not be written")
            raise
        return attempt_id

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
        return spent_by((_attempt(self.path, row) for row in rows), origin)

    # ------------------------------------------------------------ claims (one writer)

    def claim(self, hash: str, origin: str) -> bool:
        return True

    def release(self, hash: str, origin: str) -> None:
        pass

    def renew(self) -> None:
        pass

    def free(self, hashes: Iterable[str], origin: str) -> set[str]:
        return set(hashes)

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
            raise _failure(self.path, exc) from exc

    def _write_mark(self, attempts: int) -> None:
        """Keep ``journal.mark`` at the journal's high-water mark (written durably)."""
        if self._mark is not None and self._mark.attempts == attempts:
            return
        mark = Mark(self._mark.state_id if self._mark else uuid.uuid4().hex, attempts)
        data = json.dumps({"state": mark.state_id, "attempts": mark.attempts}) + "\n"
        try:
            write_atomic(self.state_dir / MARK_FILE, data.encode("ascii"))
        except OSError as exc:
            raise StateError(f"{self.state_dir / MARK_FILE}: cannot write the journal's mark: "
                             f"{exc.strerror or exc}") from None
        self._mark = mark

    @contextlib.contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """One durable transaction; only the lock holder writes."""
        if self._lock_fd is None:
            raise StateError(f"{self.path}: the journal is open read-only "
                             "(only a locked `storyboard run` writes it)")
        conn = self._conn
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise _failure(self.path, exc) from exc

    def _move(self, attempt_id: int, target: Status, **fields: Any) -> None:
        unknown_columns = set(fields) - _COLUMNS
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
        return _status(self.path, row["status"])

    def _get(self, attempt_id: int) -> Attempt:
        attempt = self.get(attempt_id)
        if attempt is None:
            raise StateError(f"{self.path}: no attempt {attempt_id} in the journal")
        return attempt

    def _select(self, where: str, params: tuple[Any, ...]) -> list[Attempt]:
        try:
            rows = self._conn.execute(f"SELECT * FROM attempts {where}", params).fetchall()
        except sqlite3.Error as exc:
            raise _failure(self.path, exc) from exc
        return [_attempt(self.path, row) for row in rows]


# ------------------------------------------------------------------------------ helpers


def state_id_of(state_dir: Path) -> str | None:
    """The state folder's id from its ``journal.mark`` (None without a readable one)."""
    mark = _read_mark(state_dir, accept_lost=True)
    return mark.state_id if mark else None


def _read_mark(state_dir: Path, *, accept_lost: bool) -> Mark | None:
    path = state_dir / MARK_FILE
    try:
        with path.open("rb") as f:
            raw = json.loads(f.read(4096))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        raw = None
    attempts = raw.get("attempts") if isinstance(raw, dict) else None
    if not (isinstance(raw, dict) and isinstance(raw.get("state"), str)
            and isinstance(attempts, int) and not isinstance(attempts, bool)
            and attempts >= 0):
        if accept_lost:
            return None
        raise JournalCorrupt(f"{path}: the journal's mark is damaged; put back the one this "
                             f"folder had, or rerun with {ACCEPT_LOST_OPTION} to write a new one")
    return Mark(raw["state"], raw["attempts"])


def _refuse_if_lost(conn: sqlite3.Connection | None, path: Path, has_schema: bool,
                    existed: bool, mark: Mark | None, traces: Traces) -> None:
    """Raise ``JournalLost`` when the journal knows less than its mark or the state folder
    show it held; checked before anything is written to it."""
    high, known = 0, set()
    if conn is not None and has_schema:
        high = int(conn.execute("SELECT COALESCE(MAX(attempt_id), 0) FROM attempts")
                   .fetchone()[0])
        known = {row[0] for row in conn.execute(
            "SELECT DISTINCT job_id FROM attempts WHERE job_id IS NOT NULL")}
    seen = []
    if mark is not None and mark.attempts > high:
        ends = f"ends at attempt {high}" if high else "holds none"
        seen.append(f"{MARK_FILE} says attempt {mark.attempts} was written and the journal {ends}")
    if not has_schema and traces.cached:
        seen.append(f"the cache holds {traces.cached} video{'s' * (traces.cached != 1)}")
    if not has_schema and traces.published:
        seen.append(f"{traces.renders or 'the renders folder'} holds {traces.published} "
                    f"published video{'s' * (traces.published != 1)}")
    unknown = traces.job_ids - known
    if unknown:
        seen.append(f"{traces.manifest or 'the manifest'} lists {len(unknown)} job "
                    f"id{'s' * (len(unknown) != 1)} it does not know")
    if not seen:
        return
    state = ("empty" if existed else "missing") if not has_schema else \
        "older than its state folder"
    raise JournalLost(
        f"{path}: the journal is {state}: {'; '.join(seen)}. Going on would pay again for "
        f"jobs already paid. Put back the journal this folder had ({JOURNAL_FILE} together "
        f"with its {JOURNAL_FILE}-wal file, from where they were moved or backed up), or "
        f"rerun with {ACCEPT_LOST_OPTION} to go on with this one knowingly (jobs it does "
        "not list may be created and charged again)")


def _connect(path: Path, *, writable: bool) -> sqlite3.Connection:
    try:
        if writable:
            conn = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
        else:
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True,
                                   isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    except sqlite3.Error as exc:
        raise _failure(path, exc) from exc
    conn.row_factory = sqlite3.Row
    return conn


def _empty_in_memory() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.executescript(_SCHEMA)
    return conn


def _prepare(conn: sqlite3.Connection, path: Path, *, writable: bool,
             check: Callable[[sqlite3.Connection, bool], None] | None = None) -> bool:
    """Check the file is a sound journal of a version we read; create the schema in a
    new one (writable). Returns False for a reader of a file with no schema yet.

    ``check(conn, has_schema)`` runs after the integrity check and before anything is
    written (the WAL switch, the schema): it may refuse a journal that lost what it held.
    """
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        version = conn.execute("PRAGMA user_version").fetchone()[0]  # reads the header
        if version > SCHEMA_VERSION:
            raise JournalCorrupt(
                f"{path}: written by a newer storyboard (journal schema {version}; this one "
                f"reads up to {SCHEMA_VERSION}): upgrade storyboard, or move it aside (the "
                "jobs it lists may still be queryable)")
        report = [str(row[0]) for row in conn.execute("PRAGMA quick_check").fetchall()]
        if report != ["ok"]:
            lines = [line.strip() for text in report for line in text.splitlines()]
            found = [line for line in lines if line and not line.startswith("***")]
            more = f" and {len(found) - 2} more" if len(found) > 2 else ""
            raise _corrupt(path, f"integrity check failed: {'; '.join(found[:2])}{more}")
        if version == 0 and conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
            # a run may have created the schema between the two reads (one
            # transaction sets both, so a second look at the version settles it)
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version != SCHEMA_VERSION:
                raise _corrupt(path, "it is an SQLite database but not a storyboard journal")
        has_schema = version != 0
        if has_schema:
            columns = {row[1] for row in conn.execute("PRAGMA table_info(attempts)").fetchall()}
            missing = (_V1_COLUMNS if version == 1 else _COLUMNS) - columns
            if missing:
                raise _corrupt(path, f"its attempts table is missing columns {sorted(missing)}")
        if check is not None:
            check(conn, has_schema)
        if writable:
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise StateError(f"{path}: cannot switch the journal to WAL mode (got {mode})")
            conn.execute("PRAGMA synchronous = FULL")
        if not has_schema:
            if not writable:
                return False
            # One script, one transaction: a crash leaves either no schema or all of it.
            conn.executescript(f"BEGIN IMMEDIATE;\n{_SCHEMA}\n"
                               f"PRAGMA user_version = {SCHEMA_VERSION};\nCOMMIT;")
        elif version == 1 and writable:
            _migrate_v1(conn)
        return True
    except sqlite3.Error as exc:
        raise _failure(path, exc) from exc


def _migrate_v1(conn: sqlite3.Connection) -> None:
    """Schema 1 → 2 in one transaction: add where each job was made (see the module doc)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        for statement in _MIGRATE_V1.split(";"):
            if statement.strip():
                conn.execute(statement)
        sandbox = [(row[0],) for row in conn.execute(
            "SELECT attempt_id, job_id FROM attempts WHERE job_id IS NOT NULL")
            if _legacy_origin(row[1]) == SANDBOX]
        conn.executemany("UPDATE attempts SET origin = 'sandbox' WHERE attempt_id = ?", sandbox)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _legacy_origin(job_id: str | None) -> str:
    """Where a job journaled before origins were recorded was made, as far as its id says."""
    from storyboard.api.sandbox.jobids import read_job_id  # only old journals need it

    return SANDBOX if job_id and read_job_id(job_id) is not None else API


def _failure(path: Path, exc: sqlite3.Error) -> StateError:
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    if primary in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
        return _corrupt(path, str(exc))
    return StateError(f"{path}: cannot use the journal: {exc}")


def _corrupt(path: Path, why: str) -> JournalCorrupt:
    return JournalCorrupt(f"{path}: the journal is damaged ({why}); move it aside (do not "
                          "delete it: the jobs it lists may still be queryable) and run again")


def _decimal(path: Path, text: Any) -> Decimal | None:
    if text is None:
        return None
    try:
        value = Decimal(str(text))
    except InvalidOperation:
        raise _corrupt(path, f"an amount reads {text!r}") from None
    return value


def _status(path: Path, text: Any) -> Status:
    try:
        return Status(text)
    except ValueError:
        raise _corrupt(path, f"an attempt has status {text!r}") from None


def _attempt(path: Path, row: sqlite3.Row) -> Attempt:
    columns = set(row.keys())  # (``in row`` would look among the values)
    return Attempt(
        attempt_id=row["attempt_id"],
        hash=row["hash"],
        generation_id=row["generation_id"],
        storyboard=row["storyboard"],
        request_json=row["request_json"],
        status=_status(path, row["status"]),
        job_id=row["job_id"],
        estimated_usd=_decimal(path, row["estimated_usd"]),
        charged_usd=_decimal(path, row["charged_usd"]),
        refunded=bool(row["refunded"]),
        url=row["url"],
        file=row["file"],
        sha256=row["sha256"],
        error=row["error"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        job_status=row["job_status"],
        # a schema-1 journal read without migrating it (a reader never writes)
        origin=row["origin"] if "origin" in columns else _legacy_origin(row["job_id"]),
        api_base=row["api_base"] if "api_base" in columns else None,
    )


Journal = SqliteJournal  # the name it had before the PostgreSQL backend came

"""The SQLite journal's file: its schema (and the migration from schema 1), opening it
safely (version, integrity, WAL, a crash leaving all of a schema or none), and its rows
read back as attempts. ``sqlite`` is the journal built on it."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import fields
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from storyboard.errors import JournalCorrupt, StateError
from storyboard.journal.base import API, SANDBOX, Attempt, Status

SCHEMA_VERSION = 2  # 2: origin and api_base (1 is migrated on open)
JOURNAL_FILE = "journal.sqlite3"
BUSY_TIMEOUT_MS = 10_000
SCHEMA = f"""
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
COLUMNS = frozenset(f.name for f in fields(Attempt)) - {"runner"}  # one writer: no runner
V1_COLUMNS = COLUMNS - {"origin", "api_base"}
MIGRATE_V1 = f"""
ALTER TABLE attempts ADD COLUMN origin TEXT NOT NULL DEFAULT 'api'
    CHECK (origin IN ('api', 'sandbox'));
ALTER TABLE attempts ADD COLUMN api_base TEXT;
PRAGMA user_version = {SCHEMA_VERSION};
"""




def connect(path: Path, *, writable: bool) -> sqlite3.Connection:
    """A connection any thread may use (a run's journal calls are made in a thread of
    their own); the journal lets one call at a time use it."""
    try:
        if writable:
            conn = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000,
                                   check_same_thread=False)
        else:
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True,
                                   isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000,
                                   check_same_thread=False)
    except sqlite3.Error as exc:
        raise failure(path, exc) from exc
    conn.row_factory = sqlite3.Row
    return conn


def empty_in_memory() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.executescript(SCHEMA)
    return conn


def prepare(conn: sqlite3.Connection, path: Path, *, writable: bool,
             check: Callable[[sqlite3.Connection, bool], None] | None = None) -> bool:
    """Check the file is a sound journal of a version we read; create the schema in a
    new one (writable). Returns False for a reader of a file with no schema yet.

    ``check(conn, has_schema)`` runs after the integrity check and before anything is
    written (the WAL switch, the schema): it may refuse a journal that lost what it held.
    """
    try:
        version = _sound_version(conn, path)
        has_schema = version != 0
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
            conn.executescript(f"BEGIN IMMEDIATE;\n{SCHEMA}\n"
                               f"PRAGMA user_version = {SCHEMA_VERSION};\nCOMMIT;")
        elif version == 1 and writable:
            _migrate_v1(conn)
        return True
    except sqlite3.Error as exc:
        raise failure(path, exc) from exc


def _sound_version(conn: sqlite3.Connection, path: Path) -> int:
    """The journal's schema version (0: none yet), once the file is found sound: a version
    we read, an intact file, a storyboard journal with every column it needs."""
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    version: int = conn.execute("PRAGMA user_version").fetchone()[0]  # reads the header
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
        raise corrupt(path, f"integrity check failed: {'; '.join(found[:2])}{more}")
    if version == 0 and conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
        # a run may have created the schema between the two reads (one
        # transaction sets both, so a second look at the version settles it)
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version != SCHEMA_VERSION:
            raise corrupt(path, "it is an SQLite database but not a storyboard journal")
    if version:
        columns = {row[1] for row in conn.execute("PRAGMA table_info(attempts)").fetchall()}
        missing = (V1_COLUMNS if version == 1 else COLUMNS) - columns
        if missing:
            raise corrupt(path, f"its attempts table is missing columns {sorted(missing)}")
    return version


def _migrate_v1(conn: sqlite3.Connection) -> None:
    """Schema 1 → 2 in one transaction: add where each job was made (see the module doc)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        for statement in MIGRATE_V1.split(";"):
            if statement.strip():
                conn.execute(statement)
        sandbox = [(row[0],) for row in conn.execute(
            "SELECT attempt_id, job_id FROM attempts WHERE job_id IS NOT NULL")
            if legacy_origin(row[1]) == SANDBOX]
        conn.executemany("UPDATE attempts SET origin = 'sandbox' WHERE attempt_id = ?", sandbox)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def legacy_origin(job_id: str | None) -> str:
    """Where a job journaled before origins were recorded was made, as far as its id says."""
    from storyboard.api.sandbox.jobids import read_job_id  # only old journals need it

    return SANDBOX if job_id and read_job_id(job_id) is not None else API


def failure(path: Path, exc: sqlite3.Error) -> StateError:
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    if primary in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
        return corrupt(path, str(exc))
    return StateError(f"{path}: cannot use the journal: {exc}")


def corrupt(path: Path, why: str) -> JournalCorrupt:
    return JournalCorrupt(f"{path}: the journal is damaged ({why}); move it aside (do not "
                          "delete it: the jobs it lists may still be queryable) and run again")


def _decimal(path: Path, text: Any) -> Decimal | None:
    if text is None:
        return None
    try:
        value = Decimal(str(text))
    except InvalidOperation:
        raise corrupt(path, f"an amount reads {text!r}") from None
    return value


def status_text(path: Path, text: Any) -> Status:
    try:
        return Status(text)
    except ValueError:
        raise corrupt(path, f"an attempt has status {text!r}") from None


def attempt_from_row(path: Path, row: sqlite3.Row) -> Attempt:
    columns = set(row.keys())  # (``in row`` would look among the values)
    return Attempt(
        attempt_id=row["attempt_id"],
        hash=row["hash"],
        generation_id=row["generation_id"],
        storyboard=row["storyboard"],
        request_json=row["request_json"],
        status=status_text(path, row["status"]),
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
        origin=row["origin"] if "origin" in columns else legacy_origin(row["job_id"]),
        api_base=row["api_base"] if "api_base" in columns else None,
    )

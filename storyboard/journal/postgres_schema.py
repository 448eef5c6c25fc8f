"""The shared journal's tables: their definition in the ``storyboard`` schema, their
creation by whichever runner comes first, the version check, and rows read back as
attempts. ``postgres`` is the journal built on them."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import fields
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg

from storyboard.errors import JournalCorrupt
from storyboard.journal.base import INTERRUPTED, Attempt, Status
from storyboard.model import Spent

Connection = psycopg.Connection[dict[str, Any]]
SCHEMA_VERSION = 1  # of the tables in the ``storyboard`` schema
STATUSES = ", ".join(f"'{s.value}'" for s in Status)
DDL = f"""
CREATE SCHEMA IF NOT EXISTS storyboard;
CREATE TABLE storyboard.meta (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE storyboard.attempts (
    attempt_id    bigserial PRIMARY KEY,
    token         text UNIQUE,
    hash          text NOT NULL,
    generation_id text NOT NULL,
    storyboard    text NOT NULL,
    request_json  text NOT NULL,
    status        text NOT NULL CHECK (status IN ({STATUSES})),
    job_id        text,
    estimated_usd numeric,
    charged_usd   numeric,
    refunded      boolean NOT NULL DEFAULT false,
    job_status    integer,
    url           text,
    file          text,
    sha256        text,
    error         text,
    created_at    double precision NOT NULL,
    updated_at    double precision NOT NULL,
    origin        text NOT NULL CHECK (origin IN ('api', 'sandbox')),
    api_base      text,
    runner        text
);
CREATE INDEX attempts_by_hash ON storyboard.attempts (hash, attempt_id);
CREATE INDEX attempts_by_storyboard ON storyboard.attempts (storyboard);
CREATE INDEX attempts_by_status ON storyboard.attempts (status);
CREATE TABLE storyboard.claims (
    origin     text NOT NULL,
    hash       text NOT NULL,
    runner     text NOT NULL,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (origin, hash)
);
CREATE INDEX claims_by_runner ON storyboard.claims (runner);
"""
SCHEMA_LOCK = 0x5354_4F52_5942_4F41  # advisory lock id ("STORYBOA") while creating tables
COLUMNS = frozenset(f.name for f in fields(Attempt))


def redact_url(url: str) -> str:
    """The URL as messages show it: no password, no query (it may hold one)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return f"{url.split('://', 1)[0]}://…"
    user = f"{parts.username}@" if parts.username else ""
    if ":" in host:
        host = f"[{host}]"
    return urlunsplit((parts.scheme, f"{user}{host}{port}", parts.path, "", ""))


def prepare(conn: Connection, *, writer: bool, where: str) -> str:
    """Create the tables in a new database (once, whoever comes first); check the
    version of an existing one. Returns the database's state id."""
    if not has_schema(conn):
        if not writer:
            return ""
        # whoever comes first creates the tables; the others wait, then see them (a
        # session lock, so that the next transaction's catalog snapshot is fresh)
        conn.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK,))
        try:
            with conn.transaction():
                if not has_schema(conn):
                    conn.execute(DDL)
                    conn.execute("INSERT INTO storyboard.meta VALUES ('schema', %s), "
                                 "('state_id', %s)", (str(SCHEMA_VERSION),
                                                      uuid.uuid4().hex))
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK,))
    meta = {r["key"]: r["value"] for r in conn.execute(
        "SELECT key, value FROM storyboard.meta").fetchall()}
    version = int(meta.get("schema", "0") or 0)
    if version > SCHEMA_VERSION:
        raise JournalCorrupt(
            f"{where}: written by a newer storyboard (journal schema {version}; this "
            f"one reads up to {SCHEMA_VERSION}): upgrade storyboard on this runner")
    if version < 1 or "state_id" not in meta:
        raise JournalCorrupt(f"{where}: the schema 'storyboard' is there but is not a "
                             "storyboard journal; use another database")
    columns = {r["column_name"] for r in conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = "
        "'storyboard' AND table_name = 'attempts'").fetchall()}
    missing = (COLUMNS | {"token"}) - columns
    if missing:
        raise JournalCorrupt(f"{where}: its attempts table is missing columns "
                             f"{sorted(missing)}; use another database")
    return str(meta["state_id"])


def has_schema(conn: Connection) -> bool:
    row = conn.execute("SELECT to_regclass('storyboard.meta') IS NOT NULL AS t").fetchone()
    return bool(row and row["t"])


def status_text(where: str, text: Any) -> Status:
    try:
        return Status(text)
    except ValueError:
        raise JournalCorrupt(f"{where}: an attempt has status {text!r}") from None


INSERT_IMPORTED = (
    "INSERT INTO storyboard.attempts (token, hash, generation_id, storyboard, request_json, "
    "status, job_id, estimated_usd, charged_usd, refunded, job_status, url, file, sha256, "
    "error, created_at, updated_at, origin, api_base, runner) VALUES (%s, %s, %s, %s, %s, "
    "%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
    "ON CONFLICT (token) DO NOTHING")


def import_rows(attempts: Iterable[Attempt], source: str) -> list[tuple[Any, ...]]:
    """Another journal's attempts as ``INSERT_IMPORTED`` rows: each keyed by a token naming
    ``source`` and its id there (so copied once); a create still being sent there becomes
    one of unknown outcome."""
    return [(f"import:{source}:{a.attempt_id}", a.hash, a.generation_id, a.storyboard,
             a.request_json,
             (Status.UNKNOWN if a.status is Status.SUBMITTING else a.status).value,
             a.job_id, a.estimated_usd, a.charged_usd, a.refunded, a.job_status, a.url,
             a.file, a.sha256, INTERRUPTED if a.status is Status.SUBMITTING else a.error,
             a.created_at, a.updated_at, a.origin, a.api_base, a.runner or f"import:{source}")
            for a in attempts]


CHARGE = """COALESCE(SUM(CASE WHEN job_id IS NULL OR refunded OR status = 'rejected' THEN 0
                          ELSE COALESCE(charged_usd, estimated_usd, 0) END), 0) AS charged,
             COALESCE(SUM(CASE WHEN job_id IS NULL AND status IN ('unknown', 'submitting')
                          THEN COALESCE(estimated_usd, 0) ELSE 0 END), 0) AS unknown"""


def spent_in(conn: Connection, storyboard: str, origin: str) -> Spent:
    """What ``storyboard`` has spent by ``origin``, as every runner journaled it (see
    ``Attempt.charge`` and ``possible_charge``: the same rules, in SQL)."""
    row = conn.execute(f"SELECT {CHARGE} FROM storyboard.attempts WHERE storyboard = %s "
                       "AND origin = %s", (storyboard, origin)).fetchone()
    assert row is not None
    return Spent(Decimal(row["charged"]), Decimal(row["unknown"]))


def insert_imported(conn: Connection, attempts: list[Attempt], source: str) -> int:
    """Insert those of ``attempts`` (from ``source``) not copied before; return how many
    rows are new. ``meta`` keeps the highest attempt id copied from each source, so a
    source copied up to its last attempt costs one lookup, not an insert each."""
    key = f"imported:{source}"
    row = conn.execute("SELECT value FROM storyboard.meta WHERE key = %s FOR UPDATE",
                       (key,)).fetchone()
    done = int(row["value"]) if row else 0
    rows = import_rows((a for a in attempts if a.attempt_id > done), source)
    added = sum(conn.execute(INSERT_IMPORTED, r).rowcount for r in rows)
    if rows:
        conn.execute("INSERT INTO storyboard.meta VALUES (%s, %s) ON CONFLICT (key) DO UPDATE "
                     "SET value = EXCLUDED.value", (key, str(max(a.attempt_id for a in attempts))))
    return added


def attempt_from_row(where: str, row: Any) -> Attempt:
    values = {name: row[name] for name in COLUMNS}
    values["status"] = status_text(where, row["status"])
    values["attempt_id"] = int(row["attempt_id"])
    return Attempt(**values)

"""Runners that open a new shared database at the same moment create its tables once.

Found by bench/shared_bench.py: of 3 runners started together on a fresh database, 2
stopped at once with `relation "meta" already exists`. The one that waited for the
schema lock re-checked with ``to_regclass``, which can answer from the backend's stale
catalog cache and miss the tables the lock holder had just committed.
"""

from __future__ import annotations

import threading
import time

import psycopg
from pgserver import PgCluster

from storyboard.journal.postgres import PostgresJournal
from storyboard.journal.postgres_schema import DDL, SCHEMA_LOCK, SCHEMA_VERSION


def _waiting_for_advisory_lock(pg_cluster: PgCluster, dbname: str) -> bool:
    with pg_cluster.connect() as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND NOT l.granted AND a.datname = %s",
            (dbname,)).fetchone()
    return row is not None and row[0] > 0


def test_a_runner_waiting_on_the_schema_lock_uses_the_tables_the_holder_made(
        pg_cluster: PgCluster, pg_url: str) -> None:
    dbname = psycopg.conninfo.conninfo_to_dict(pg_url)["dbname"]
    assert isinstance(dbname, str)
    outcome: list[str] = []

    def second_runner() -> None:
        try:
            PostgresJournal.open(pg_url).close()
            outcome.append("opened")
        except Exception as exc:
            outcome.append(str(exc))

    with psycopg.connect(pg_url) as first:  # the first runner, creating the tables
        first.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
        second = threading.Thread(target=second_runner)
        second.start()
        deadline = time.monotonic() + 60
        while not _waiting_for_advisory_lock(pg_cluster, dbname):  # it saw no tables
            assert time.monotonic() < deadline, "the second runner never waited for the lock"
            time.sleep(0.01)
        first.execute(DDL)
        first.execute("INSERT INTO storyboard.meta VALUES ('schema', %s), ('state_id', 'x')",
                      (str(SCHEMA_VERSION),))
    second.join(60)
    assert outcome == ["opened"]

"""The throwaway PostgreSQL cluster the shared-journal tests stand on (tests/pgserver.py).

What the journal's tests rely on, checked on the real server: a fresh database per test,
a dropped connection that the client really sees, a server that goes away and comes
back with its data, a server that never runs as root, and no server left behind.
"""

from __future__ import annotations

import os
import pwd
import subprocess
from pathlib import Path

import pgserver
import psycopg
import pytest
from pgserver import DEFAULT_USER, USER_ENV, PgCluster, PgUnavailable, reap_orphans


def _dbname(url: str) -> str:
    return psycopg.conninfo.conninfo_to_dict(url)["dbname"]  # type: ignore[return-value]


def _gone(pid: int) -> bool:
    """The process exited (a zombie counts: it runs nothing)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rpartition(")")[2].split()[0] == "Z"


def _fresh_cluster() -> PgCluster:
    try:
        return PgCluster()
    except PgUnavailable as exc:
        pytest.skip(str(exc))


def test_a_fresh_database_takes_a_table(pg_url: str) -> None:
    assert pg_url.startswith("postgresql://storyboard@127.0.0.1:")
    with psycopg.connect(pg_url) as conn:
        tables = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        assert tables.fetchone() == (0,)
        conn.execute("CREATE TABLE claims (key text PRIMARY KEY, runner int NOT NULL)")
        conn.execute("INSERT INTO claims VALUES ('a', 1), ('b', 2)")
    with psycopg.connect(pg_url) as conn:
        rows = conn.execute("SELECT key, runner FROM claims ORDER BY key").fetchall()
    assert rows == [("a", 1), ("b", 2)]


def test_terminate_connections_drops_a_live_connection(pg_cluster: PgCluster,
                                                       pg_url: str) -> None:
    conn = psycopg.connect(pg_url, autocommit=True)
    try:
        assert conn.execute("SELECT 1").fetchone() == (1,)
        assert pg_cluster.terminate_connections(_dbname(pg_url)) == 1
        with pytest.raises(psycopg.OperationalError):
            conn.execute("SELECT 1")
    finally:
        conn.close()
    # the server itself is fine: the next connection works
    with psycopg.connect(pg_url) as again:
        assert again.execute("SELECT 2").fetchone() == (2,)


def test_an_immediate_stop_then_start_keeps_the_data(pg_cluster: PgCluster,
                                                     pg_url: str) -> None:
    with psycopg.connect(pg_url) as conn:
        conn.execute("CREATE TABLE spend (cents int NOT NULL)")
        conn.execute("INSERT INTO spend VALUES (84), (168)")
    port, pid = pg_cluster.port, pg_cluster.pid
    assert pid is not None
    pg_cluster.stop("immediate")  # like a crash: no shutdown checkpoint
    assert not pg_cluster.running
    assert _gone(pid)
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(pg_url, connect_timeout=5).close()
    pg_cluster.start()
    assert pg_cluster.port == port  # the same URL works again
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT sum(cents) FROM spend").fetchone() == (252,)


def test_the_server_never_runs_as_root(pg_url: str) -> None:
    if os.geteuid() == 0:
        expected = pwd.getpwnam(os.environ.get(USER_ENV) or DEFAULT_USER).pw_uid
        assert expected != 0
    else:
        expected = os.geteuid()
    with psycopg.connect(pg_url) as conn:
        row = conn.execute(
            "SELECT pg_backend_pid(), current_setting('data_directory')").fetchone()
        assert row is not None
        backend, data_directory = row
        # while connected: a closed connection's backend exits, and its /proc entry with it
        assert os.stat(f"/proc/{backend}").st_uid == expected
    assert os.stat(data_directory).st_uid == expected


def test_leaving_the_block_on_ctrl_c_stops_the_server_and_removes_it() -> None:
    cluster = _fresh_cluster()
    with pytest.raises(KeyboardInterrupt), cluster:
        pid, base, url = cluster.pid, cluster.base, cluster.url()
        raise KeyboardInterrupt
    assert pid is not None and base is not None
    assert _gone(pid)
    assert not base.exists()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(url, connect_timeout=5).close()


def test_a_cluster_whose_session_was_killed_is_reaped_by_the_next() -> None:
    cluster = _fresh_cluster()
    cluster.start()
    try:
        pid, base = cluster.pid, cluster.base
        assert pid is not None and base is not None
        dead = subprocess.Popen(["true"])
        dead.wait()
        (base / "owner.pid").write_text(f"{dead.pid}\n")  # as if SIGKILLed
        assert base in reap_orphans()
        assert _gone(pid)
        assert not base.exists()
    finally:
        cluster.close()


def test_no_server_binaries_is_a_clear_reason_to_skip(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pgserver, "find_bindir", lambda: None)
    with pytest.raises(PgUnavailable, match=r"^no PostgreSQL server binaries .* "
                       r"install them with `apt-get install postgresql` \(.ci/run does"):
        PgCluster()


def test_as_root_a_missing_server_user_says_how_to_create_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(USER_ENV, "no-such-user-sb")
    with pytest.raises(PgUnavailable) as refused:
        PgCluster._server_user(None, euid=0)
    assert str(refused.value) == (
        "running as root, and PostgreSQL refuses to: the tests run their server as user "
        "'no-such-user-sb', which does not exist; create it (`useradd --system "
        "no-such-user-sb`, as .ci/run does) or name another with STORYBOARD_TEST_PG_USER")
    assert PgCluster._server_user(None, euid=1000) is None  # not root: run as ourselves

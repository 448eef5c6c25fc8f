"""A throwaway PostgreSQL cluster for the tests and the benchmarks, on a real server.

The shared journal (``--state postgresql://...``) is tested against the server the
machine has (``initdb``/``pg_ctl`` of PostgreSQL 15 on Debian; ``.ci/run`` installs it on
a fresh CI machine), never a mock: locking, leases and dropped connections are what
the server does, not what a fake thinks it does. ::

    with PgCluster() as pg:                  # initdb + pg_ctl start: about 1-2 s
        url = pg.create_database("t1")       # postgresql://storyboard@127.0.0.1:PORT/t1
        pg.terminate_connections("t1")       # every backend on t1 dropped, as a network would
        pg.stop("immediate"); pg.start()     # the server goes away and comes back, data kept
    # stopped and removed, even on a failure or Ctrl-C

The server refuses to run as root, and CI runs as root: then ``initdb`` and ``pg_ctl``
run through ``runuser -u USER --`` as an unprivileged user (``STORYBOARD_TEST_PG_USER``,
default ``postgres``, which Debian's package creates), in a folder under ``/tmp`` that
user owns. The cluster trusts local connections (``-A trust``), listens on 127.0.0.1 on a
free port and on a unix socket in its folder, and trades durability for speed (no
fsync): it lives as long as one test session.

A session killed outright (SIGKILL, a CI timeout) cannot stop its server; the next
cluster started on the machine stops and removes those whose owning process is gone
(``reap_orphans``), so abandoned servers never pile up.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import psycopg
from psycopg import sql

SUPERUSER = "storyboard"
USER_ENV = "STORYBOARD_TEST_PG_USER"
DEFAULT_USER = "postgres"
PREFIX = "storyboard-pg-"
OWNER_FILE = "owner.pid"  # the pid of the process that started the cluster
START_TIMEOUT = 60  # seconds pg_ctl waits for the server to accept connections

# A test server: nothing here has to survive a crash of the machine (no fsync, no full
# page writes), but a committed transaction survives a crash of the server, as in
# production: synchronous_commit stays on, so `stop("immediate")` + `start()` never loses
# the last commits (nondeterminism a test could not tell from a bug). With fsync off, that
# costs a write() into the page cache per commit, not a disk flush.
SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "max_connections": "200",  # 8 runners with a few connections each, plus the tests'
    "fsync": "off",
    "synchronous_commit": "on",
    "full_page_writes": "off",
    "log_line_prefix": "'%m [%p] %d '",
}


class PgUnavailable(Exception):
    """This machine lacks what a cluster needs (the server binaries, an unprivileged user)."""


class PgClusterError(Exception):
    """The server did not start or stop; the message ends with its log's last lines."""


def find_bindir() -> Path | None:
    """Where ``initdb``, ``pg_ctl`` and ``postgres`` are: ``pg_config --bindir``, else the
    highest ``/usr/lib/postgresql/*/bin`` (Debian's layout, which keeps them off PATH)."""
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True,
                                 check=True, timeout=30).stdout.strip()
            if out and _has_server(Path(out)):
                return Path(out)
    versions = []
    for candidate in Path("/usr/lib/postgresql").glob("*/bin"):
        number = re.fullmatch(r"\d+(?:\.\d+)?", candidate.parent.name)
        if number and _has_server(candidate):
            versions.append((float(candidate.parent.name), candidate))
    return max(versions)[1] if versions else None


def _has_server(bindir: Path) -> bool:
    return all(os.access(bindir / name, os.X_OK) for name in ("initdb", "pg_ctl", "postgres"))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (exited, not yet reaped by its parent) is gone for our purposes
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[:1] != ["Z"]


def _temp_root() -> Path:
    # Under /tmp, not $TMPDIR: when we are root the server's user must reach the folder
    # (root's TMPDIR may be private), and a unix socket's path must stay under ~100 bytes.
    return Path("/tmp") if Path("/tmp").is_dir() else Path(tempfile.gettempdir())


class PgCluster:
    """One throwaway PostgreSQL cluster: ``start()`` creates it the first time, and starts
    the same data on the same port after a ``stop()``; ``close()`` (or leaving the ``with``
    block) stops it and removes its folder."""

    def __init__(self, *, bindir: Path | None = None, user: str | None = None) -> None:
        found = bindir or find_bindir()
        if found is None:
            raise PgUnavailable(
                "no PostgreSQL server binaries (initdb, pg_ctl, postgres) found through "
                "pg_config --bindir or in /usr/lib/postgresql/*/bin; install them with "
                "`apt-get install postgresql` (.ci/run does this on CI)")
        self.bindir = found
        self.user = self._server_user(user)
        self.base: Path | None = None
        self.port = 0
        self._started_once = False

    @staticmethod
    def _server_user(user: str | None, euid: int | None = None) -> str | None:
        """The user the server runs as when we are root (None: run as ourselves)."""
        if (os.geteuid() if euid is None else euid) != 0:
            return None
        name = user or os.environ.get(USER_ENV) or DEFAULT_USER
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            raise PgUnavailable(
                f"running as root, and PostgreSQL refuses to: the tests run their server as "
                f"user {name!r}, which does not exist; create it (`useradd --system {name}`, "
                f"as .ci/run does) or name another with {USER_ENV}") from None
        if entry.pw_uid == 0:
            raise PgUnavailable(f"{USER_ENV}={name} is root; name an unprivileged user")
        if shutil.which("runuser") is None:
            raise PgUnavailable("running as root without `runuser` (util-linux) to drop to "
                                f"user {name!r} for the PostgreSQL server")
        return name

    # ------------------------------------------------------------------ paths, urls

    @property
    def data(self) -> Path:
        return self._base / "data"

    @property
    def log(self) -> Path:
        return self._base / "server.log"

    @property
    def _base(self) -> Path:
        if self.base is None:
            raise PgClusterError("the cluster was never started (call start())")
        return self.base

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{dbname}"

    @property
    def pid(self) -> int | None:
        """The postmaster's pid while the server runs (from ``postmaster.pid``)."""
        if self.base is None:
            return None
        try:
            first = (self.data / "postmaster.pid").read_text().split("\n", 1)[0]
        except OSError:
            return None
        pid = int(first) if first.strip().isdigit() else None
        return pid if pid is not None and _alive(pid) else None

    @property
    def running(self) -> bool:
        return self.pid is not None

    # ------------------------------------------------------------------ life cycle

    def __enter__(self) -> PgCluster:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def start(self) -> None:
        """Create the cluster the first time; start it (again) on the same port and data."""
        if self.running:
            return
        if not self._started_once:
            reap_orphans()
            self._create()
            # a free port may be taken between the probe and the bind: try another
            for attempt in range(3):
                self.port = _free_port()
                try:
                    self._pg_ctl_start()
                    break
                except PgClusterError:
                    if attempt == 2 or "could not bind" not in self._log_tail():
                        raise
            self._started_once = True
            atexit.register(self.close)
        else:
            self._pg_ctl_start()

    def stop(self, mode: str = "fast") -> None:
        """``fast`` disconnects clients and shuts down cleanly; ``immediate`` quits at once
        like a crash (the next start recovers from the WAL)."""
        if mode not in ("smart", "fast", "immediate"):
            raise ValueError(f"stop mode {mode!r}: use 'fast' or 'immediate'")
        if not self.running:
            return
        self._run([self._bin("pg_ctl"), "stop", "-D", str(self.data), "-m", mode, "-w",
                   "-t", str(START_TIMEOUT)], what=f"pg_ctl stop -m {mode}")

    def close(self) -> None:
        """Stop the server (immediately: the data is thrown away) and remove the folder."""
        atexit.unregister(self.close)
        if self.base is None:
            return
        try:
            if self.running:
                self.stop("immediate")
        finally:
            shutil.rmtree(self.base, ignore_errors=True)
            self.base = None

    def _create(self) -> None:
        base = Path(tempfile.mkdtemp(prefix=PREFIX, dir=_temp_root()))
        self.base = base
        (base / OWNER_FILE).write_text(f"{os.getpid()}\n")
        if self.user is not None:
            entry = pwd.getpwnam(self.user)
            os.chown(base, entry.pw_uid, entry.pw_gid)
        self._run([self._bin("initdb"), "-D", str(self.data), "-A", "trust", "-U", SUPERUSER,
                   "-E", "UTF8", "--no-locale", "--no-sync", "--no-instructions"],
                  what="initdb")
        lines = [f"{name} = {value}" for name, value in SETTINGS.items()]
        lines.append(f"unix_socket_directories = '{base}'")
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write("\n# storyboard tests (tests/pgserver.py)\n" + "\n".join(lines) + "\n")

    def _pg_ctl_start(self) -> None:
        # a session of its own: Ctrl-C in the terminal reaches pytest, which stops the
        # server in order, instead of reaching the server in the middle of a test
        self._run([self._bin("pg_ctl"), "start", "-D", str(self.data), "-l", str(self.log),
                   "-o", f"-p {self.port}", "-w", "-t", str(START_TIMEOUT)],
                  what="pg_ctl start", new_session=True)

    # ------------------------------------------------------------------ admin SQL

    @contextlib.contextmanager
    def connect(self, dbname: str = "postgres") -> Iterator[psycopg.Connection[tuple[Any, ...]]]:
        with psycopg.connect(self.url(dbname), autocommit=True, connect_timeout=10) as conn:
            yield conn

    def create_database(self, name: str) -> str:
        """Create an empty database; returns its URL."""
        with self.connect() as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    def drop_database(self, name: str) -> None:
        with self.connect() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
                         .format(sql.Identifier(name)))

    def terminate_connections(self, dbname: str) -> int:
        """Terminate every other backend connected to ``dbname``, as a dropped network
        connection would; returns how many. Waits until they are gone, so the client's
        next statement on such a connection fails (``psycopg.OperationalError``)."""
        with self.connect() as conn:
            rows = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (dbname,)).fetchall()
            pids = [int(row[0]) for row in rows]
            for pid in pids:
                conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
            deadline = time.monotonic() + START_TIMEOUT
            while pids and time.monotonic() < deadline:
                left = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)",
                                    (pids,)).fetchone()
                if left is None or left[0] == 0:
                    break
                time.sleep(0.01)  # a condition polled, not a race: bounded by the deadline
        return len(pids)

    # ------------------------------------------------------------------ running commands

    def _bin(self, name: str) -> str:
        return str(self.bindir / name)

    def _run(self, args: Sequence[str], *, what: str, new_session: bool = False) -> None:
        command = list(args)
        if self.user is not None:
            command = ["runuser", "-u", self.user, "--", *command]
        try:
            done = subprocess.run(command, cwd=self._base, capture_output=True, text=True,
                                  timeout=START_TIMEOUT * 2, start_new_session=new_session)
        except subprocess.TimeoutExpired as exc:
            raise PgClusterError(f"{what} did not finish in {exc.timeout:.0f} s"
                                 f"{self._log_tail()}") from None
        if done.returncode != 0:
            output = (done.stdout + done.stderr).strip()
            raise PgClusterError(f"{what} failed (exit {done.returncode}): {output}"
                                 f"{self._log_tail()}")

    def _log_tail(self, lines: int = 15) -> str:
        try:
            tail = self.log.read_text(errors="replace").splitlines()[-lines:]
        except (OSError, PgClusterError):
            return ""
        return "\n--- server log (" + str(self.log) + ") ---\n" + "\n".join(tail)


def reap_orphans(root: Path | None = None) -> list[Path]:
    """Stop and remove the clusters left behind by processes that are gone (a session
    killed with SIGKILL never ran its cleanup); returns their folders."""
    reaped = []
    for base in sorted((root or _temp_root()).glob(PREFIX + "*")):
        try:
            owner = int((base / OWNER_FILE).read_text().strip())
        except (OSError, ValueError):
            continue  # not ours, or still being created
        if _alive(owner):
            continue
        _kill_postmaster(base / "data")
        shutil.rmtree(base, ignore_errors=True)
        reaped.append(base)
    return reaped


def _kill_postmaster(data: Path) -> None:
    """Immediate shutdown (SIGQUIT) of the server on ``data``, if it is one of ours."""
    try:
        pid = int((data / "postmaster.pid").read_text().split("\n", 1)[0])
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except (OSError, ValueError):
        return
    if b"postgres" not in command or str(data).encode() not in command:
        return  # the pid was reused by another process
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGQUIT)
    deadline = time.monotonic() + START_TIMEOUT
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)

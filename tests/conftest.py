"""Shared fixtures. Network is off by default: only loopback connections are allowed."""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import socket
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from pgserver import PgCluster

pytest_plugins = ("pytester",)

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"


# ------------------------------------------------------------- no skips in CI


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _no_skip_in_ci(report: pytest.TestReport | pytest.CollectReport) -> None:
    """In CI a skipped test is a failure.

    CI installs the test extras (``pip install -e '.[test]'``), and no test may depend on
    a tool found on the machine, so a skip there can only mean a test that silently did
    not run: 56 of them once skipped because check-jsonschema was looked up on PATH.
    ``.ci/run`` sets ``CI``, as GitHub Actions does.
    """
    if not (report.skipped and in_ci()) or hasattr(report, "wasxfail"):
        return
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    report.outcome = "failed"
    report.longrepr = (f"skipped in CI ({reason.removeprefix('Skipped: ')}); CI installs the "
                       "test extras, so every test must run there")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    _no_skip_in_ci(outcome.get_result())  # type: ignore[attr-defined]


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Iterator[None]:
    outcome = yield
    _no_skip_in_ci(outcome.get_result())  # type: ignore[attr-defined]


def copy_tracked(source: Path, target: Path, *, skip: tuple[str, ...] = ()) -> Path:
    """Copy the files of ``source`` that git tracks (or would: new files not ignored).

    The README's first command renders ``examples/launch.yaml`` in place, leaving
    ``examples/.storyboard/`` and ``examples/renders/`` behind; a test that copied the
    folder wholesale would start from that state instead of a clean project.
    ``skip`` leaves out top-level entries of ``source`` by name.
    """
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", "."],
        cwd=source, check=True, capture_output=True, text=True).stdout
    target.mkdir(parents=True, exist_ok=True)
    for name in filter(None, listed.split("\0")):
        if name.split("/")[0] in skip or not (source / name).is_file():
            continue  # a tracked file may have been deleted in the working tree
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source / name, target / name)
    return target


@pytest.fixture(scope="session")
def tracked_copy() -> Callable[..., Path]:
    """``copy_tracked`` for tests (a fixture, so no test imports a conftest module)."""
    return copy_tracked


# ------------------------------------------------------------- PostgreSQL (issue 13)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """A throwaway PostgreSQL server for the session (``tests/pgserver.py``), started once:
    under pytest-xdist each worker starts its own, in a folder of its own on a free port.

    Skips when the machine has no PostgreSQL server binaries (or, as root, no
    unprivileged user to run them): in CI that skip fails the run, and ``.ci/run``
    installs both on a fresh machine.
    """
    from pgserver import PgCluster, PgUnavailable

    try:
        cluster = PgCluster()
    except PgUnavailable as exc:
        pytest.skip(str(exc))
    with cluster:
        yield cluster


@pytest.fixture
def pg_url(pg_cluster: PgCluster, request: pytest.FixtureRequest) -> Iterator[str]:
    """The URL of a fresh, empty database of its own for this test, dropped afterwards."""
    slug = re.sub(r"[^a-z0-9]+", "_", request.node.name.lower()).strip("_")[:40]
    name = f"{slug}_{uuid.uuid4().hex[:8]}"
    pg_cluster.start()  # a no-op, unless a test that stopped the server failed to restart it
    url = pg_cluster.create_database(name)
    yield url
    pg_cluster.start()  # a test may leave the server stopped: the next one finds it running
    pg_cluster.drop_database(name)


_real_connect = socket.socket.connect


def _loopback_only(self: socket.socket, address: Any) -> Any:
    host = address[0] if isinstance(address, tuple) else None
    if host is not None and self.family in (socket.AF_INET, socket.AF_INET6):
        try:
            loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise OSError(f"tests may not reach the network (tried {host}); use the sandbox")
    return _real_connect(self, address)


@pytest.fixture(autouse=True, scope="session")
def _no_network() -> Iterator[None]:
    """For the whole session, so that what session and module fixtures do (a shared
    render, a server's setup) is held to it as much as every test is."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", _loopback_only)
        yield


@pytest.fixture(autouse=True)
def _no_api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's real key must never be used by the tests."""
    monkeypatch.delenv("SHORTAPI_KEY", raising=False)
    monkeypatch.delenv("SHORTAPI_BASE_URL", raising=False)

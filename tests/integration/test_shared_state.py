"""Issue 13: several runners share one journal in PostgreSQL and one render store, and never
pay twice for one generation — against a real PostgreSQL server (``tests/pgserver.py``) and
a sandbox on loopback standing in for the paid API, with every runner a process of its own
in its own copy of the project, as separate CI machines would be.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner, Result

from storyboard.api.sandbox import Sandbox
from storyboard.cli import cli

from .conftest import FAKE_KEY, FAST, REPO, run_cli, start_sandbox

LAUNCH = "launch.yaml"
GENERATIONS = 10  # launch.yaml: 12 generations, two teasers shared by the markets
PASSWORD = "s3cret-pw-never-shown"


@pytest.fixture
def checkouts(tmp_path: Path, tracked_copy: Callable[..., Path]) -> Callable[[int], list[Path]]:
    """``n`` copies of the examples: one per runner, as on separate machines."""

    def make(n: int) -> list[Path]:
        return [tracked_copy(REPO / "examples", tmp_path / f"runner{i}") for i in range(n)]

    return make


def with_password(url: str) -> str:
    """The test cluster trusts local connections, so a password in the URL is accepted and
    ignored: enough to check that it appears nowhere."""
    return url.replace("storyboard@", f"storyboard:{PASSWORD}@", 1)


def runner(root: Path, api: Sandbox, state: str, store: Path, *args: str,
           lease: str = "2", mount: bool = True) -> subprocess.Popen[str]:
    if mount:  # the share every runner mounts
        store.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "SHORTAPI_KEY": FAKE_KEY, "STORYBOARD_STATE": state,
           "STORYBOARD_STORE": str(store)}
    return subprocess.Popen(
        [sys.executable, "-m", "storyboard", "run", str(root / LAUNCH), "--yes", "--no-cut",
         "--api-base", api.base_url, *FAST, "--lease", lease, *args],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=120)
    return proc.returncode, out, err


def delivered(root: Path) -> dict[str, str]:
    """Each generation's published render (made here or by another runner) and its sha256."""
    manifest = json.loads((root / "renders" / "aurora-launch" / "manifest.json").read_text())
    return {g["id"]: g["sha256"] for g in manifest["generations"]
            if g["status"] in ("delivered", "reused") and (root / "renders" / "aurora-launch" /
                                                           g["file"]).is_file()}


def assert_each_generation_created_once(api: Sandbox) -> None:
    assert api.ledger.duplicates() == {}
    assert len(api.ledger.creates) == GENERATIONS


def rows(url: str, query: str) -> list[tuple[object, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(query).fetchall()


def test_four_runners_create_each_generation_once(
        pg_url: str, api: Sandbox, checkouts: Callable[[int], list[Path]],
        tmp_path: Path) -> None:
    roots = checkouts(4)
    store = tmp_path / "store"
    state = with_password(pg_url)
    results = [finish(p) for p in [runner(root, api, state, store) for root in roots]]

    for code, out, err in results:
        assert code == 0, out + err
        assert "Traceback" not in err and PASSWORD not in out + err
    assert_each_generation_created_once(api)
    renders = [delivered(root) for root in roots]
    assert all(len(r) == 12 for r in renders)
    assert all(r == renders[0] for r in renders)  # the same videos everywhere
    # what the runners say they charged adds up to what the API charged, once
    charged = sum(float(line.split("charged $")[1].split()[0].rstrip(";"))
                  for _, out, _ in results for line in out.splitlines()
                  if "money: estimated" in line)
    assert round(charged, 2) == float(api.ledger.charged())
    assert rows(pg_url, "SELECT count(*) FROM storyboard.claims") == [(0,)]
    assert rows(pg_url, "SELECT count(*) FROM storyboard.attempts WHERE "
                "request_json LIKE '%%" + PASSWORD + "%%' OR api_base LIKE '%%"
                + PASSWORD + "%%'") == [(0,)]
    written = [p for root in roots for p in root.rglob("*") if p.is_file()]
    assert not [p for p in written if PASSWORD.encode() in p.read_bytes()]


def test_a_fresh_checkout_plans_and_reads_status_from_the_shared_state(
        pg_url: str, api: Sandbox, checkouts: Callable[[int], list[Path]],
        tmp_path: Path) -> None:
    rendered, fresh = checkouts(2)
    store = tmp_path / "store"
    code, out, err = finish(runner(rendered, api, pg_url, store))
    assert code == 0, out + err
    # read-only commands on the fresh checkout: in this process, as the runners' own
    # processes are what this file is about
    env = {"STORYBOARD_STATE": pg_url, "STORYBOARD_STORE": str(store)}

    def storyboard(*args: str) -> Result:
        return CliRunner(env=env).invoke(cli, args)

    plan = storyboard("plan", str(fresh / LAUNCH), "--detailed-exitcode", "--format", "json")
    assert plan.exit_code == 0, plan.stdout + plan.stderr  # nothing left to render
    assert float(json.loads(plan.stdout)["due_cost_usd"]) == 0
    status = storyboard("status", str(fresh / LAUNCH))
    assert status.exit_code == 0, status.stderr
    assert "not rendered" not in status.stdout and "us-wide/hero" in status.stdout, status.stdout


def test_a_killed_runner_is_taken_over_and_nothing_is_created_twice(
        pg_url: str, checkouts: Callable[[int], list[Path]], tmp_path: Path) -> None:
    """SIGKILL a runner while it holds claims on jobs it created: its leases expire and the
    other runners poll its job ids — no job is created again."""
    api = start_sandbox(latency=3.0)  # long enough to kill the runner mid-job
    try:
        first, *others = checkouts(3)
        store = tmp_path / "store"
        victim = runner(first, api, pg_url, store, "--concurrency", "10")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # every create sent and journaled: all polling
            try:
                (pending, sending), = rows(pg_url, "SELECT count(*) FILTER (WHERE status = "
                                           "'pending'), count(*) FILTER (WHERE status = "
                                           "'submitting') FROM storyboard.attempts")
            except psycopg.errors.UndefinedTable:  # the runner has not made the tables yet
                pending = sending = 0
            if pending == GENERATIONS and sending == 0:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the first runner never had all its jobs in flight")
        held = rows(pg_url, "SELECT count(*) FROM storyboard.claims")[0][0]
        assert held == GENERATIONS  # it holds a claim on each
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)

        results = [finish(p) for p in [runner(root, api, pg_url, store) for root in others]]
        for code, out, err in results:
            assert code == 0, out + err
        assert_each_generation_created_once(api)
        assert all(len(delivered(root)) == 12 for root in others)
        # the jobs were the killed runner's: its job ids, downloaded by the others
        made_by = {r[0] for r in rows(pg_url, "SELECT DISTINCT runner FROM storyboard.attempts")}
        assert len(made_by) == 1
    finally:
        api.stop()


def test_a_dropped_connection_is_made_again(
        pg_url: str, pg_cluster: object, api: Sandbox,
        checkouts: Callable[[int], list[Path]], tmp_path: Path) -> None:
    """The database drops every connection mid-run (a failover, a network blip): each
    runner connects again and finishes; nothing is created twice."""
    roots = checkouts(2)
    procs = [runner(root, api, pg_url, tmp_path / "store") for root in roots]
    dbname = pg_url.rsplit("/", 1)[1]
    deadline = time.monotonic() + 60
    while len(api.ledger.creates) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    pg_cluster.terminate_connections(dbname)  # type: ignore[attr-defined]
    for code, out, err in map(finish, procs):
        assert code == 0, out + err
    assert_each_generation_created_once(api)


def test_a_database_that_goes_away_is_one_clear_line_and_the_same_command_resumes(
        pg_url: str, pg_cluster: object, checkouts: Callable[[int], list[Path]],
        tmp_path: Path) -> None:
    api = start_sandbox(latency=1.0)
    try:
        root, = checkouts(1)
        store = tmp_path / "store"
        state = with_password(pg_url)
        proc = runner(root, api, state, store)
        deadline = time.monotonic() + 60
        while len(api.ledger.creates) < 4 and time.monotonic() < deadline:
            time.sleep(0.02)
        pg_cluster.stop("immediate")  # type: ignore[attr-defined]
        code, out, err = finish(proc)
        pg_cluster.start()  # type: ignore[attr-defined]

        assert code != 0
        assert "Traceback" not in err and PASSWORD not in out + err
        shown = pg_url.split("://", 1)[1]
        assert f"{shown}: cannot use the journal" in out + err
        assert "rerun the same command" in out + err

        code, out, err = finish(runner(root, api, state, store))
        assert code == 0, out + err
        assert_each_generation_created_once(api)
        assert len(delivered(root)) == 12
    finally:
        api.stop()


def test_the_budget_bounds_what_all_runners_spend_together(
        pg_url: str, api: Sandbox, checkouts: Callable[[int], list[Path]],
        tmp_path: Path) -> None:
    """Two runners render disjoint parts ($4.89 and $3.70), each within an $8.00 budget
    alone: together they would spend $8.59, so the journal refuses what would pass $8.00."""
    roots = checkouts(2)
    for root in roots:
        text = (root / LAUNCH).read_text()
        (root / LAUNCH).write_text(text.replace("max_cost_usd: 12", "max_cost_usd: 8"))
    store = tmp_path / "store"
    procs = [runner(roots[0], api, pg_url, store, "--only", "us-*"),
             runner(roots[1], api, pg_url, store, "--only", "jp-*")]
    results = list(map(finish, procs))

    assert api.ledger.charged() <= 8
    assert api.ledger.duplicates() == {}
    refused = [out + err for code, out, err in results if code != 0]
    assert refused, "one runner must have been stopped by the shared budget"
    assert any("over the budget of $8.00" in text for text in refused), refused


def test_a_store_that_is_not_there_is_refused_before_anything_is_sent(
        api: Sandbox, checkouts: Callable[[int], list[Path]], tmp_path: Path) -> None:
    """An unmounted share must not become a local folder that no other runner sees."""
    root, = checkouts(1)
    code, _, err = finish(runner(root, api, str(tmp_path / "state"), tmp_path / "not-mounted",
                                 mount=False))
    assert code == 2
    assert err.strip().splitlines()[-1] == (
        f"error: --store: Directory '{tmp_path / 'not-mounted'}' does not exist.")
    assert api.ledger.creates == ()


def test_moving_to_shared_state_pays_for_nothing_again(
        pg_url: str, api: Sandbox, checkouts: Callable[[int], list[Path]],
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A project rendered with its state folder, then pointed at a shared journal and
    store: what the folder paid for is imported, not paid again — here and in another
    checkout that has never rendered anything."""
    mine, teammate = checkouts(2)
    alone = run_cli(api, monkeypatch, mine / LAUNCH)  # with its state folder: in this process
    assert alone.exit_code == 0, alone.stdout + alone.stderr
    assert_each_generation_created_once(api)

    store = tmp_path / "store"
    for root in (mine, mine, teammate):  # twice here: importing again copies nothing
        code, out, err = finish(runner(root, api, pg_url, store))
        assert code == 0, out + err
        assert "delivered:" not in out and "reused: 12" in out
    assert_each_generation_created_once(api)
    assert rows(pg_url, "SELECT count(*) FROM storyboard.attempts") == [(GENERATIONS,)]
    assert len(list(store.glob("*/*.mp4"))) == GENERATIONS  # the folder's videos, shared
    assert delivered(teammate) == delivered(mine)


def test_the_import_is_announced_once(pg_url: str, api: Sandbox,
                                      checkouts: Callable[[int], list[Path]],
                                      tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root, = checkouts(1)
    assert run_cli(api, monkeypatch, root / LAUNCH).exit_code == 0  # with its state folder
    state = root / ".storyboard"
    notes = []
    for _ in range(2):
        code, out, err = finish(runner(root, api, pg_url, tmp_path))
        assert code == 0, out + err
        notes.append([line for line in err.splitlines() if line.startswith("note: copied")])
    assert notes == [[f"note: copied 10 attempts from {state / 'journal.sqlite3'} into "
                      f"{pg_url}: what this folder paid for is not paid for again"], []]

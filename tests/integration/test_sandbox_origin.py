"""Issue 7.1: a sandbox's placeholder is never a render.

The sandbox says what it is in every answer; the journal records where each job was
made; a real run never reuses, counts or publishes what a sandbox made, whatever
``--state``, ``--out`` and ``--api-base`` say — and neither do ``status``,
``plan --detailed-exitcode`` or the manifest.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result

from storyboard.api.sandbox import Sandbox
from storyboard.cli import cli

from .conftest import FAKE_KEY, FAST, Project, run_cli, start_sandbox

LAUNCH_CREATES = 10  # 12 generations, two teasers shared by the markets
LAUNCH_COST = "8.59"


@pytest.fixture
def real_api() -> Iterator[Sandbox]:
    """A loopback stand-in for the paid API: a sandbox that does not say it is one."""
    server = start_sandbox(identify=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def sandbox_on_a_port() -> Iterator[str]:
    """`storyboard sandbox --port 0` in its own process, as a user starts it; its URL."""
    proc = subprocess.Popen([sys.executable, "-m", "storyboard", "sandbox", "--port", "0",
                             "--latency", "0.05"], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        banner = proc.stdout.readline()
        assert banner.startswith("sandbox listening on http://127.0.0.1:"), banner
        yield banner.split()[3]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def sandbox_creates(url: str) -> int:
    return len(httpx.get(f"{url}/_sandbox/ledger").json()["creates"])


def run_against(url: str, monkeypatch: pytest.MonkeyPatch, *args: str | Path,
                cut: bool = False) -> Result:
    """``storyboard run`` against ``url``; without the final cuts unless ``cut``, as
    ``run_cli`` (what is tested here is where jobs, state and renders go: the cuts are
    test_final_cut.py's, and encoding them for every run costs seconds)."""
    monkeypatch.setenv("SHORTAPI_KEY", FAKE_KEY)
    result = CliRunner().invoke(cli, ["run", "--yes", "--api-base", url, *FAST,
                                      *([] if cut else ["--no-cut"]), *map(str, args)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result
    return result


def run_in_process_sandbox(*args: str | Path) -> Result:
    """``storyboard run --sandbox``, without the final cuts (see ``run_against``)."""
    result = CliRunner().invoke(cli, ["run", "--yes", "--sandbox", "--sandbox-latency", "0.02",
                                      *FAST, "--no-cut", *map(str, args)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result
    return result


def assert_every_job_made_by(result: Result, real_api: Sandbox) -> None:
    """The real run created (and paid for) every job itself: nothing was reused."""
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "delivered: 12" in result.stdout
    assert "reused:" not in result.stdout
    assert len(real_api.ledger.creates) == LAUNCH_CREATES
    assert real_api.ledger.duplicates() == {}
    assert f"charged ${LAUNCH_COST}" in result.stdout


def test_the_sandbox_says_what_it_is_in_every_answer(sandbox_on_a_port: str) -> None:
    for response in (httpx.get(f"{sandbox_on_a_port}/api/v1/job/query?id=x"),
                     httpx.get(f"{sandbox_on_a_port}/_sandbox/ledger"),
                     httpx.post(f"{sandbox_on_a_port}/api/v1/job/create", content=b"{")):
        assert response.headers["Storyboard-Sandbox"] == "placeholder videos, no charges"


def test_sandbox_on_a_port_then_the_real_api_creates_every_job(
        project: Project, sandbox_on_a_port: str, real_api: Sandbox,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # what the sandbox's own banner suggests: storyboard sandbox --port N; run --api-base
    path = project.storyboard("launch.yaml")
    rehearsal = run_against(sandbox_on_a_port, monkeypatch, path, cut=True)
    assert rehearsal.exit_code == 0, rehearsal.stdout + rehearsal.stderr
    assert "Running against a sandbox" in rehearsal.stdout
    assert sandbox_creates(sandbox_on_a_port) == LAUNCH_CREATES
    # its placeholders, and the cuts and review made of them, stay out of the real state
    # and renders
    assert not (project.root / "renders" / "aurora-launch").exists()
    sandbox_renders = project.root / "renders" / "sandbox" / "aurora-launch"
    assert (sandbox_renders / "us-wide" / "hero.mp4").is_file()
    assert (sandbox_renders / "us-wide.mp4").is_file()
    assert (sandbox_renders / "report" / "index.html").is_file()
    # a second rehearsal reuses the sandbox's own placeholders, as --sandbox does
    again = run_against(sandbox_on_a_port, monkeypatch, path)
    assert "reused: 12" in again.stdout
    assert sandbox_creates(sandbox_on_a_port) == LAUNCH_CREATES

    real = run_cli(real_api, monkeypatch, path)
    assert_every_job_made_by(real, real_api)
    assert project.manifest("aurora-launch")["origin"] == "api"
    assert "nothing real was paid" in rehearsal.stdout and "nothing real" not in real.stdout


def test_shared_state_and_renders_never_pass_placeholders_for_renders(
        project: Project, sandbox_on_a_port: str, real_api: Sandbox,
        monkeypatch: pytest.MonkeyPatch) -> None:
    path = project.storyboard("launch.yaml")
    state, out = project.root / "state", project.root / "out"
    shared = ("--state", state, "--out", out)
    assert run_against(sandbox_on_a_port, monkeypatch, path, *shared).exit_code == 0
    with sqlite3.connect(state / "journal.sqlite3") as db:
        origins = db.execute("SELECT DISTINCT origin, api_base FROM attempts").fetchall()
    assert origins == [("sandbox", sandbox_on_a_port)]
    assert (out / "aurora-launch" / "us-wide" / "hero.mp4").is_file()

    # nothing reads the placeholders as renders: not the plan, not status
    detailed = CliRunner().invoke(cli, ["plan", str(path), "--state", str(state),
                                        "--detailed-exitcode", "--format", "json"])
    assert detailed.exit_code == 2  # renders pending: the sandbox made none
    budget = json.loads(detailed.stdout)["budget"]
    assert (budget["spent_usd"], budget["due_usd"]) == ("0.00", LAUNCH_COST)
    status = CliRunner().invoke(cli, ["status", str(path), "--state", str(state),
                                      "--out", str(out)])
    assert status.exit_code == 0
    assert "rendered" not in status.stdout.replace("not rendered", "")
    assert status.stdout.count("not rendered (a sandbox placeholder only)") == LAUNCH_CREATES
    assert "Total: estimated $8.59; charged $0.00" in status.stdout

    real = run_cli(real_api, monkeypatch, path, *shared)
    assert_every_job_made_by(real, real_api)
    # the published file is now the real render, not the placeholder it replaced
    published = out / "aurora-launch" / "us-wide" / "hero.mp4"
    sources = [p.name for p in (state / "cache").glob("*/*.mp4")
               if os.path.samefile(p, published)]
    assert len(sources) == 1 and not sources[0].endswith(".sandbox.mp4"), sources
    manifest = json.loads((out / "aurora-launch" / "manifest.json").read_text())
    assert manifest["charged_usd"] == LAUNCH_COST
    assert {e["job_id"] for e in manifest["generations"]} == {
        c.job_id for c in real_api.ledger.creates}


def test_run_sandbox_with_a_state_then_a_real_run_with_the_same_state(
        project: Project, real_api: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    path = project.storyboard("launch.yaml")
    state = project.root / "shared-state"
    rehearsal = run_in_process_sandbox(path, "--state", state)
    assert rehearsal.exit_code == 0, rehearsal.stdout + rehearsal.stderr
    assert "delivered: 12" in rehearsal.stdout
    real = run_cli(real_api, monkeypatch, path, "--state", state)
    assert_every_job_made_by(real, real_api)
    # and the next real run reuses the real renders, never the placeholders
    again = run_cli(real_api, monkeypatch, path, "--state", state)
    assert "reused: 12" in again.stdout
    assert len(real_api.ledger.creates) == LAUNCH_CREATES


def test_a_journal_from_before_origins_is_migrated_and_its_placeholders_not_reused(
        project: Project, real_api: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    """A state folder an older storyboard wrote in a sandbox run: schema 1, no origin
    column, placeholders cached under the names real renders have."""
    path = project.storyboard("launch.yaml")
    state = project.root / "old-state"
    assert run_in_process_sandbox(path, "--state", state).exit_code == 0
    with sqlite3.connect(state / "journal.sqlite3") as db:  # back to schema 1
        db.execute("ALTER TABLE attempts DROP COLUMN origin")
        db.execute("ALTER TABLE attempts DROP COLUMN api_base")
        db.execute("PRAGMA user_version = 1")
    for placeholder in (state / "cache").glob("*/*.sandbox.mp4"):
        placeholder.rename(placeholder.with_name(placeholder.name.replace(".sandbox", "")))
    # read-only commands read the old journal as it is, without migrating it
    status = CliRunner().invoke(cli, ["status", str(path), "--state", str(state)])
    assert status.stdout.count("a sandbox placeholder only") == LAUNCH_CREATES
    with sqlite3.connect(state / "journal.sqlite3") as db:
        assert db.execute("PRAGMA user_version").fetchone() == (1,)

    real = run_cli(real_api, monkeypatch, path, "--state", state)
    assert_every_job_made_by(real, real_api)
    with sqlite3.connect(state / "journal.sqlite3") as db:
        assert db.execute("PRAGMA user_version").fetchone() == (2,)
        assert db.execute("SELECT origin, count(*) FROM attempts GROUP BY origin "
                          "ORDER BY origin").fetchall() == [("api", LAUNCH_CREATES),
                                                            ("sandbox", LAUNCH_CREATES)]


def test_a_sandbox_that_answers_a_run_expecting_the_real_api_publishes_nothing(
        project: Project, real_api: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    """The probe could not tell (say the sandbox was still starting): every create's own
    answer still says who made the job, and a placeholder is never published as real."""
    import storyboard.execute.options

    monkeypatch.setattr(storyboard.execute.options, "identify", lambda *args, **kwargs: False)
    impostor = start_sandbox(identify=True)
    url = impostor.base_url
    try:
        result = run_cli(impostor, monkeypatch, project.storyboard("sequence.yaml"))
    finally:
        impostor.stop()
    assert result.exit_code == 1
    assert result.stdout.count(f"{url} answered as a sandbox, but this run "
                               "renders with the real API") == 3
    assert not list((project.root / "renders").rglob("*.mp4"))
    with sqlite3.connect(project.root / ".storyboard" / "journal.sqlite3") as db:
        assert db.execute("SELECT DISTINCT origin FROM attempts").fetchall() == [("sandbox",)]
    real = run_cli(real_api, monkeypatch, project.storyboard("sequence.yaml"))
    assert real.exit_code == 0 and "delivered: 3" in real.stdout
    assert len(real_api.ledger.creates) == 3


def test_a_sandbox_run_never_publishes_over_real_renders(
        project: Project, real_api: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    path = project.storyboard("sequence.yaml")
    out = project.root / "renders"
    assert run_cli(real_api, monkeypatch, path).exit_code == 0
    before = {p: p.read_bytes() for p in out.rglob("*.mp4")}
    assert len(before) == 3  # the three takes (run_cli makes no final cut)
    rehearsal = run_in_process_sandbox(path, "--out", out)
    assert rehearsal.exit_code == 2
    assert rehearsal.stderr.splitlines() == [
        f"error: {out}: it holds real renders ({out / 'title-sequence' / 'manifest.json'}); a "
        "sandbox's placeholder videos never go among them — pass another --out for this "
        "sandbox run"]
    assert {p: p.read_bytes() for p in out.rglob("*.mp4")} == before


def test_only_an_api_base_other_than_the_public_api_is_asked(
        monkeypatch: pytest.MonkeyPatch, sandbox_on_a_port: str) -> None:
    import storyboard.execute.options

    assert storyboard.execute.options.on_a_sandbox(sandbox=False, api_base=sandbox_on_a_port,
                                                    env={})
    assert storyboard.execute.options.on_a_sandbox(sandbox=True, api_base=None, env={})

    def never(*args: object, **kwargs: object) -> bool:
        raise AssertionError("the public API was probed")

    monkeypatch.setattr(storyboard.execute.options, "identify", never)
    assert not storyboard.execute.options.on_a_sandbox(sandbox=False, api_base=None, env={})


def test_status_shows_the_sandbox_renders_only_when_asked(project: Project) -> None:
    """After the README's first command, `status` points at `--sandbox`, which lists the
    placeholders as the sandbox's renders, its charges simulated."""
    path = project.storyboard("launch.yaml")
    assert run_in_process_sandbox(path).exit_code == 0

    plain = CliRunner().invoke(cli, ["status", str(path)])
    assert plain.exit_code == 0, plain.output
    assert plain.stderr == "note: the sandbox's renders are shown with --sandbox\n"
    assert plain.stdout.count("not rendered") == LAUNCH_CREATES

    shown = CliRunner().invoke(cli, ["status", str(path), "--sandbox"])
    assert shown.exit_code == 0, shown.output
    rows = [line for line in shown.stdout.splitlines() if line.startswith(("us-", "jp-"))]
    assert sum(" rendered " in row for row in rows) == LAUNCH_CREATES
    assert all("renders/sandbox/aurora-launch/" in row for row in rows)
    assert shown.stdout.splitlines()[-1] == ("sandbox: its placeholder videos, never renders; "
                                             "its charges are simulated, nothing real was paid")
    assert shown.stderr == ""

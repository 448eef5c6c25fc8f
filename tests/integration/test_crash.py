"""A run killed or interrupted at the worst moments, then run again.

`storyboard run` goes in a subprocess, against a sandbox that lives in the test process
and so outlives it; the test waits (with a deadline, watching the sandbox's ledger and
the journal) for the moment it wants, then kills or interrupts it. The rerun must find
every paid job in the journal, deliver every file, and create nothing twice.

Jobs that are still running when a run is stopped take 30 s in their sandbox, so the
moment cannot slip by on a slow machine; the rerun then goes to a restarted sandbox
with quick jobs, which finishes the earlier sandbox's jobs from their ids (as the real
service would have by then) and counts them as restored, never as creates.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from storyboard.api.sandbox import Sandbox
from storyboard.compile import plan_file
from storyboard.journal.sqlite import Attempt, Journal, Status
from storyboard.media.probe import verify

from .conftest import FAKE_KEY, FAST, REPO, Project, run_cli, start_sandbox

STORYBOARD = "launch.yaml"
NAME = "aurora-launch"
GENERATIONS = 12
REQUESTS = 10  # the teaser does not vary by market: two pairs share a request
DEADLINE_S = 20.0


@pytest.fixture
def slow_sandbox() -> Iterator[Sandbox]:
    """Jobs take 30 s: a run is caught while it polls, however slow the machine."""
    server = start_sandbox(latency=30.0)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def stalling_sandbox() -> Iterator[Sandbox]:
    """Quick jobs whose first download hangs: a run caught while downloading."""
    server = start_sandbox(latency=0.05, first_download_stall=20.0)
    try:
        yield server
    finally:
        server.stop()


Spawn = Callable[..., "subprocess.Popen[str]"]


@pytest.fixture
def spawn(project: Project) -> Iterator[Spawn]:
    """Start `storyboard run launch.yaml --yes` in its own process, output kept in files;
    whatever is still running when the test ends (say, after a failed assert) is killed."""
    started: list[subprocess.Popen[str]] = []

    def start(sandbox: Sandbox, *args: str) -> subprocess.Popen[str]:
        env = {**os.environ, "SHORTAPI_KEY": FAKE_KEY, "PYTHONPATH": str(REPO)}
        env.pop("SHORTAPI_BASE_URL", None)
        command = [sys.executable, "-m", "storyboard", "run",
                   str(project.storyboard(STORYBOARD)), "--yes",
                   "--api-base", sandbox.base_url, *FAST, *args]
        with (project.root / "stdout.txt").open("w") as out, \
                (project.root / "stderr.txt").open("w") as err:
            process = subprocess.Popen(command, cwd=project.root, env=env, text=True,
                                       stdout=out, stderr=err)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


def output(project: Project) -> tuple[str, str]:
    return ((project.root / "stdout.txt").read_text(),
            (project.root / "stderr.txt").read_text())


def wait_for(condition: Callable[[], bool], process: subprocess.Popen[str],
             project: Project) -> None:
    """Until ``condition`` holds; fails if the run ends first or the deadline passes."""
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        if process.poll() is not None:
            pytest.fail(f"the run ended first (exit {process.returncode}):\n"
                        + "\n".join(output(project)))
        if time.monotonic() > deadline:
            pytest.fail(f"not reached within {DEADLINE_S:.0f} s")
        time.sleep(0.01)


def journal_rows(project: Project) -> list[Attempt]:
    """The journal as another process sees it (read-only, no lock)."""
    with Journal.open(project.root / ".storyboard", exclusive=False) as journal:
        return journal.attempts()


def all_pending(project: Project, sandbox: Sandbox) -> bool:
    rows = journal_rows(project)
    return (len(sandbox.ledger.creates) == REQUESTS and len(rows) == REQUESTS
            and all(row.status is Status.PENDING and row.job_id for row in rows))


def leftovers(project: Project) -> list[Path]:
    """Temporary files of downloads and renders that never finished."""
    return [path for folder in (project.root / "renders", project.root / ".storyboard")
            for pattern in ("*.part", "*.tmp") for path in folder.rglob(pattern)]


def assert_everything_delivered_once(project: Project, *sandboxes: Sandbox) -> None:
    """All 12 files verified; every request created exactly once, across the sandboxes."""
    manifest = project.manifest(NAME)["generations"]
    assert len(manifest) == GENERATIONS
    for entry in manifest:
        video = project.renders(NAME) / entry["file"]
        assert verify(video, entry["seconds"]).duration_s == entry["seconds"]
    for sandbox in sandboxes:
        assert sandbox.ledger.duplicates() == {}
    created = Counter(c.request_hash for s in sandboxes for c in s.ledger.creates)
    assert set(created.values()) == {1}
    assert set(created) == {entry["hash"] for entry in manifest} and len(created) == REQUESTS
    assert leftovers(project) == []


def rerun_picks_up_the_paid_jobs(project: Project, stopped: Sandbox, sandbox: Sandbox,
                                 monkeypatch: pytest.MonkeyPatch, pending: int) -> None:
    """The journal holds every paid job as pending; a rerun polls exactly those again
    (on a restarted sandbox), creates the rest once, and delivers everything."""
    rows = journal_rows(project)
    assert [row.status for row in rows] == [Status.PENDING] * pending
    paid = {record.job_id for record in stopped.ledger.creates}
    assert {row.job_id for row in rows} == paid

    rerun = run_cli(sandbox, monkeypatch, project.storyboard(STORYBOARD))
    assert rerun.exit_code == 0, rerun.stdout + rerun.stderr
    assert f"delivered: {GENERATIONS}" in rerun.stdout
    assert_everything_delivered_once(project, stopped, sandbox)
    assert set(sandbox.ledger.restored) == paid  # exactly the paid jobs, polled again


@pytest.mark.slow
def kill_while_polling(project: Project, slow_sandbox: Sandbox, spawn: Spawn) -> None:
    """SIGKILL a run once every job is created, journaled with its id and asked about at
    least once; then stop the sandbox it polled."""
    process = spawn(slow_sandbox, "--concurrency", str(REQUESTS))
    wait_for(lambda: (all_pending(project, slow_sandbox)
                      and len(slow_sandbox.ledger.queries) == REQUESTS), process, project)
    os.kill(process.pid, signal.SIGKILL)
    assert process.wait(timeout=DEADLINE_S) == -signal.SIGKILL
    slow_sandbox.stop()


def test_killed_while_polling_then_rerun_creates_nothing_again(
        project: Project, slow_sandbox: Sandbox, sandbox: Sandbox, spawn: Spawn,
        monkeypatch: pytest.MonkeyPatch) -> None:
    kill_while_polling(project, slow_sandbox, spawn)
    assert slow_sandbox.ledger.downloads == {}  # it was polling, not yet downloading
    rerun_picks_up_the_paid_jobs(project, slow_sandbox, sandbox, monkeypatch, REQUESTS)


@pytest.mark.slow
def test_killed_while_downloading_then_rerun_leaves_no_partial_files(
        project: Project, stalling_sandbox: Sandbox, spawn: Spawn,
        monkeypatch: pytest.MonkeyPatch) -> None:
    sandbox = stalling_sandbox
    process = spawn(sandbox, "--concurrency", str(REQUESTS))

    def all_downloading() -> bool:
        return sandbox.ledger.faults_by_endpoint.get("download", {}).get("stall") == REQUESTS

    wait_for(all_downloading, process, project)
    os.kill(process.pid, signal.SIGKILL)
    assert process.wait(timeout=DEADLINE_S) == -signal.SIGKILL
    assert len(sandbox.ledger.creates) == REQUESTS
    assert [row.status for row in journal_rows(project)] == [Status.PENDING] * REQUESTS
    assert list((project.root / "renders").rglob("*.mp4")) == []
    assert leftovers(project)  # the downloads it was writing when it died

    rerun = run_cli(sandbox, monkeypatch, project.storyboard(STORYBOARD))
    assert rerun.exit_code == 0, rerun.stdout + rerun.stderr
    assert f"delivered: {GENERATIONS}" in rerun.stdout
    assert_everything_delivered_once(project, sandbox)
    assert sandbox.ledger.faults_by_endpoint["download"] == {"stall": REQUESTS}  # first only


def test_a_create_journaled_but_perhaps_never_sent_is_unknown_and_not_sent(
        project: Project, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    """A SIGKILL between writing the journal row and sending the create cannot be timed
    from outside; the row it leaves behind can be written directly."""
    plan = plan_file(project.storyboard(STORYBOARD))
    item = next(i for i in plan.items if i.generation.id == "us-wide/hero")
    g = item.generation
    with Journal.open(project.root / ".storyboard") as journal:
        journal.begin(hash=g.hash, generation_id=g.id, storyboard=plan.name,
                      request=g.request(), estimated_usd=item.cost)

    first = run_cli(sandbox, monkeypatch, project.storyboard(STORYBOARD))
    assert first.exit_code == 1
    assert "delivered: 11" in first.stdout and "unknown: 1" in first.stdout
    assert ("    us-wide/hero: the previous run stopped while sending the create, so the job "
            "may exist and be charged; not sent again — check with the provider, then rerun "
            "with --resubmit-unknown to render it\n") in first.stdout
    assert g.hash not in sandbox.ledger.creates_per_hash()
    assert len(sandbox.ledger.creates) == REQUESTS - 1
    assert [row.status for row in journal_rows(project) if row.hash == g.hash] == [
        Status.UNKNOWN]

    again = run_cli(sandbox, monkeypatch, project.storyboard(STORYBOARD))
    assert again.exit_code == 1 and "unknown: 1" in again.stdout
    assert len(sandbox.ledger.creates) == REQUESTS - 1

    resubmitted = run_cli(sandbox, monkeypatch, project.storyboard(STORYBOARD),
                          "--resubmit-unknown")
    assert resubmitted.exit_code == 0, resubmitted.stdout + resubmitted.stderr
    assert "delivered: 1" in resubmitted.stdout and "reused: 11" in resubmitted.stdout
    assert_everything_delivered_once(project, sandbox)


@pytest.mark.slow
def test_ctrl_c_stops_submitting_keeps_the_journal_and_says_how_to_resume(
        project: Project, slow_sandbox: Sandbox, sandbox: Sandbox, spawn: Spawn,
        monkeypatch: pytest.MonkeyPatch) -> None:
    concurrency = 4  # four jobs in flight; the other six wait for a slot
    process = spawn(slow_sandbox, "--concurrency", str(concurrency))

    def polling() -> bool:
        rows = journal_rows(project)
        return (len(rows) == concurrency and all(row.status is Status.PENDING for row in rows)
                and len(slow_sandbox.ledger.queries) == concurrency)

    wait_for(polling, process, project)
    created_at_signal = len(slow_sandbox.ledger.creates)
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=DEADLINE_S) == 130
    slow_sandbox.stop()
    assert len(slow_sandbox.ledger.creates) == created_at_signal == concurrency  # none after
    stdout, stderr = output(project)
    assert "stopping: no new jobs will be submitted" in stderr
    assert "run the same command again to resume" in stdout
    # four jobs in flight, one of them also serving jp-wide/teaser (the same request)
    assert "pending: 5" in stdout and "not started: 7" in stdout
    assert "Traceback" not in stdout + stderr
    rerun_picks_up_the_paid_jobs(project, slow_sandbox, sandbox, monkeypatch, concurrency)

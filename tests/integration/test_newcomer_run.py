"""`storyboard run` mistakes a newcomer made (issue 7, item 6), against a loopback sandbox:
each refused before the plan prints and before anything is sent, in one line."""

from __future__ import annotations

import os
import pty
import select
import signal
import sys
import time
from pathlib import Path

import pytest

from storyboard.api.sandbox import Faults, Sandbox

from .conftest import REPO, Project, run_cli, start_sandbox


@pytest.mark.parametrize("options", [["--sandbox-fault", "http503=0.2"],
                                     ["--sandbox-latency", "0.5-3"]])
def test_sandbox_options_without_sandbox_are_refused_before_anything_is_sent(
        options: list[str], project: Project, sandbox: Sandbox,
        monkeypatch: pytest.MonkeyPatch) -> None:
    result = run_cli(sandbox, monkeypatch, project.storyboard("launch.yaml"), *options)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (f"error: {options[0]} only applies with --sandbox; add --sandbox "
                             "to try it, or remove it to run against the real API\n")
    assert sandbox.ledger.creates == ()


@pytest.mark.parametrize(("options", "line"), [
    (["--sandbox-fault", "http5O3=0.2"],
     "error: unknown fault 'http5O3'; valid: "),
    (["--sandbox-fault", "http503=2"],
     "error: fault rate http503=2.0 must be between 0 and 1\n"),
    (["--sandbox-latency", "fast"],
     "error: bad latency 'fast'; use "),
])
def test_a_bad_fault_or_latency_spec_is_refused_before_the_plan_prints(
        options: list[str], line: str, project: Project, sandbox: Sandbox,
        monkeypatch: pytest.MonkeyPatch) -> None:
    result = run_cli(sandbox, monkeypatch, project.storyboard("launch.yaml"), "--sandbox",
                     *options)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.startswith(line) and result.stderr.count("\n") == 1
    assert not (project.root / ".storyboard").exists()


def test_only_matching_nothing_exits_2_naming_ids_that_exist(
        project: Project, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    result = run_cli(sandbox, monkeypatch, project.storyboard("launch.yaml"), "--only", "uk-*")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        "error: --only 'uk-*' matches none of the 12 generations; ids look like "
        "us-wide/hero, us-tall/hero, jp-wide/hero (and 9 more)\n")
    assert sandbox.ledger.creates == ()


UNKNOWN_REASON = ("the create was sent but the connection dropped before the reply, so the "
                  "job may exist and be charged; not sent again — check with the provider, then "
                  "rerun with --resubmit-unknown to render it")


def test_outcome_unknown_is_one_sentence_without_library_text(
        project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    server = start_sandbox(faults=Faults(drop_after=1.0))
    try:
        first = run_cli(server, monkeypatch, project.storyboard("sequence.yaml"))
        second = run_cli(server, monkeypatch, project.storyboard("sequence.yaml"))
    finally:
        server.stop()
    for result in (first, second):
        assert result.exit_code == 1
        summary = result.stdout.split("\nSummary\n", 1)[1].splitlines()
        assert summary[:4] == ["  unknown: 3",
                               f"    default/titles.1: {UNKNOWN_REASON}",
                               f"    default/titles.2: {UNKNOWN_REASON}",
                               f"    default/titles.3: {UNKNOWN_REASON}"]
        assert "Error" not in result.stdout + result.stderr  # no httpx exception names
    assert len(server.ledger.creates) == 3  # and nothing was sent twice


# ----------------------------------------------------- the confirmation on a terminal


def _on_a_terminal(project: Project, answer: bytes) -> tuple[int, str]:
    """`storyboard run launch.yaml --sandbox` on a real terminal: wait for the question,
    type ``answer`` (Ctrl-C is the byte 0x03, turned into SIGINT by the terminal)."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: a process whose controlling terminal is the pty
        os.chdir(project.root)
        os.environ.pop("SHORTAPI_KEY", None)
        os.environ["PYTHONPATH"] = str(REPO)
        os.execv(sys.executable, [sys.executable, "-m", "storyboard", "run", "launch.yaml",
                                  "--sandbox"])
    seen, answered = b"", False
    try:
        while True:
            ready, _, _ = select.select([fd], [], [], 60)
            if not ready:
                os.kill(pid, signal.SIGKILL)
                pytest.fail(f"no question within 60 s:\n{seen.decode(errors='replace')}")
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # the child exited and closed the terminal
                break
            if not chunk:
                break
            seen += chunk
            if not answered and b"[y/N]: " in seen:
                _wait_until_reading(pid)
                os.write(fd, answer)
                answered = True
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    return os.waitstatus_to_exitcode(status), seen.decode("utf-8", "replace")


def _wait_until_reading(pid: int) -> None:
    """Wait until the question's reader is blocked reading the terminal, as it is when a
    person answers: a Ctrl-C that lands between the prompt and the read() (microseconds
    apart) is only noticed at the next input, a race no person can win."""
    stat = Path(f"/proc/{pid}/stat")
    deadline = time.monotonic() + 30
    while stat.exists() and time.monotonic() < deadline:
        state = stat.read_text().rsplit(")", 1)[1].split()[0]
        if state == "S":  # asleep: the prompt is written, so this is the read
            return
        select.select([], [], [], 0.005)


def test_ctrl_c_at_the_confirmation_exits_130_and_sends_nothing(project: Project) -> None:
    code, screen = _on_a_terminal(project, b"\x03")
    assert code == 130, screen
    assert screen.rstrip().endswith("interrupted at the confirmation; nothing was submitted")
    assert "Aborted" not in screen
    assert not (project.root / "renders").exists()


def test_declining_the_confirmation_exits_2_and_sends_nothing(project: Project) -> None:
    code, screen = _on_a_terminal(project, b"n\r")
    assert code == 2, screen
    assert screen.rstrip().endswith("error: cancelled; nothing was submitted")
    assert not (project.root / "renders").exists()

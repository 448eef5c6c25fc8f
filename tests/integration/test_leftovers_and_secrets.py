"""What a killed run leaves behind is removed by the next one, and no secret is written.

A run killed (SIGKILL, in its own process) at the moment it renames a render or the
manifest into place leaves its temporary file; the rerun removes stale ones of ours
and only those. A result URL that carries the API key is stored redacted.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from storyboard.api.sandbox import Sandbox
from storyboard.journal.sqlite import Journal

from .conftest import FAKE_KEY, FAST, REPO, Project, run_cli, start_sandbox

NAME = "aurora-launch"

# Runs `storyboard run` (one job at a time) with os.replace patched to SIGKILL the process
# when it is about to rename a temporary onto a file named *argv[1]: a kill in publishing.
KILL_WHILE_PUBLISHING = """
import os, signal, sys
suffix = sys.argv.pop(1)
real = os.replace
def dying(src, dst, *args, **kwargs):
    if str(src).endswith(".tmp") and str(dst).endswith(suffix):
        os.kill(os.getpid(), signal.SIGKILL)
    return real(src, dst, *args, **kwargs)
os.replace = dying
from storyboard.cli import main
sys.argv[0] = "storyboard"
main()
"""


def killed_while_publishing(project: Project, sandbox: Sandbox, suffix: str) -> None:
    env = {**os.environ, "SHORTAPI_KEY": FAKE_KEY, "PYTHONPATH": str(REPO)}
    process = subprocess.run(
        [sys.executable, "-c", KILL_WHILE_PUBLISHING, suffix, "run",
         str(project.storyboard("launch.yaml")), "--yes", "--api-base", sandbox.base_url,
         *FAST, "--concurrency", "1"],
        cwd=project.root, env=env, capture_output=True, text=True, timeout=120)
    assert process.returncode == -signal.SIGKILL, process.stderr


def temporaries(project: Project) -> list[Path]:
    return sorted(project.renders(NAME).rglob("*.tmp"))


@pytest.mark.parametrize(("suffix", "left"), [
    (".mp4", r"\.[a-z]+\.mp4\.[0-9]+\.tmp"),
    ("manifest.json", r"\.manifest\.json\.[0-9]+\.\w+\.tmp"),
    ("us-wide.mp4", r"\.us-wide\.mp4\.[0-9]+\.tmp"),  # publishing a final cut
])
def test_a_kill_inside_publishing_leaves_temporaries_the_rerun_removes(
        project: Project, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch,
        suffix: str, left: str) -> None:
    import re

    killed_while_publishing(project, sandbox, suffix)
    leftovers = temporaries(project)
    assert len(leftovers) == 1 and re.fullmatch(left, leftovers[0].name), leftovers
    # someone else's file, and a temporary whose writer is alive and writing now: kept
    notes = project.renders(NAME) / ".notes.tmp"
    notes.write_text("not ours")
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]) as live:
        busy = project.renders(NAME) / f".manifest.json.{live.pid}.abc123.tmp"
        busy.write_text("{}")
        future = time.time() + 600
        os.utime(busy, (future, future))
        try:
            rerun = run_cli(sandbox, monkeypatch, project.storyboard("launch.yaml"))
        finally:
            live.kill()
    # the next job's create may have been cut off by the kill: its outcome is unknown
    if suffix != ".mp4":
        assert rerun.exit_code == 0, rerun.stdout + rerun.stderr
    assert "Traceback" not in rerun.stdout + rerun.stderr
    assert temporaries(project) == sorted([notes, busy])
    assert sandbox.ledger.duplicates() == {}  # nothing paid twice


def test_a_result_url_carrying_the_key_is_never_written(
        project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    server = start_sandbox(key_in_url=True)
    try:
        result = run_cli(server, monkeypatch, project.storyboard("launch.yaml"))
    finally:
        server.stop()
    assert result.exit_code == 0, result.stdout + result.stderr
    with Journal.open(project.root / ".storyboard", exclusive=False) as journal:
        urls = [a.url for a in journal.attempts()]
    assert len(urls) == 10
    assert all(url and "key=[redacted]" in url and FAKE_KEY not in url for url in urls), urls
    assert FAKE_KEY not in result.stdout + result.stderr
    written = [p for p in project.root.rglob("*") if p.is_file()]
    assert any(p.name == "journal.sqlite3-wal" or p.name == "journal.sqlite3" for p in written)
    leaks = [p for p in written if FAKE_KEY.encode() in p.read_bytes()]
    assert leaks == []

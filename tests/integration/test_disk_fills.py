"""A disk that fills up mid-run, for real: the state folder is a small tmpfs (in a private
mount namespace), and the moment a create is on the wire the disk is filled. The job id
the journal can no longer take is kept beside the renders (the state folder is full too),
the run submits nothing more, and the next run adopts the job: nothing is paid twice.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from storyboard.api.sandbox import Faults

from .conftest import FAKE_KEY, FAST, REPO, Project, run_cli, start_sandbox
from .test_before_creating import needs_mounts

# Runs inside the namespace: start the run, wait for a create in flight (a 'submitting'
# row), fill the tmpfs, wait for the run to end, copy the state folder out, report.
DRIVER = r"""
import json, shutil, subprocess, sys, time
from pathlib import Path
from storyboard.journal.sqlite import Journal, Status
state, keep, command = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:]
run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
deadline = time.monotonic() + 60
def in_flight():
    if not (state / "journal.sqlite3").exists():
        return False
    with Journal.open(state, exclusive=False) as journal:
        return any(a.status is Status.SUBMITTING for a in journal.attempts())
while not in_flight():
    assert run.poll() is None and time.monotonic() < deadline, "no create in flight"
    time.sleep(0.01)
with open(state / "filler", "wb") as f:
    try:
        while True:
            f.write(b"\0" * (1 << 20))
            f.flush()
    except OSError:
        pass
out, err = run.communicate(timeout=120)
(state / "filler").unlink()
shutil.copytree(state, keep)
print(json.dumps({"code": run.returncode, "stdout": out, "stderr": err}))
"""


@needs_mounts
def test_a_disk_filling_while_a_create_is_on_the_wire_loses_no_job_id(
        project: Project, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # every call answers after 1.5 s: time to fill the disk while a create is on the wire
    slow = start_sandbox(faults=Faults(slow=1.0, slow_seconds=1.5))
    state, kept, out = tmp_path / "state", tmp_path / "kept-state", tmp_path / "renders"
    state.mkdir()
    command = [sys.executable, "-m", "storyboard", "run", str(project.storyboard("launch.yaml")),
               "--yes", "--api-base", slow.base_url, *FAST, "--only", "us-wide/*",
               "--concurrency", "1", "--state", str(state), "--out", str(out)]
    mount = f"mount -t tmpfs -o size=64m tmpfs {shlex.quote(str(state))}"
    env = {**os.environ, "SHORTAPI_KEY": FAKE_KEY, "PYTHONPATH": str(REPO)}
    try:
        driver = subprocess.run(
            ["unshare", "-rm", "sh", "-c", f'{mount} && exec "$@"', "sh", sys.executable,
             "-c", DRIVER, str(state), str(kept), *command],
            env=env, capture_output=True, text=True, timeout=180)
        assert driver.returncode == 0, driver.stderr
        first = json.loads(driver.stdout)
        created = [c.job_id for c in slow.ledger.creates]
    finally:
        slow.stop()
    assert first["code"] == 1, first
    assert len(created) == 1  # the one on the wire; nothing submitted after the disk filled
    [job] = created
    rescue = out / "aurora-launch" / ".storyboard-rescue.jsonl"  # the state folder was full
    assert [json.loads(line)["job_id"] for line in rescue.read_text().splitlines()] == [job]
    assert (f"job {job} was created (it may be charged) but the journal could not record it"
            in first["stdout"])
    assert f"kept in {rescue} for the next run to adopt" in first["stdout"]
    assert "not started: 2" in first["stdout"]

    sandbox = start_sandbox()  # the provider finished the job meanwhile
    try:
        rerun = run_cli(sandbox, monkeypatch, project.storyboard("launch.yaml"),
                        "--only", "us-wide/*", "--state", kept, "--out", out)
        assert rerun.exit_code == 0, rerun.stdout + rerun.stderr
        assert f"note: journaled 1 job id that a previous run could not record ({job})" \
            in rerun.stderr
        assert set(sandbox.ledger.restored) == {job}  # polled by its id, not created again
        assert len(sandbox.ledger.creates) == 2 and "delivered: 3" in rerun.stdout
        assert not rescue.exists()
    finally:
        sandbox.stop()

"""Before the first create: a read-only or full folder is refused with nothing paid, and
two state folders never publish into one renders folder.

Full and read-only folders are real: a small tmpfs mounted in a private mount namespace
(``unshare -rm``, no privileges needed where user namespaces are on), with `storyboard
run` inside it talking to the loopback sandbox in this process.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from storyboard.api.sandbox import Sandbox

from .conftest import FAKE_KEY, FAST, REPO, Project, run_cli

NAME = "aurora-launch"


def _namespaces_work() -> bool:
    """Whether this machine lets us mount a tmpfs in a private mount namespace."""
    if shutil.which("unshare") is None:
        return False
    with tempfile.TemporaryDirectory() as folder:
        probe = subprocess.run(["unshare", "-rm", "mount", "-t", "tmpfs", "tmpfs", folder],
                               capture_output=True)
    return probe.returncode == 0


needs_mounts = pytest.mark.skipif(not _namespaces_work(),
                                  reason="no unprivileged mount namespaces here")


def run_on_tmpfs(project: Project, sandbox: Sandbox, folder: Path, *, size: str,
                 read_only: bool, option: str) -> subprocess.CompletedProcess[str]:
    """`storyboard run launch.yaml OPTION FOLDER` with FOLDER a fresh tmpfs of SIZE."""
    folder.mkdir()
    mount = f"mount -t tmpfs -o size={size} tmpfs {shlex.quote(str(folder))}"
    if read_only:
        mount += f" && mount -o remount,ro {shlex.quote(str(folder))}"
    command = [sys.executable, "-m", "storyboard", "run", str(project.storyboard("launch.yaml")),
               "--yes", "--api-base", sandbox.base_url, *FAST, option, str(folder)]
    env = {**os.environ, "SHORTAPI_KEY": FAKE_KEY, "PYTHONPATH": str(REPO)}
    return subprocess.run(["unshare", "-rm", "sh", "-c", f'{mount} && exec "$@"', "sh",
                           *command], env=env, capture_output=True, text=True, timeout=120)


@needs_mounts
@pytest.mark.parametrize(("option", "size", "read_only", "line"), [
    ("--out", "1m", True, "cannot write in the renders folder (--out): Read-only file system"),
    ("--out", "1m", False, "not enough free space in the renders folder (--out) for this "
                           "run's downloads: 1.0 MB free, 10 videos may take up to 172.8 MB"),
    ("--state", "4m", False, "not enough free space in the state folder's cache (--state) "
                             "for this run's downloads: "),
])
def test_a_read_only_or_full_folder_is_refused_before_anything_is_paid(
        project: Project, sandbox: Sandbox, option: str, size: str, read_only: bool,
        line: str) -> None:
    folder = project.root / "small"
    result = run_on_tmpfs(project, sandbox, folder, size=size, read_only=read_only,
                          option=option)
    assert result.returncode == 1, result.stdout + result.stderr
    [error] = result.stderr.splitlines()
    assert error.startswith("error: ") and line in error and error.endswith(
        "; nothing was sent"), error
    assert len(sandbox.ledger.creates) == 0


def test_two_state_folders_never_publish_into_one_renders_folder(
        project: Project, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    out = tmp_path / "shared-renders"
    first = run_cli(sandbox, monkeypatch, project.storyboard("launch.yaml"),
                    "--state", tmp_path / "state-a", "--out", out)
    assert first.exit_code == 0, first.stdout + first.stderr
    manifest = (out / NAME / "manifest.json").read_bytes()

    second = run_cli(sandbox, monkeypatch, project.storyboard("launch.yaml"),
                     "--state", tmp_path / "state-b", "--out", out)
    assert second.exit_code == 2
    [error] = second.stderr.splitlines()
    assert error == (
        f"error: {out / NAME}: these renders are published from the state folder "
        f"{tmp_path / 'state-a'}, not {tmp_path / 'state-b'}; two states in one renders "
        "folder render everything twice and overwrite each other's manifest. Pass --state "
        f"{tmp_path / 'state-a'}, or another --out (or delete {out / NAME / '.storyboard-state'} "
        "to hand the folder over); nothing was sent")
    assert len(sandbox.ledger.creates) == 10  # the first run's only
    assert (out / NAME / "manifest.json").read_bytes() == manifest

    again = run_cli(sandbox, monkeypatch, project.storyboard("launch.yaml"),
                    "--state", tmp_path / "state-a", "--out", out)
    assert again.exit_code == 0 and "reused: 12" in again.stdout
    owner = json.loads((out / NAME / ".storyboard-state").read_text())
    assert owner["path"] == "../../state-a"  # relative: no absolute path in what is written

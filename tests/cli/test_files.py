"""What storyboard writes is git-friendly and shareable (issue 7, item 7): `init` ignores
state and renders, no generated file holds an absolute path, and every file honours the
user's umask (they were 0600: unreadable by teammates or a web server)."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from storyboard.cli import cli

GITIGNORE = """\
# storyboard: state and renders are rebuilt from the journal, never committed
.storyboard/
renders/
"""


def run(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        result.exception, result.stdout, result.stderr)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def umask() -> Iterator[None]:
    """Each test sets its own umask; the process's is restored afterwards."""
    saved = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(saved)


def test_init_writes_a_gitignore_for_state_and_renders(tmp_path: Path) -> None:
    code, _, err = run("init", tmp_path / "video")
    assert code == 0
    assert (tmp_path / "video" / ".gitignore").read_text(encoding="utf-8") == GITIGNORE
    assert f"wrote {tmp_path / 'video' / '.gitignore'}" in err


def test_init_adds_to_an_existing_gitignore_once(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("node_modules/\nrenders/\n", encoding="utf-8")
    assert run("init", tmp_path)[0] == 0
    assert run("init", tmp_path, "--force")[0] == 0
    assert (tmp_path / ".gitignore").read_text(encoding="utf-8") == (
        "node_modules/\nrenders/\n"
        "# storyboard: state and renders are rebuilt from the journal, never committed\n"
        ".storyboard/\n")


def test_after_init_and_a_run_git_sees_only_what_to_commit(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    assert run("init", tmp_path)[0] == 0
    code, out, err = run("run", tmp_path / "storyboard.yaml", "--sandbox", "--yes",
                         "--sandbox-latency", "0.05")
    assert code == 0, out + err
    assert (tmp_path / "renders").is_dir() and (tmp_path / ".storyboard").is_dir()
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"],
                            cwd=tmp_path, check=True, capture_output=True, text=True).stdout
    assert sorted(status.splitlines()) == ["?? .gitignore", "?? storyboard.schema.json",
                                           "?? storyboard.yaml"]


def _generated(root: Path) -> list[Path]:
    """Every file storyboard wrote under ``root`` that a user opens or shares."""
    return sorted(p for p in root.rglob("*") if p.is_file()
                  and "cache" not in p.parts and p.suffix not in (".mp4", ".jpg")
                  and p.name != "lock"
                  and not p.name.startswith("journal.sqlite3"))


def test_no_generated_file_holds_an_absolute_path(tmp_path: Path) -> None:
    project = tmp_path / "project"
    assert run("init", project)[0] == 0
    storyboard = project / "storyboard.yaml"
    assert run("plan", storyboard, "--out", project / "plan.json")[0] == 0
    assert run("run", storyboard, "--sandbox", "--yes", "--sandbox-latency", "0.05")[0] == 0
    files = _generated(project)
    assert {p.relative_to(project).as_posix() for p in files} >= {
        "storyboard.yaml", "storyboard.schema.json", ".gitignore", "plan.json",
        "renders/sandbox/project/manifest.json"}
    holding = [p for p in files if str(tmp_path) in p.read_text(encoding="utf-8")]
    assert holding == []
    journal = sqlite3.connect(project / ".storyboard" / "sandbox" / "journal.sqlite3")
    try:
        rows = journal.execute("SELECT file FROM attempts").fetchall()
    finally:
        journal.close()
    assert len(rows) == 4
    assert all(file.startswith("cache/") and file.endswith(".mp4") for (file,) in rows)


def test_a_saved_plan_runs_from_its_own_folder_whatever_the_directory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Its storyboard folder is written relative to the plan file, and read back so."""
    project = tmp_path / "project"
    assert run("init", project)[0] == 0
    monkeypatch.chdir(tmp_path)
    assert run("plan", "project/storyboard.yaml", "--out", "project/plans/plan.json")[0] == 0
    moved = tmp_path / "moved"
    project.rename(moved)
    monkeypatch.chdir(moved / "plans")
    code, out, err = run("run", "plan.json", "--sandbox", "--yes", "--sandbox-latency", "0.05")
    assert code == 0, out + err
    assert (moved / "renders" / "sandbox" / "project" / "manifest.json").is_file()


@pytest.mark.parametrize(("mask", "mode"), [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)],
                         ids=["umask-022", "umask-002", "umask-077"])
def test_every_file_honours_the_umask(mask: int, mode: int, tmp_path: Path,
                                      umask: None) -> None:
    os.umask(mask)
    project = tmp_path / "project"
    assert run("init", project)[0] == 0
    storyboard = project / "storyboard.yaml"
    assert run("plan", storyboard, "--out", project / "plan.json")[0] == 0
    assert run("run", storyboard, "--sandbox", "--yes", "--sandbox-latency", "0.05")[0] == 0
    videos = sorted((project / "renders").rglob("*.mp4"))
    cached = sorted((project / ".storyboard").rglob("*.mp4"))
    assert len(videos) == 4 + 2 and len(cached) == 4 + 2  # four clips, two final cuts
    modes = {p.relative_to(project).as_posix(): oct(stat.S_IMODE(p.stat().st_mode))
             for p in [*_generated(project), *videos, *cached]}
    assert set(modes.values()) == {oct(mode)}, modes


def test_a_saved_plan_whose_storyboard_moved_is_refused_by_run_but_still_diffs(
        tmp_path: Path) -> None:
    project = tmp_path / "project"
    assert run("init", project)[0] == 0
    assert run("plan", project / "storyboard.yaml", "--out", tmp_path / "old.json")[0] == 0
    assert run("plan", project / "storyboard.yaml", "--out", project / "new.json")[0] == 0
    project.rename(tmp_path / "elsewhere")
    code, out, err = run("run", tmp_path / "old.json", "--sandbox", "--yes")
    assert (code, out) == (2, "")
    assert err == (f"error: {tmp_path / 'old.json'}: its storyboard "
                   f"{tmp_path / 'project' / 'storyboard.yaml'} is not there (a plan names its "
                   "folder relative to the plan file); keep the plan where it was saved, or "
                   "regenerate the plan with `storyboard plan STORYBOARD --out PLAN.json`\n")
    assert not (tmp_path / "project").exists()  # no fresh state made beside nothing
    code, out, _ = run("diff", tmp_path / "old.json", tmp_path / "elsewhere" / "new.json")
    assert code == 0 and "unchanged" in out

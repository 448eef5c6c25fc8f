"""The hooks in .pre-commit-hooks.yaml, run by the real pre-commit as a user's repo runs them.

pre-commit clones a hook repository at a commit and pip-installs it into a venv of its
own. ``pre-commit try-repo`` would do that for this checkout, but it only carries over
changes to tracked files (a new ``.pre-commit-hooks.yaml`` would be missing) and builds
a fresh venv on every call. So the working tree (tracked and untracked, minus what git
ignores) is committed once per session into a scratch repository, and every test points
a ``.pre-commit-config.yaml`` at that commit with one shared ``PRE_COMMIT_HOME``: the
venv is built once (pip needs PyPI for the dependencies, ~10 s) and reused.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
GIT_USER = ["-c", "user.name=storyboard tests", "-c", "user.email=tests@storyboard.invalid",
            "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main"]

GOOD = """\
storyboard: 1
name: good
clips:
  - id: hero
    prompt: "A lamp on a desk"
    duration: 5
"""
BAD = """\
storyboard: 1
name: bad
clips:
  - id: hero
    promt: "A lamp on a desk"
"""
PRICEY = """\
storyboard: 1
name: pricey
budget:
  max_cost_usd: 1
clips:
  - id: hero
    prompt: "A lamp on a desk"
    duration: 15
"""


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *GIT_USER, *args], cwd=cwd, check=True,
                          capture_output=True, text=True)
    return done.stdout


@pytest.fixture(scope="session")
def hook_repo(tmp_path_factory: pytest.TempPathFactory,
              tracked_copy: Callable[..., Path]) -> tuple[Path, str]:
    """This working tree, uncommitted changes included, as one commit pre-commit can clone."""
    snapshot = tracked_copy(REPO, tmp_path_factory.mktemp("hook-repo"))
    _git(snapshot, "init", "-q")
    _git(snapshot, "add", "-A")
    _git(snapshot, "commit", "-q", "-m", "snapshot of the working tree")
    return snapshot, _git(snapshot, "rev-parse", "HEAD").strip()


@pytest.fixture(scope="session")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


@pytest.fixture
def project(tmp_path: Path, hook_repo: tuple[Path, str]) -> Path:
    """A user's repository whose .pre-commit-config.yaml uses both storyboard hooks."""
    repo, rev = hook_repo
    root = tmp_path / "project"
    root.mkdir()
    _git(root, "init", "-q")
    (root / ".pre-commit-config.yaml").write_text(
        f"repos:\n"
        f"  - repo: {repo}\n"
        f"    rev: {rev}\n"
        f"    hooks:\n"
        f"      - id: storyboard-validate\n"
        f"      - id: storyboard-budget\n",
        encoding="utf-8",
    )
    for name, text in {"good.storyboard.yaml": GOOD, "bad.storyboard.yaml": BAD,
                       "video/storyboard.yaml": PRICEY}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    _git(root, "add", "-A")
    return root


def pre_commit(project: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("SKIP", "VIRTUAL_ENV")}
    env["PRE_COMMIT_HOME"] = str(home)
    done = subprocess.run([sys.executable, "-m", "pre_commit", "run", "--color", "never", *args],
                          cwd=project, env=env, capture_output=True, text=True, timeout=300)
    if "An unexpected error has occurred" in done.stdout + done.stderr:
        log = home / "pre-commit.log"
        pytest.fail(f"pre-commit itself failed:\n{done.stdout}{done.stderr}\n"
                    f"{log.read_text() if log.exists() else ''}")
    return done


def test_the_manifest_is_valid() -> None:
    done = subprocess.run([sys.executable, "-m", "pre_commit", "validate-manifest",
                           str(REPO / ".pre-commit-hooks.yaml")], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_validate_hook_passes_a_good_storyboard(project: Path, pre_commit_home: Path) -> None:
    done = pre_commit(project, pre_commit_home, "storyboard-validate",
                      "--files", "good.storyboard.yaml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "storyboard validate" in done.stdout and "Passed" in done.stdout


def test_validate_hook_fails_with_the_exact_error_line(project: Path,
                                                        pre_commit_home: Path) -> None:
    done = pre_commit(project, pre_commit_home, "storyboard-validate",
                      "--files", "good.storyboard.yaml", "bad.storyboard.yaml")
    assert done.returncode == 1, done.stdout + done.stderr
    assert ("bad.storyboard.yaml:5:5: error: unknown key 'promt'; did you mean 'prompt'? "
            "(at $.clips[0].promt)") in done.stdout.splitlines()


def test_budget_hook_fails_over_budget(project: Path, pre_commit_home: Path) -> None:
    within = pre_commit(project, pre_commit_home, "storyboard-budget",
                        "--files", "good.storyboard.yaml")
    assert within.returncode == 0, within.stdout + within.stderr

    over = pre_commit(project, pre_commit_home, "storyboard-budget",
                      "--files", "good.storyboard.yaml", "video/storyboard.yaml")
    assert over.returncode == 1, over.stdout + over.stderr
    assert ("error: $0.00 spent so far + $1.425 due now = $1.425, over the budget of $1.00 "
            "(budget.max_cost_usd at video/storyboard.yaml:4:17); raise budget.max_cost_usd "
            "to at least 1.425 or render less") in over.stdout.splitlines()


def test_hooks_only_see_files_named_as_storyboards(project: Path, pre_commit_home: Path) -> None:
    (project / "notes.yaml").write_text("storyboard: [not, one\n", encoding="utf-8")
    (project / "bad.storyboard.yaml").unlink()
    _git(project, "add", "-A")
    done = pre_commit(project, pre_commit_home, "--all-files")
    assert "notes.yaml" not in done.stdout
    # the over-budget storyboard still fails its hook; the good one passes both
    assert done.returncode == 1, done.stdout + done.stderr
    assert "storyboard validate" in done.stdout
    lines = done.stdout.splitlines()
    assert any(line.startswith("storyboard validate") and line.endswith("Passed")
               for line in lines), done.stdout
    assert any(line.startswith("storyboard budget") and line.endswith("Failed")
               for line in lines), done.stdout

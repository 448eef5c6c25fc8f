"""A storyboard as it was at a git ref: the file, its includes and its data files.

``git archive`` writes the storyboard's folder as it was at the ref into a temporary
directory, so the ordinary compile pipeline reads the old storyboard, its
``{% include %}`` files and its ``rows:`` files exactly as committed — nothing is
re-implemented for git, and the working tree is never touched.
"""

from __future__ import annotations

import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from storyboard.errors import UsageError

GIT_TIMEOUT_S = 60


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The storyboard at ``ref``: ``path`` to compile (None when the ref lacks it)."""

    ref: str
    display: str  # REF:path/in/repo.yaml, for messages
    path: Path | None


def _git(args: list[str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True,
                              timeout=GIT_TIMEOUT_S, check=False)
    except FileNotFoundError:
        raise UsageError("--against needs git, and git is not installed") from None
    except subprocess.TimeoutExpired:
        raise UsageError(f"git {' '.join(args)} took over {GIT_TIMEOUT_S} s") from None


def _text(result: subprocess.CompletedProcess[bytes]) -> str:
    return result.stderr.decode("utf-8", "replace").strip().splitlines()[-1:][0] \
        if result.stderr.strip() else f"git exited with {result.returncode}"


def repo_root(folder: Path) -> Path:
    result = _git(["rev-parse", "--show-toplevel"], folder)
    if result.returncode != 0:
        said = _text(result)
        if "not a git repository" not in said:  # e.g. git's "dubious ownership" in CI
            raise UsageError(f"git cannot read the repository at {folder}: {said}")
        raise UsageError(f"{folder} is not inside a git repository, so there is no ref to "
                         "compare with; use `storyboard diff OLD NEW` for two files")
    return Path(result.stdout.decode().strip()).resolve()


@contextmanager
def checkout(storyboard: Path, ref: str) -> Iterator[Snapshot]:
    """The storyboard's folder as it was at ``ref``, in a temporary directory."""
    file = storyboard.resolve()
    root = repo_root(file.parent)
    relative = file.relative_to(root).as_posix()
    folder = file.parent.relative_to(root).as_posix()
    commit = _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], root)
    if commit.returncode != 0:
        raise UsageError(f"--against {ref}: no such commit, branch or tag in {root} "
                         "(in CI, fetch it first: git fetch origin <branch>)")
    display = f"{ref}:{relative}"
    exists = _git(["cat-file", "-e", f"{ref}:{relative}"], root)
    if exists.returncode != 0:
        yield Snapshot(ref, display, None)
        return
    with tempfile.TemporaryDirectory(prefix="storyboard-ref-") as tmp:
        tar_path = Path(tmp) / "ref.tar"  # on disk: the folder may hold large files
        archive = _git(["archive", "--format=tar", f"--output={tar_path}", ref, "--",
                        folder if folder != "." else "."], root)
        if archive.returncode != 0:
            raise UsageError(f"--against {ref}: cannot read {folder} at that ref: "
                             f"{_text(archive)}")
        tree = Path(tmp) / "tree"
        with tarfile.open(tar_path) as tar:
            tar.extractall(tree, filter=_inside)
        tar_path.unlink()
        yield Snapshot(ref, display, tree / relative)


def _inside(member: tarfile.TarInfo, dest: str) -> tarfile.TarInfo | None:
    """Tar's "data" filter, skipping what it refuses (a symlink to an absolute path or
    out of the folder) instead of failing: the old storyboard could not read through
    it anyway — includes and rows files stay inside the storyboard's folder."""
    try:
        return tarfile.data_filter(member, dest)
    except tarfile.FilterError:
        return None

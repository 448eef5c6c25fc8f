"""Files written so a crash never leaves half of one: temp file, fsync, atomic rename.

A temporary file is created 0600 (``tempfile.mkstemp``); the file it becomes gets the
mode any program's new file gets, ``0666 & ~umask``, so teammates and a web server can
read renders, manifests and plans as the user's umask allows.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from pathlib import Path


def write_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` completely or not at all."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    # the writer's pid in the name: a rerun can tell a dead writer's leftover (is_stale)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp",
                               dir=target.parent)
    try:
        os.fchmod(fd, new_file_mode())
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(target.parent)


_WRITER = re.compile(r"\.(?P<pid>[0-9]+)(?:\.[A-Za-z0-9_]+)?\.tmp\Z")


def is_stale(path: Path, started: float) -> bool:
    """A temporary file (``.<name>.<pid>[.<random>].tmp``) that no live writer will
    finish: older than ``started`` (the run that owns its folder now), or its writer's
    process is gone."""
    try:
        if path.stat().st_mtime < started:
            return True
    except OSError:
        return False
    writer = _WRITER.search(path.name)
    return writer is not None and not _alive(int(writer["pid"]))


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # someone else's process: alive
        return True
    return True


def file_sha256(path: Path) -> str | None:
    """The file's sha256 (hex), or None when it cannot be read."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
    except OSError:
        return None
    return digest.hexdigest()


def link_atomic(source: Path, target: Path) -> None:
    """Make ``target`` the same file as ``source`` (a hard link, else a copy), atomically:
    how a cached render or cut is published under ``renders/``."""
    with contextlib.suppress(OSError):
        if os.path.samefile(source, target):
            # Already published. (Renaming a second link to the same file onto it
            # would do nothing and leave the temporary name behind.)
            return
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        os.link(source, tmp)
    except OSError:
        tmp.write_bytes(source.read_bytes())
    os.replace(tmp, target)
    fsync_dir(target.parent)


def fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (POSIX; a no-op where directories can't be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def new_file_mode() -> int:
    """``0666 & ~umask``: what ``open()`` would have created."""
    return 0o666 & ~_umask()


def _umask() -> int:
    """The process's umask, read without changing it where the OS allows (Linux)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # the only portable way to read it is to set it
    os.umask(mask)
    return mask

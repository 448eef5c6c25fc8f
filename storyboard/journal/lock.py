"""One writer per local state folder: an ``flock`` on ``<state>/lock`` that the kernel drops
when the process ends, however it ends (no stale lock to remove by hand, ever)."""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from storyboard.errors import JournalLocked, StateError

LOCK_FILE = "lock"


def lock_folder(state_dir: Path, *, hint: str = "pass a different --state folder") -> int:
    """An exclusive, non-blocking flock on ``<state>/lock``; the kernel drops it at exit."""
    lock_path = state_dir / LOCK_FILE
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise StateError(f"{lock_path}: cannot open the lock file: {exc.strerror or exc}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _lock_holder(fd)
        os.close(fd)
        by = f" (pid {holder})" if holder else ""
        raise JournalLocked(
            f"{state_dir}: another storyboard run{by} is using this state folder; wait for it "
            f"to finish or stop it, or {hint}") from None
    except OSError as exc:
        os.close(fd)
        raise StateError(f"{lock_path}: cannot lock the state folder: "
                         f"{exc.strerror or exc}") from None
    with contextlib.suppress(OSError):  # who holds it, for the next one's message
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
    return fd


def _lock_holder(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None

"""Before the first paid create: the folders a run writes to can be written, have room
for what it will download, and the renders folder belongs to this state.

A read-only or full ``--out`` used to be found after every job was paid for; two state
folders publishing into one ``--out`` paid twice for the same renders and overwrote
each other's manifest. Both are refused here, with nothing sent.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from storyboard.errors import StateError, UsageError
from storyboard.execute.prepare import Action, Prepared
from storyboard.execute.workspace import Workspace
from storyboard.store import write_atomic

# What a downloaded video may take, per second of video (1080p pro, 720p std, with room
# to spare: real files run at about half of this). The provider publishes no sizes.
DOWNLOAD_BYTES_PER_SECOND = {"std": 1_000_000, "pro": 2_000_000}
MARGIN_BYTES = 16 * 1024 * 1024  # the journal, the manifest, temporaries
_DOWNLOADS = (Action.CREATE, Action.RESUME, Action.REFETCH)

DiskUsage = Callable[[Path], Any]  # shutil.disk_usage's shape: has .free


def check_before_creating(prepared: Prepared, workspace: Workspace, state_id: str, *,
                          disk_usage: DiskUsage = shutil.disk_usage) -> None:
    """Refuse (nothing sent) unless the run can keep what it will pay for."""
    cache = workspace.cache_dir
    renders = workspace.out_dir / workspace.name
    _writable(cache, "the render store (--store)" if isinstance(workspace.store, Path) else
              "the state folder's cache (--state)")
    _writable(renders, "the renders folder (--out)")
    claim(workspace, state_id)
    _room(prepared, cache, renders, disk_usage)


def claim(workspace: Workspace, state_id: str) -> None:
    """Record which state folder publishes into ``renders/<name>/``; refuse another one's.

    The same folder under a new id (recreated) or the same id at a new path (the project
    moved) is still the same state.
    """
    renders, owner = workspace.out_dir / workspace.name, workspace.owner_file
    mine = workspace.owner_record(state_id)
    if workspace.published_by_another():
        other = workspace.publisher()
        raise UsageError(
            f"{renders}: these renders are published from the state folder {other}, not "
            f"{workspace.state_dir.resolve()}; two states in one renders folder render "
            f"everything twice and overwrite each other's manifest. Pass --state {other}, or "
            f"another --out (or delete {owner} to hand the folder over); nothing was sent")
    if workspace.owner() != mine:
        data = json.dumps(mine, indent=2) + "\n"
        try:
            write_atomic(owner, data.encode("utf-8"))
        except OSError as exc:
            raise _cannot_write(renders, "the renders folder (--out)", exc) from None


def _writable(folder: Path, what: str) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=f".probe.{os.getpid()}.", suffix=".tmp", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise _cannot_write(folder, what, exc) from None


def _cannot_write(folder: Path, what: str, exc: OSError) -> StateError:
    return StateError(f"{folder}: cannot write in {what}: {exc.strerror or exc}; make it "
                      "writable or choose another folder; nothing was sent")


def _room(prepared: Prepared, cache: Path, renders: Path, disk_usage: DiskUsage) -> None:
    downloads = [t.item.generation for t in prepared.tasks if t.action in _DOWNLOADS]
    if not downloads:
        return
    needed = MARGIN_BYTES + sum(DOWNLOAD_BYTES_PER_SECOND.get(g.mode, 2_000_000) * g.seconds
                                for g in downloads)
    folders = [(cache, "the state folder's cache (--state)")]
    if os.stat(cache).st_dev != os.stat(renders).st_dev:  # published by copying, not linking
        folders.append((renders, "the renders folder (--out)"))
    for folder, what in folders:
        free = int(disk_usage(folder).free)
        if free < needed:
            raise StateError(
                f"{folder}: not enough free space in {what} for this run's downloads: "
                f"{_mb(free)} free, {len(downloads)} video{'s' * (len(downloads) != 1)} may "
                f"take up to {_mb(needed)}; free some space or choose a folder on a larger "
                "disk; nothing was sent")


def _mb(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"

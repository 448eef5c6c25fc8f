"""Where a storyboard's state and renders live, and whose renders (the API's or a sandbox's)
a run there makes and reads.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storyboard.execute.bucket import Bucket, bucket
from storyboard.execute.rescue import RESCUE_BESIDE_RENDERS, RESCUE_FILE
from storyboard.journal import (
    API,
    DEFAULT_LEASE,
    SANDBOX,
    Attempt,
    Journal,
    Status,
    Traces,
    is_database_url,
    open_journal,
)
from storyboard.journal.sqlite import state_id_of
from storyboard.model import (
    CANDIDATE_MARK,
    Generation,
)
from storyboard.plan.price import relative_path
from storyboard.store import link_atomic

STATE_DIR = ".storyboard"
RENDERS_DIR = "renders"
SANDBOX_DIR = "sandbox"
MAX_MANIFEST_BYTES = 64 * 1024 * 1024
OWNER_FILE = ".storyboard-state"  # in renders/<name>/: which state folder publishes there


@dataclass(frozen=True, slots=True)
class Workspace:
    """Where a storyboard's state and renders live (beside it unless moved), and whose
    renders a run there makes and reads: the real API's, or a sandbox's."""

    name: str
    state_dir: Path  # the local state folder: the journal (unless shared), cache, lock
    out_dir: Path
    sandbox: bool = False
    journal_url: str | None = None  # a shared journal (postgresql://…) instead of the folder's
    store: Path | str | None = None  # a shared render store: a folder, or s3://bucket/prefix
    lease: float = DEFAULT_LEASE  # a shared journal's claims: seconds they outlive a runner

    @classmethod
    def beside(cls, root: Path, name: str, *, state: Path | str | None = None,
               out: Path | None = None, sandbox: bool = False,
               store: Path | str | None = None) -> Workspace:
        """``.storyboard/`` and ``renders/`` beside the storyboard; a sandbox run keeps
        its own (``.storyboard/sandbox/``, ``renders/sandbox/``) so its placeholder
        videos never sit among real renders. Wherever the folders are, the journal's
        origins and the cache's names keep the two apart. ``state`` may name a shared
        journal (``postgresql://…``): the local folder then keeps only this runner's
        lock and files; ``store`` names a render store runners share."""
        sub = SANDBOX_DIR if sandbox else ""
        local = root / STATE_DIR / sub
        if is_database_url(state):
            return cls(name, local, out or root / RENDERS_DIR / sub, sandbox, str(state), store)
        return cls(name, Path(state) if state else local, out or root / RENDERS_DIR / sub,
                   sandbox, None, store)

    def open_journal(self, *, exclusive: bool = True, accept_lost: bool = False) -> Journal:
        """This workspace's journal: the shared one, or its state folder's."""
        if self.journal_url is not None:
            journal = open_journal(self.journal_url, exclusive=exclusive, local=self.state_dir,
                                   traces=self.traces, accept_lost=accept_lost, lease=self.lease)
            if exclusive and isinstance(self.store, Path):
                self._stock_store()
            return journal
        return open_journal(self.state_dir, exclusive=exclusive, traces=self.traces,
                            accept_lost=accept_lost)

    def _stock_store(self) -> None:
        """Videos this folder's cache holds that the shared store lacks go there (hard
        links where they can): what a runner downloaded before the team shared a store."""
        for cached in (self.state_dir / "cache").glob("*/*.mp4"):
            stored = self.cache_dir / cached.parent.name / cached.name
            if cached.is_file() and not stored.exists():
                link_atomic(cached, stored)

    def has_state(self) -> bool:
        """Whether anything was ever journaled here (a shared journal: always asked)."""
        return self.journal_url is not None or self.state_dir.is_dir()

    @property
    def origin(self) -> str:
        return SANDBOX if self.sandbox else API

    @property
    def cache_dir(self) -> Path:
        """Where finished videos are kept by request hash: a shared folder store, or the
        state folder's cache (which a bucket store mirrors)."""
        return self.store if isinstance(self.store, Path) else self.state_dir / "cache"

    @property
    def bucket(self) -> Bucket | None:
        return bucket(self.store) if isinstance(self.store, str) else None

    def from_store(self, attempt: Attempt) -> None:
        """A finished video the bucket store has and the cache lacks is fetched from it
        (the journal's sha256 is checked before it is used, as for any cached video)."""
        bucket = self.bucket
        cached = self.cache_file(attempt.hash)
        if bucket is not None and attempt.status is Status.DONE and not cached.is_file():
            bucket.fetch(self._store_name(cached), cached)

    def to_store(self, hash: str) -> None:
        """Put a finished video in the bucket store, unless it is there already."""
        bucket = self.bucket
        cached = self.cache_file(hash)
        if bucket is not None and cached.is_file():
            bucket.keep(self._store_name(cached), cached)

    def _store_name(self, cached: Path) -> str:
        return cached.relative_to(self.cache_dir).as_posix()

    def cache_name(self, cached: Path) -> str:
        """How the journal names a cached file: relative to the folder holding the cache
        (``cache/ab/<hash>.mp4``), never an absolute path."""
        return cached.relative_to(self.cache_dir.parent).as_posix()

    def cache_file(self, hash: str) -> Path:
        kind = ".sandbox" if self.sandbox else ""  # a placeholder never takes a render's name
        return self.cache_dir / hash[:2] / f"{hash}{kind}.mp4"

    def render_file(self, g: Generation) -> Path:
        """Where this try is published: the generation's own path when it is its only
        candidate, else ``<clip>[.<take>]~<n>.mp4`` (the own path then holds the keeper)."""
        keeper = self.keeper_file(g)
        if g.candidates < 2:
            return keeper
        return keeper.with_name(f"{keeper.stem}{CANDIDATE_MARK}{g.candidate}.mp4")

    def publish(self, g: Generation, cached: Path) -> Path:
        """Place the cached video at renders/<name>/<variant>/<clip>.mp4, atomically."""
        target = self.render_file(g)
        link_atomic(cached, target)
        return target

    def keeper_file(self, g: Generation) -> Path:
        take = "" if g.take is None else f".{g.take}"
        return self.out_dir / self.name / g.variant / f"{g.clip}{take}.mp4"

    @property
    def manifest(self) -> Path:
        return self.out_dir / self.name / "manifest.json"

    @property
    def rescue_files(self) -> tuple[Path, ...]:
        """Where job ids the journal could not take are kept (see rescue.py); beside the
        renders only while they are this state's."""
        beside = () if self.published_by_another() else (
            self.out_dir / self.name / RESCUE_BESIDE_RENDERS,)
        return (self.state_dir / RESCUE_FILE, *beside)

    @property
    def owner_file(self) -> Path:
        """Records which state folder publishes into ``renders/<name>/`` (see preflight)."""
        return self.out_dir / self.name / OWNER_FILE

    def owner(self) -> dict[str, Any] | None:
        """The record of which state folder publishes here: its id, and its path relative
        to ``renders/<name>/`` (no absolute path in a generated file)."""
        try:
            data = json.loads(self.owner_file.read_bytes()[:65536])
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) and isinstance(data.get("path"), str) else None

    def owner_record(self, state_id: str) -> dict[str, Any]:
        """This workspace's own record (see ``owner``)."""
        return {"state": state_id,
                "path": relative_path(self.state_dir, self.out_dir / self.name)}

    def publisher(self) -> Path | None:
        """The state folder ``renders/<name>/`` records as its publisher, if any."""
        owner = self.owner()
        return (self.out_dir / self.name / owner["path"]).resolve() if owner else None

    def published_by_another(self) -> bool:
        """Whether ``renders/<name>/`` records another state folder as its publisher: one
        with another path and another id (the same folder recreated, or moved with its
        project, is still this one)."""
        owner, publisher = self.owner(), self.publisher()
        return (owner is not None and publisher != self.state_dir.resolve()
                and owner.get("state") != state_id_of(self.state_dir))

    def traces(self) -> Traces:
        """What this workspace shows was journaled (for ``Journal.open`` to check); a
        manifest published from another state folder is that one's, not evidence."""
        cache = self.state_dir / "cache"  # a shared store holds other journals' videos too
        cached = 0 if isinstance(self.store, Path) else sum(
            1 for p in cache.glob("*/*.mp4") if p.is_file())
        if self.published_by_another():
            return Traces(cached)
        renders = self.out_dir / self.name
        published = sum(1 for p in renders.glob("*/*.mp4") if p.is_file())
        return Traces(cached, _job_ids_in(self.manifest), str(self.manifest), published,
                      str(renders))


def _job_ids_in(manifest: Path) -> frozenset[str]:
    """The job ids a published manifest lists (none when it is absent or unreadable)."""
    try:
        with manifest.open("rb") as f:
            data = json.loads(f.read(MAX_MANIFEST_BYTES))
    except (OSError, ValueError, RecursionError):
        return frozenset()
    if not isinstance(data, dict) or not isinstance(data.get("generations"), list):
        return frozenset()
    return frozenset(e["job_id"] for e in data["generations"]
                     if isinstance(e, dict) and isinstance(e.get("job_id"), str))


def same_file(a: Path, b: Path) -> bool:
    try:
        return a.is_file() and (os.path.samefile(a, b) or a.read_bytes() == b.read_bytes())
    except OSError:
        return False

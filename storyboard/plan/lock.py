"""The lock file: which candidate of each generation is the keeper, and re-rolled tries.

``<storyboard file name>.lock`` sits beside the storyboard and is meant to be committed,
so a pull request shows a changed pick or an added candidate like any other change. It
is JSON with sorted keys and two-space indents (a stable text diff)::

    {
      "generations": {
        "us-wide/hero": {
          "hash": "<request sha256>",
          "job_id": "…",
          "pick": 2,
          "rerolls": 1,
          "sha256": "<the picked render's sha256>"
        }
      },
      "storyboard-lock": 1
    }

An entry belongs to the request its ``hash`` names: when the clip's request changes (a
reworded prompt), its re-rolls and pick no longer apply and the plan starts again from
the storyboard's own ``candidates``. ``origin`` is ``sandbox`` for a pick among a
sandbox's placeholders (a real cut then follows only its number).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from storyboard.errors import UsageError
from storyboard.model import MAX_TRIES, Generation, candidate_key
from storyboard.store import write_atomic

LOCK_FORMAT = 1
LOCK_SUFFIX = ".lock"
MAX_LOCK_BYTES = 16 * 1024 * 1024
_HEX64 = re.compile(r"[0-9a-f]{64}\Z")
_ORIGINS = ("api", "sandbox")


@dataclass(frozen=True, slots=True)
class LockEntry:
    hash: str  # the request this entry is about
    rerolls: int = 0  # candidates added by `storyboard reroll`
    pick: int | None = None  # the keeper's candidate number
    sha256: str | None = None  # the keeper's render
    job_id: str | None = None  # the keeper's job: how to download it again
    origin: str = "api"


@dataclass(frozen=True, slots=True)
class Lock:
    path: Path
    entries: Mapping[str, LockEntry] = field(default_factory=dict)

    def entry(self, g: Generation) -> LockEntry | None:
        """The entry of ``g``'s generation, when it is about ``g``'s current request."""
        found = self.entries.get(g.base_id)
        return found if found is not None and found.hash == g.request_hash else None

    def picks(self, generations: Iterable[Generation]) -> dict[str, int]:
        """The pick of each generation (by ``base_id``) that has a current one."""
        found = {}
        for g in generations:
            entry = self.entry(g)
            if entry is not None and entry.pick is not None:
                found[g.base_id] = entry.pick
        return found

    def with_entry(self, generation_id: str, entry: LockEntry) -> Lock:
        return replace(self, entries={**self.entries, generation_id: entry})


def lock_path(storyboard: str | Path) -> Path:
    """``launch.yaml`` → ``launch.yaml.lock``, beside it."""
    path = Path(storyboard)
    return path.with_name(path.name + LOCK_SUFFIX)


def read_lock(path: Path) -> Lock:
    """The lock file at ``path`` (empty when there is none), checked: it is input."""
    try:
        with path.open("rb") as f:
            raw = f.read(MAX_LOCK_BYTES + 1)
    except FileNotFoundError:
        return Lock(path)
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the lock file: {exc.strerror or exc}") from exc
    if len(raw) > MAX_LOCK_BYTES:
        raise UsageError(f"{path}: the lock file is over {MAX_LOCK_BYTES // 2**20} MiB; "
                         "it is not one storyboard's picks")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise UsageError(f"{path}: the lock file is not valid JSON ({exc}); restore it from "
                         "git (`git checkout -- FILE.lock`)") from exc
    problems = list(_problems(data))
    if problems:
        raise UsageError("\n".join(f"{path}: {p}" for p in problems))
    entries = {gid: LockEntry(e["hash"], e.get("rerolls", 0), e.get("pick"), e.get("sha256"),
                              e.get("job_id"), e.get("origin", "api"))
               for gid, e in data["generations"].items()}
    return Lock(path, entries)


def _problems(data: Any) -> Iterator[str]:
    if not isinstance(data, dict) or data.get("storyboard-lock") != LOCK_FORMAT:
        yield (f'not a storyboard lock file (it starts with "storyboard-lock": {LOCK_FORMAT}); '
               "restore it from git or delete it to drop every pick")
        return
    generations = data.get("generations")
    if not isinstance(generations, dict):
        yield "generations must be an object of generation id → entry"
        return
    for gid, e in generations.items():
        where = f"generations.{gid}"
        if not isinstance(e, dict):
            yield f"{where} must be an object"
            continue
        if not (isinstance(e.get("hash"), str) and _HEX64.match(e["hash"])):
            yield f"{where}.hash must be the request's sha256 (64 lowercase hex digits)"
        rerolls = e.get("rerolls", 0)
        if not (type(rerolls) is int and 0 <= rerolls < MAX_TRIES):
            yield f"{where}.rerolls must be a whole number 0–{MAX_TRIES - 1}"
        pick = e.get("pick")
        if pick is not None and not (type(pick) is int and 1 <= pick <= MAX_TRIES):
            yield f"{where}.pick must be a candidate number 1–{MAX_TRIES}"
        sha = e.get("sha256")
        if sha is not None and not (isinstance(sha, str) and _HEX64.match(sha)):
            yield f"{where}.sha256 must be 64 lowercase hex digits"
        job = e.get("job_id")
        if job is not None and not (isinstance(job, str) and 0 < len(job) <= 200):
            yield f"{where}.job_id must be text"
        if e.get("origin", "api") not in _ORIGINS:
            yield f"{where}.origin must be one of {', '.join(_ORIGINS)}"
        unknown = sorted(set(e) - {"hash", "rerolls", "pick", "sha256", "job_id", "origin"})
        if unknown:
            yield f"{where}: unknown key {unknown[0]!r}"


def lock_text(lock: Lock) -> str:
    """The file's text: sorted keys, defaults left out, so one change is one diff hunk."""
    entries: dict[str, Any] = {}
    for gid, e in lock.entries.items():
        entry: dict[str, Any] = {"hash": e.hash}
        if e.rerolls:
            entry["rerolls"] = e.rerolls
        if e.pick is not None:
            entry.update(pick=e.pick, sha256=e.sha256, job_id=e.job_id)
            if e.origin != "api":
                entry["origin"] = e.origin
        if len(entry) > 1:
            entries[gid] = entry
    data = {"storyboard-lock": LOCK_FORMAT, "generations": entries}
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_lock(lock: Lock) -> None:
    write_atomic(lock.path, lock_text(lock).encode("utf-8"))


def with_rerolls(generations: Iterable[Generation], lock: Lock) -> Iterator[Generation]:
    """The storyboard's generations plus the candidates re-rolled into the lock file, each
    generation's tries together and numbered on from the storyboard's."""
    group: list[Generation] = []
    for g in generations:
        if group and g.base_id != group[0].base_id:
            yield from _tries(group, lock)
            group = []
        group.append(g)
    if group:
        yield from _tries(group, lock)


def _tries(group: list[Generation], lock: Lock) -> Iterator[Generation]:
    first = group[0]
    entry = lock.entry(first)
    if entry is None or not entry.rerolls:
        yield from group
        return
    total = min(len(group) + entry.rerolls, MAX_TRIES)
    for g in group:
        yield replace(g, candidates=total)
    for n in range(len(group) + 1, total + 1):
        yield replace(first, hash=candidate_key(first.request_hash, n), candidate=n,
                      candidates=total)

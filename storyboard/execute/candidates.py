"""Candidates after they are rendered: which one a cut takes, re-rolls, picks, publishing.

A generation's tries live in the cache under their own keys (``model.candidate_key``),
so nothing overwrites another. Each try of a generation with several is published as
``renders/<name>/<variant>/<clip>[.<take>]~<n>.mp4``; the generation's own path
(``<clip>[.<take>].mp4``) holds the keeper: the lock file's pick, else the
lowest-numbered candidate that is delivered. The final cut takes the same one.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from storyboard.errors import MediaError, UsageError
from storyboard.execute.workspace import Workspace
from storyboard.journal import Attempt, Status
from storyboard.model import CANDIDATE_MARK, Generation, Plan
from storyboard.plan.lock import Lock, LockEntry
from storyboard.store import file_sha256, link_atomic


@dataclass
class Keepers:
    """Which candidate of each generation is the keeper, in one workspace.

    ``attempts`` (the journal's latest attempt per key, ``Journal.latest_all``) lets a
    missing pick say whether its job id can fetch it again.
    """

    plan: Plan
    workspace: Workspace
    lock: Lock
    attempts: Mapping[str, Attempt] = field(default_factory=dict)
    _tries: dict[str, list[Generation]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for item in self.plan.items:
            self._tries.setdefault(item.generation.base_id, []).append(item.generation)

    def tries(self, generation_id: str) -> list[Generation]:
        return self._tries.get(generation_id, [])

    def several(self) -> list[str]:
        """The ids of the generations with more than one candidate."""
        return [gid for gid, tries in self._tries.items() if tries[0].candidates > 1]

    def render_of(self, generation_id: str) -> Path | None:
        """The keeper's cached render; None when no candidate is rendered yet. A pick the
        cache cannot serve is a ``MediaError`` that says how to get it back."""
        tries = self.tries(generation_id)
        if not tries:
            return None
        entry = self.lock.entry(tries[0])
        if entry is not None and entry.pick is not None:
            return self._picked(generation_id, tries, entry)
        for g in tries:
            cached = self.workspace.cache_file(g.hash)
            if _nonempty(cached):
                return cached
        return None

    def _picked(self, generation_id: str, tries: Sequence[Generation], entry: LockEntry) -> Path:
        n = entry.pick
        assert n is not None
        where = f"{self.lock.path.name}: {generation_id} picks candidate {n}"
        if n > len(tries):
            raise MediaError(f"{where}, but the plan holds {len(tries)}; pick another with "
                             f"`storyboard pick FILE {generation_id} N` or re-roll")
        g = tries[n - 1]
        cached = self.workspace.cache_file(g.hash)
        same_origin = entry.origin == self.workspace.origin
        if _nonempty(cached) and (not same_origin or entry.sha256 is None
                                  or file_sha256(cached) == entry.sha256):
            return cached
        job = entry.job_id if same_origin else None
        what = f"sha256 {entry.sha256[:12]}…, job {job}" if job and entry.sha256 else "its render"
        known = self.attempts.get(g.hash)
        if job and known is not None and known.job_id == job and known.status is Status.DONE:
            fix = (f"`storyboard run FILE --only '{g.id}'` downloads it again by job {job} "
                   "while the provider still holds it ($0)")
        elif job:
            fix = (f"this state's journal does not know job {job}: copy the state folder that "
                   "rendered it (.storyboard/), or pick another candidate")
        else:
            fix = "render it with `storyboard run FILE`, or pick another candidate"
        state = "lacks it" if not _nonempty(cached) else "holds another video under its name"
        raise MediaError(f"{where} ({what}) and the cache {state}; {fix}")


def _nonempty(path: Path) -> bool:
    return path.is_file() and path.stat().st_size > 0


def publish_keepers(keepers: Keepers) -> None:
    """Link each multi-candidate generation's own path to its keeper (a pick the cache
    lacks is left to the cut to report)."""
    for generation_id in keepers.several():
        try:
            found = keepers.render_of(generation_id)
        except MediaError:
            continue
        if found is not None:
            link_atomic(found, keepers.workspace.keeper_file(keepers.tries(generation_id)[0]))


# ------------------------------------------------------------------- re-roll and pick


def reroll(plan: Plan, lock: Lock, patterns: Sequence[str]) -> tuple[Lock, tuple[str, ...]]:
    """The lock with one more candidate for each generation an id or glob names, and the
    ids of the candidates it adds. ``us-wide/hero~2`` names ``us-wide/hero``."""
    bases = [p.split(CANDIDATE_MARK)[0] for p in patterns]
    firsts: dict[str, Generation] = {}
    counts: dict[str, int] = {}
    for item in plan.items:
        g = item.generation
        firsts.setdefault(g.base_id, g)
        counts[g.base_id] = max(counts.get(g.base_id, 0), g.candidate)
    unmatched = [p for p, b in zip(patterns, bases, strict=True)
                 if not any(fnmatch.fnmatchcase(gid, b) for gid in firsts)]
    if unmatched:
        raise UsageError(_names_nothing(unmatched, list(firsts)))
    added = []
    for gid, g in firsts.items():
        if not any(fnmatch.fnmatchcase(gid, b) for b in bases):
            continue
        entry = lock.entry(g) or LockEntry(g.request_hash)
        lock = lock.with_entry(gid, LockEntry(entry.hash, entry.rerolls + 1, entry.pick,
                                              entry.sha256, entry.job_id, entry.origin))
        added.append(f"{gid}{CANDIDATE_MARK}{counts[gid] + 1}")
    return lock, tuple(added)


def pick(plan: Plan, lock: Lock, attempts: Mapping[str, Attempt], workspace: Workspace,
         generation_id: str, candidate: int) -> Lock:
    """The lock with ``candidate`` pinned as ``generation_id``'s keeper, by the sha256 and
    job id of its render (which must be delivered)."""
    tries = [i.generation for i in plan.items if i.generation.base_id == generation_id]
    if not tries:
        raise UsageError(_names_nothing([generation_id],
                                        list(dict.fromkeys(i.generation.base_id
                                                           for i in plan.items))))
    if not 1 <= candidate <= len(tries):
        raise UsageError(f"{generation_id} has candidates 1–{len(tries)}; pick one of them "
                         f"(`storyboard reroll FILE {generation_id}` adds another)")
    g = tries[candidate - 1]
    attempt = attempts.get(g.hash)
    cached = workspace.cache_file(g.hash)
    if attempt is None or attempt.status is not Status.DONE or not _nonempty(cached):
        said = attempt.status.value if attempt is not None else "not rendered"
        raise UsageError(f"{g.id} is {said}, so there is nothing to pick yet; "
                         "`storyboard run FILE` renders it")
    sha256 = file_sha256(cached)
    if attempt.sha256 is not None and sha256 != attempt.sha256:
        raise UsageError(f"{g.id}: the cached video changed since it was downloaded (sha256 "
                         "differs from the journal's); `storyboard run FILE` fetches it again")
    entry = lock.entry(g) or LockEntry(g.request_hash)
    return lock.with_entry(generation_id, LockEntry(
        entry.hash, entry.rerolls, candidate, sha256, attempt.job_id, workspace.origin))


def _names_nothing(patterns: Sequence[str], ids: Sequence[str]) -> str:
    shown = ", ".join(ids[:3]) + (f" (and {len(ids) - 3} more)" if len(ids) > 3 else "")
    return (f"{' '.join(repr(p) for p in patterns)} names none of the generations; ids look "
            f"like {shown}")

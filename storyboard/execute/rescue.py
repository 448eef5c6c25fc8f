"""Job ids the journal could not take: kept where the next run finds and adopts them.

The journal is written the moment a create's job id is known. When that write fails
(a full disk, a read-only remount) even after retries, the job is paid for and its id
exists only in memory; the run stops submitting and keeps polling it, and appends it
here — one JSON line, fsynced, to the first place that takes it: ``rescue.jsonl`` in the
state folder, else ``.storyboard-rescue.jsonl`` beside the renders (often another disk).
The next run, under the journal's lock, journals every kept job id as pending (then
polls it like any other) before it decides anything, and only then removes the file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from storyboard.journal import API, SANDBOX, Attempt, Journal, Status

RESCUE_FILE = "rescue.jsonl"
RESCUE_BESIDE_RENDERS = ".storyboard-rescue.jsonl"
MAX_RESCUE_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Kept:
    """A created job the journal could not record."""

    attempt_id: int
    hash: str
    generation_id: str
    storyboard: str
    request: Mapping[str, Any]
    estimated_usd: Decimal
    job_id: str
    charged_usd: Decimal | None
    origin: str = API  # where the answer said the job was made (API or SANDBOX)
    api_base: str | None = None

    def line(self) -> bytes:
        return (json.dumps({
            "attempt_id": self.attempt_id, "hash": self.hash,
            "generation_id": self.generation_id, "storyboard": self.storyboard,
            "request": self.request, "estimated_usd": str(self.estimated_usd),
            "job_id": self.job_id,
            "charged_usd": None if self.charged_usd is None else str(self.charged_usd),
            "origin": self.origin, "api_base": self.api_base,
        }, ensure_ascii=True, separators=(",", ":")) + "\n").encode("ascii")

    def attempt(self, now: float) -> Attempt:
        """The attempt as the run goes on with it from memory: pending, its job id known."""
        return Attempt(self.attempt_id, self.hash, self.generation_id, self.storyboard, "",
                       Status.PENDING, self.job_id, self.estimated_usd, self.charged_usd,
                       False, None, None, None, None, now, now, origin=self.origin,
                       api_base=self.api_base)


class Held:
    """The jobs of this run whose ids the journal could not take: kept in a rescue file,
    polled and downloaded from memory, and journaled after all by the first later write
    about them that the journal takes."""

    def __init__(self, places: Sequence[Path]) -> None:
        self._places = places
        self._jobs: dict[int, Kept] = {}  # attempt id -> a job the journal has not taken
        self.notes: list[str] = []  # what happened to each, for the summary

    def hold(self, kept: Kept, why: object) -> str:
        """Keep ``kept`` (see ``keep_note``) and hold it; what to tell the user."""
        self._jobs[kept.attempt_id] = kept
        note = keep_note(kept, self._places, why)
        self.notes.append(f"{kept.generation_id}: {note}")
        return note

    def get(self, attempt_id: int) -> Kept | None:
        return self._jobs.get(attempt_id)

    def of(self, hash: str) -> Kept | None:
        return next((k for k in self._jobs.values() if k.hash == hash), None)

    def journaled(self, attempt_id: int) -> None:
        del self._jobs[attempt_id]


def keep_note(kept: Kept, places: Sequence[Path], why: object) -> str:
    """Keep ``kept`` (see ``keep``) and say where, for the summary and the progress."""
    place = keep(kept, places)
    where = (f"kept in {place} for the next run to adopt" if place else
             "and it could not be written anywhere: keep this job id")
    return (f"job {kept.job_id} was created (it may be charged) but the journal could not "
            f"record it ({why}); {where}")


def keep(kept: Kept, places: Sequence[Path]) -> Path | None:
    """Append ``kept`` durably to the first place that takes it; None when none does."""
    data = kept.line()
    for place in places:
        try:
            fd = os.open(place, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o644)
            try:
                if os.write(fd, data) != len(data):
                    raise OSError("short write")
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError:
            continue
        return place
    return None


def adopt(journal: Journal, places: Iterable[Path]) -> list[str]:
    """Journal the job ids kept in ``places`` as pending; remove each file once its jobs
    are journaled. Returns the adopted job ids."""
    adopted = []
    for place in places:
        try:
            with place.open("rb") as f:
                text = f.read(MAX_RESCUE_BYTES).decode("ascii", "replace")
        except FileNotFoundError:
            continue
        for line in text.splitlines():
            kept = _parse(line)  # a line cut short by a full disk was never complete
            if kept is not None and _adopt_one(journal, kept):
                adopted.append(kept.job_id)
        place.unlink()
    return adopted


def _adopt_one(journal: Journal, kept: Kept) -> bool:
    attempt = journal.get(kept.attempt_id)
    if attempt is not None and attempt.hash == kept.hash:
        if attempt.job_id is not None or attempt.status not in (Status.SUBMITTING,
                                                                  Status.UNKNOWN):
            return False  # recorded after all (a later write went through)
        journal.created(kept.attempt_id, kept.job_id, kept.charged_usd, kept.origin)
        return True
    if any(a.job_id == kept.job_id for a in journal.attempts(kept.hash)):
        return False
    attempt_id = journal.begin(hash=kept.hash, generation_id=kept.generation_id,
                               storyboard=kept.storyboard, request=kept.request,
                               estimated_usd=kept.estimated_usd, origin=kept.origin,
                               api_base=kept.api_base)
    journal.created(attempt_id, kept.job_id, kept.charged_usd, kept.origin)
    return True


def _parse(line: str) -> Kept | None:
    try:
        raw = json.loads(line)
        charged = raw["charged_usd"]
        base = raw.get("api_base")
        kept = Kept(int(raw["attempt_id"]), str(raw["hash"]), str(raw["generation_id"]),
                    str(raw["storyboard"]), dict(raw["request"]),
                    Decimal(str(raw["estimated_usd"])), str(raw["job_id"]),
                    None if charged is None else Decimal(str(charged)),
                    SANDBOX if raw.get("origin") == SANDBOX else API,
                    base if isinstance(base, str) else None)
    except (ValueError, KeyError, TypeError, InvalidOperation):
        return None
    if not kept.job_id or not kept.estimated_usd.is_finite() or (
            kept.charged_usd is not None and not kept.charged_usd.is_finite()):
        return None
    return kept

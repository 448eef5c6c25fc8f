"""The SQLite journal's high-water mark, ``journal.mark`` beside it: the last attempt id
written and the state folder's id. A journal that knows less than its mark, or than what
its state folder shows (cached videos, job ids in published manifests), was lost or put
back from an older copy, and is refused rather than silently started afresh."""

from __future__ import annotations

import json
import sqlite3
import uuid
from dataclasses import dataclass
from pathlib import Path

from storyboard.errors import JournalCorrupt, JournalLost, StateError
from storyboard.journal.base import ACCEPT_LOST_OPTION, Traces
from storyboard.journal.sqlite_file import JOURNAL_FILE
from storyboard.store import write_atomic

MARK_FILE = "journal.mark"


@dataclass(frozen=True, slots=True)
class Mark:
    """``journal.mark``: the journal's high-water mark and the state folder's id."""

    state_id: str
    attempts: int  # the highest attempt id ever written to the journal


def state_id_of(state_dir: Path) -> str | None:
    """The state folder's id from its ``journal.mark`` (None without a readable one)."""
    mark = read_mark(state_dir, accept_lost=True)
    return mark.state_id if mark else None


def write_mark(state_dir: Path, mark: Mark | None, attempts: int) -> Mark:
    """``journal.mark`` at ``attempts`` (written durably, unless it says so already)."""
    if mark is not None and mark.attempts == attempts:
        return mark
    mark = Mark(mark.state_id if mark else uuid.uuid4().hex, attempts)
    data = json.dumps({"state": mark.state_id, "attempts": mark.attempts}) + "\n"
    try:
        write_atomic(state_dir / MARK_FILE, data.encode("ascii"))
    except OSError as exc:
        raise StateError(f"{state_dir / MARK_FILE}: cannot write the journal's mark: "
                         f"{exc.strerror or exc}") from None
    return mark


def read_mark(state_dir: Path, *, accept_lost: bool) -> Mark | None:
    path = state_dir / MARK_FILE
    try:
        with path.open("rb") as f:
            raw = json.loads(f.read(4096))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        raw = None
    attempts = raw.get("attempts") if isinstance(raw, dict) else None
    if not (isinstance(raw, dict) and isinstance(raw.get("state"), str)
            and isinstance(attempts, int) and not isinstance(attempts, bool)
            and attempts >= 0):
        if accept_lost:
            return None
        raise JournalCorrupt(f"{path}: the journal's mark is damaged; put back the one this "
                             f"folder had, or rerun with {ACCEPT_LOST_OPTION} to write a new one")
    return Mark(raw["state"], raw["attempts"])


def refuse_if_lost(conn: sqlite3.Connection | None, path: Path, has_schema: bool,
                    existed: bool, mark: Mark | None, traces: Traces) -> None:
    """Raise ``JournalLost`` when the journal knows less than its mark or the state folder
    show it held; checked before anything is written to it."""
    high, known = 0, set()
    if conn is not None and has_schema:
        high = int(conn.execute("SELECT COALESCE(MAX(attempt_id), 0) FROM attempts")
                   .fetchone()[0])
        known = {row[0] for row in conn.execute(
            "SELECT DISTINCT job_id FROM attempts WHERE job_id IS NOT NULL")}
    seen = []
    if mark is not None and mark.attempts > high:
        ends = f"ends at attempt {high}" if high else "holds none"
        seen.append(f"{MARK_FILE} says attempt {mark.attempts} was written and the journal {ends}")
    if not has_schema and traces.cached:
        seen.append(f"the cache holds {traces.cached} video{'s' * (traces.cached != 1)}")
    if not has_schema and traces.published:
        seen.append(f"{traces.renders or 'the renders folder'} holds {traces.published} "
                    f"published video{'s' * (traces.published != 1)}")
    unknown = traces.job_ids - known
    if unknown:
        seen.append(f"{traces.manifest or 'the manifest'} lists {len(unknown)} job "
                    f"id{'s' * (len(unknown) != 1)} it does not know")
    if not seen:
        return
    state = ("empty" if existed else "missing") if not has_schema else \
        "older than its state folder"
    raise JournalLost(
        f"{path}: the journal is {state}: {'; '.join(seen)}. Going on would pay again for "
        f"jobs already paid. Put back the journal this folder had ({JOURNAL_FILE} together "
        f"with its {JOURNAL_FILE}-wal file, from where they were moved or backed up), or "
        f"rerun with {ACCEPT_LOST_OPTION} to go on with this one knowingly (jobs it does "
        "not list may be created and charged again)")

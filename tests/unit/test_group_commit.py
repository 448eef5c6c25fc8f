"""Group commit: calls waiting together for the journal thread are made in one transaction
of the folder journal — one commit, one write of its mark — and each caller learns of its
own call only once all of them are durable. A call that fails fails alone; a mark that
cannot be written fails the attempts begun, never sent."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from storyboard.errors import StateError
from storyboard.execute.journal_thread import JournalThread
from storyboard.journal import sqlite as sqlite_module
from storyboard.journal.base import Ended, one_by_one
from storyboard.journal.sqlite import JOURNAL_FILE, NO_MARK, Journal, Status
from storyboard.journal.sqlite_mark import read_mark

REQUEST = {"model": "kwaivgi/kling-o3/text-to-video", "args": {"prompt": "dawn"}}


def _begin(journal: Journal, hash: str) -> Callable[[], int]:
    return lambda: journal.begin(hash=hash, generation_id=f"v/{hash}", storyboard="sb",
                                 request=REQUEST, estimated_usd=Decimal("0.42"))


class Counted:
    """Counts what the journal's connection commits and how often the mark is written."""

    def __init__(self, journal: Journal, monkeypatch: pytest.MonkeyPatch) -> None:
        self.commits, self.marks = 0, []
        real_mark = sqlite_module.write_mark

        def write_mark(state_dir: Path, mark: Any, attempts: int) -> Any:
            self.marks.append(attempts)
            return real_mark(state_dir, mark, attempts)

        def trace(statement: str) -> None:
            self.commits += statement.strip().upper() == "COMMIT"

        monkeypatch.setattr(sqlite_module, "write_mark", write_mark)
        journal._conn.set_trace_callback(trace)


def test_a_batch_is_one_commit_and_one_mark_and_each_call_gets_its_own_outcome(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with Journal.open(tmp_path) as journal:
        first = journal.begin(hash="h0", generation_id="v/h0", storyboard="sb",
                              request=REQUEST, estimated_usd=Decimal("0.42"))
        counted = Counted(journal, monkeypatch)
        outcomes = journal.run_batch([
            _begin(journal, "h1"),
            lambda: journal.created(first, "job-0", None),
            lambda: journal.rejected(first, "refused"),  # too late: it fails, alone
            _begin(journal, "h2"),
            lambda: journal.get(first),
        ])
        # durable for anyone once it returns: another connection reads it all
        other = sqlite3.connect(tmp_path / JOURNAL_FILE)
        rows = other.execute("SELECT hash, status, job_id FROM attempts ORDER BY attempt_id")
        assert rows.fetchall() == [("h0", "pending", "job-0"), ("h1", "submitting", None),
                                   ("h2", "submitting", None)]
        other.close()
    results = [result for result, _ in outcomes]
    errors = [error for _, error in outcomes]
    assert results[0] == first + 1 and results[3] == first + 2
    assert results[1] is None and errors[1] is None
    assert isinstance(errors[2], StateError) and "cannot become rejected" in str(errors[2])
    assert results[4].status is Status.PENDING  # it reads the batch's own writes
    assert counted.commits == 1  # where each call alone commits once
    assert counted.marks == [first + 2]  # once, for the highest attempt begun
    assert read_mark(tmp_path, accept_lost=False).attempts == first + 2  # type: ignore[union-attr]


def test_a_mark_that_cannot_be_written_fails_only_the_attempts_begun(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with Journal.open(tmp_path) as journal:
        first = journal.begin(hash="h0", generation_id="v/h0", storyboard="sb",
                              request=REQUEST, estimated_usd=Decimal("0.42"))

        def no_room(state_dir: Path, mark: Any, attempts: int) -> Any:
            raise StateError(f"{state_dir}: cannot write the journal's mark: No space left")

        monkeypatch.setattr(sqlite_module, "write_mark", no_room)
        outcomes = journal.run_batch([_begin(journal, "h1"),
                                      lambda: journal.created(first, "job-0", None)])
        attempts = {a.hash: a for a in journal.attempts()}
    assert isinstance(outcomes[0][1], StateError) and outcomes[1] == (None, None)
    assert (attempts["h1"].status, attempts["h1"].error) == (Status.REJECTED, NO_MARK)
    assert attempts["h0"].job_id == "job-0"  # the other call's write stands


def test_the_calls_of_one_turn_of_the_loop_wake_the_thread_once() -> None:
    batches: list[int] = []

    def batch(calls: Sequence[Callable[[], Any]]) -> list[Ended]:
        batches.append(len(calls))
        return one_by_one(calls)

    async def main() -> list[int]:
        io = JournalThread(batch)
        try:
            return list(await asyncio.gather(*(io(int, str(n)) for n in range(20))))
        finally:
            io.close()

    assert asyncio.run(main()) == list(range(20))
    assert batches == [20]


def test_the_thread_hands_every_waiting_call_over_together_and_answers_after() -> None:
    batches: list[int] = []
    first_running, release = threading.Event(), threading.Event()
    answered_before_its_batch_ended: list[int] = []

    def batch(calls: Sequence[Callable[[], Any]]) -> list[Ended]:
        batches.append(len(calls))
        outcomes = one_by_one(calls)
        if len(batches) == 1:
            first_running.set()
            release.wait(5)
        return outcomes

    async def main() -> list[int]:
        io = JournalThread(batch)
        try:
            first = asyncio.ensure_future(io(int, "0"))
            while not first_running.is_set():
                await asyncio.sleep(0.001)
            rest = [asyncio.ensure_future(io(int, str(n))) for n in range(1, 6)]
            await asyncio.sleep(0.05)
            answered_before_its_batch_ended.extend(int(f.done()) for f in [first, *rest])
            release.set()
            return list(await asyncio.gather(first, *rest))
        finally:
            io.close()

    assert asyncio.run(main()) == [0, 1, 2, 3, 4, 5]
    assert batches == [1, 5]  # the five that came while the first was made: one batch
    assert answered_before_its_batch_ended == [0] * 6

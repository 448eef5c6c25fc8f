"""The journal, awaited: the executor's journal calls run on one thread of their own, and
the event loop serves every other job while a write is made durable (an fsync of the
SQLite file, a round trip to PostgreSQL). Run on the loop, 1,000 generations' calls had
held every poll, callback and download behind them for 3.6 s in all.

What is journaled when does not change. The executor awaits each call before it goes on
(an attempt is durable before its create is sent; a job id is journaled before anything
else happens to the job), and one thread takes the calls first come, first served, so
each attempt's writes keep their order. While a run lasts, the thread is the only one
using the journal's connection (``SqliteJournal`` opens it for use from any thread).

Group commit: the thread takes every call waiting when it looks and hands them to the
journal's ``run_batch`` together (the folder journal commits them in one transaction: one
fsync, one write of its mark, where each call alone had its own), and hands their results
back to the loop in one go, only once all are durable. Calls that come while a batch is
being committed wait for the next one, so a busy journal commits more at a time, never
later than one commit behind.

A write cannot be taken back. A task cancelled while its call runs in the thread (a
second Ctrl-C) waits for the call to end all the same, then is cancelled with
``Cancelled``, which says whether the call was made and what it returned: the executor
then knows, say, that an attempt was written whose create will never be sent, and says
so in the journal, or that a job id was not journaled, and keeps it for the next run.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import queue
import threading
from collections.abc import Callable, Sequence
from typing import Any, ParamSpec, TypeVar

from storyboard.journal.base import Ended, one_by_one

P = ParamSpec("P")
T = TypeVar("T")
_Job = tuple[Callable[[], Any], "asyncio.Future[Any]"]
Batch = Callable[[Sequence[Callable[[], Any]]], list[Ended]]  # Journal.run_batch


class Cancelled(asyncio.CancelledError):
    """The task was cancelled while its journal call ran. The call has ended: ``made`` says
    whether it returned (it did not raise), ``result`` is what it returned."""

    def __init__(self, made: bool, result: object) -> None:
        super().__init__()
        self.made = made
        self.result = result


class JournalThread:
    """One thread that makes the journal calls handed to it, in order and in batches
    (``batch``: the journal's ``run_batch``), for the event loop that awaits them; started
    on first use, ended by ``close``. The calls made in one turn of the loop are handed
    over together at its end: one wake-up of the thread, not one a call (each cost the
    loop a context switch, holding the GIL)."""

    def __init__(self, batch: Batch = one_by_one, name: str = "storyboard-journal") -> None:
        self._batch = batch
        self._name = name
        self._jobs: queue.SimpleQueue[list[_Job] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self._pending: list[_Job] = []  # this turn of the loop's calls, not handed over yet

    async def __call__(self, call: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """``call(*args, **kwargs)`` in the journal thread, awaited to its end (see the
        module's note on cancellation)."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[T] = loop.create_future()
        if not self._pending:
            self._start(loop)
            loop.call_soon(self._hand_over)
        self._pending.append((functools.partial(call, *args, **kwargs), done))
        return await _ended(done)

    def close(self) -> None:
        """End the thread once the calls handed to it are made (every caller awaits its
        call to the end, so there are none left when the run is over)."""
        thread, self._thread, self._closed = self._thread, None, True
        if thread is not None:
            self._jobs.put(None)
            thread.join()

    def _start(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._thread is None:
            if self._closed:
                raise RuntimeError("the journal thread was closed: the run is over")
            self._loop = loop
            self._thread = threading.Thread(target=self._serve, name=self._name, daemon=True)
            self._thread.start()
        elif loop is not self._loop:
            raise RuntimeError("a journal thread serves one event loop")

    def _hand_over(self) -> None:
        jobs, self._pending = self._pending, []
        self._jobs.put(jobs)

    def _serve(self) -> None:
        ending = False
        while not ending:
            handed = [self._jobs.get()]
            with contextlib.suppress(queue.Empty):
                while True:  # every call waiting now: one batch
                    handed.append(self._jobs.get_nowait())
            ending = None in handed  # (``close`` puts it last: no caller is left)
            jobs = [job for turn in handed if turn is not None for job in turn]
            if jobs:
                self._make(jobs)

    def _make(self, jobs: list[_Job]) -> None:
        try:
            outcomes = self._batch([call for call, _ in jobs])
        except BaseException as exc:  # the journal's own failure: every caller gets it
            outcomes = [(None, exc)] * len(jobs)
        assert self._loop is not None
        with contextlib.suppress(RuntimeError):  # the loop closed: nobody waits
            self._loop.call_soon_threadsafe(_settle, [
                (done, outcome) for (_, done), outcome in zip(jobs, outcomes, strict=True)])


def _settle(settled: list[tuple[asyncio.Future[Any], Ended]]) -> None:
    for done, (result, error) in settled:
        if done.done():
            continue
        if error is None:
            done.set_result(result)
        else:
            done.set_exception(error)


async def _ended(done: asyncio.Future[T]) -> T:
    """``done``'s result once the call has ended, even when the task is cancelled
    meanwhile (then ``Cancelled``, carrying the result). Only the task is cancelled, never
    ``done`` (it is awaited through a shield)."""
    cancelled = False
    while not done.done():
        try:
            await asyncio.shield(done)
        except asyncio.CancelledError:
            cancelled = True
        except BaseException:
            if not done.done():
                raise
    if cancelled:
        made = done.exception() is None
        raise Cancelled(made, done.result() if made else None)
    return done.result()

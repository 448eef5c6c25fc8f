"""The journal, awaited: the executor's journal calls run on one thread of their own, and
the event loop serves every other job while a write is made durable (an fsync of the
SQLite file, a round trip to PostgreSQL). Run on the loop, 1,000 generations' calls had
held every poll, callback and download behind them for 3.6 s in all.

What is journaled when does not change. The executor awaits each call before it goes on
(an attempt is durable before its create is sent; a job id is journaled before anything
else happens to the job), and one thread takes the calls first come, first served, so
each attempt's writes keep their order. While a run lasts, the thread is the only one
using the journal's connection (``SqliteJournal`` opens it for use from any thread).

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
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")
_Job = tuple[Callable[[], Any], asyncio.AbstractEventLoop, "asyncio.Future[Any]"]


class Cancelled(asyncio.CancelledError):
    """The task was cancelled while its journal call ran. The call has ended: ``made`` says
    whether it returned (it did not raise), ``result`` is what it returned."""

    def __init__(self, made: bool, result: object) -> None:
        super().__init__()
        self.made = made
        self.result = result


class JournalThread:
    """One thread that makes the journal calls handed to it, in order, for the event loop
    that awaits them; started on first use, ended by ``close``."""

    def __init__(self, name: str = "storyboard-journal") -> None:
        self._name = name
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._closed = False

    async def __call__(self, call: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """``call(*args, **kwargs)`` in the journal thread, awaited to its end (see the
        module's note on cancellation)."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[T] = loop.create_future()
        if self._thread is None:
            if self._closed:
                raise RuntimeError("the journal thread was closed: the run is over")
            self._thread = threading.Thread(target=self._serve, name=self._name, daemon=True)
            self._thread.start()
        self._jobs.put((functools.partial(call, *args, **kwargs), loop, done))
        return await _ended(done)

    def close(self) -> None:
        """End the thread once the calls handed to it are made (every caller awaits its
        call to the end, so there are none left when the run is over)."""
        thread, self._thread, self._closed = self._thread, None, True
        if thread is not None:
            self._jobs.put(None)
            thread.join()

    def _serve(self) -> None:
        while (job := self._jobs.get()) is not None:
            call, loop, done = job
            try:
                outcome: tuple[Any, BaseException | None] = (call(), None)
            except BaseException as exc:  # the caller gets it, whatever it is
                outcome = (None, exc)
            with contextlib.suppress(RuntimeError):  # the loop closed: nobody is waiting
                loop.call_soon_threadsafe(_settle, done, *outcome)


def _settle(done: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if done.done():
        return
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

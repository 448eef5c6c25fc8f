"""Running a plan: ``run`` is the library's entry (the HTTP client and the journal are
injected), ``execute`` the command line's (its own event loop, a pooled client, Ctrl-C
handling, a manifest even when cancelled outright)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import httpx

from storyboard.execute.callbacks import Listener, hinted, listening
from storyboard.execute.executor import Executor
from storyboard.execute.manifest import write_manifest
from storyboard.execute.options import Api, RunOptions
from storyboard.execute.prepare import Prepared, prepare
from storyboard.execute.shared import SharedExecutor
from storyboard.execute.workspace import Workspace
from storyboard.journal import Journal
from storyboard.model import Plan
from storyboard.results import Event, Result, RunSummary


@contextlib.contextmanager
def sigint_stops(executor: Executor, loop: asyncio.AbstractEventLoop,
                 main: asyncio.Task[Any], on_stop: Callable[[], None]) -> Iterator[None]:
    """First Ctrl-C stops submitting (in-flight creates still get their job ids
    journaled); a second one cancels everything at once."""

    def handler() -> None:
        if executor.stop.requested:
            main.cancel()
        else:
            executor.request_stop()
            on_stop()

    try:
        loop.add_signal_handler(signal.SIGINT, handler)
    except (NotImplementedError, RuntimeError, ValueError):  # not the main thread
        yield
        return
    try:
        yield
    finally:
        loop.remove_signal_handler(signal.SIGINT)


async def run(plan: Plan, *, client: httpx.AsyncClient, journal: Journal, workspace: Workspace,
              api: Api, options: RunOptions | None = None, prepared: Prepared | None = None,
              on_event: Callable[[Event], None] = lambda e: None,
              on_stop: Callable[[], None] | None = None,
              listener: Listener | None = None) -> RunSummary:
    """Render ``plan`` through the job API at ``api`` over ``client``, journaled in
    ``journal``, and write its manifest: the library's way to run.

    The HTTP client is injected: the CLI hands in a pooled one (``Api.http``), a test an
    ``httpx.AsyncClient(transport=httpx.MockTransport(handler))``. ``prepared`` is the
    plan as ``prepare`` saw it (default: prepared here; ``--only`` prepares a part of the
    plan, while the manifest covers all of it). With ``on_stop``, the first Ctrl-C stops
    submitting (``on_stop`` says so) and a second cancels at once. With
    ``options.callback_listen``, callbacks wake the polls: ``listener`` is one bound
    already (the CLI binds it before asking), else one is opened here for the run.
    """
    options = options or RunOptions()
    prepared = prepared or prepare(plan, journal, workspace, options)
    kind = SharedExecutor if journal.shared else Executor
    with listening(options.callback_listen if listener is None else None) as own, \
            hinted(listener or own, (t.item.generation.hash for t in prepared.tasks),
                   options.callback_url, journal.state_id) as hints:
        executor = kind(prepared, client=api.speak(client), journal=journal,
                        workspace=workspace, options=options, on_event=on_event, hints=hints)
        if on_stop is None:
            summary = await executor.run()
        else:
            task = asyncio.current_task()
            assert task is not None
            with sigint_stops(executor, asyncio.get_running_loop(), task, on_stop):
                summary = await executor.run()
        if hints is not None:
            delivered = (o.item.generation.hash for o in summary.by_result(Result.DELIVERED))
            summary = replace(summary, callbacks=hints.count(delivered))
    write_manifest(summary, journal, plan)
    return summary


def execute(prepared: Prepared, *, journal: Journal, workspace: Workspace,
            options: RunOptions, api: Api, plan: Plan | None = None,
            on_event: Callable[[Event], None] = lambda e: None,
            on_stop: Callable[[], None] = lambda: None,
            listener: Listener | None = None) -> RunSummary:
    """``run`` on its own event loop with a pooled client, for the command line: Ctrl-C
    stops it, and a run cancelled outright still leaves a manifest."""
    whole = plan or prepared.plan

    async def main() -> RunSummary:
        async with api.http() as http:
            return await run(whole, client=http, journal=journal, workspace=workspace, api=api,
                             options=options, prepared=prepared, on_event=on_event,
                             on_stop=on_stop, listener=listener)

    try:
        return asyncio.run(main())
    except (KeyboardInterrupt, asyncio.CancelledError):
        summary = RunSummary((), workspace, interrupted=True)
        write_manifest(summary, journal, whole)
        return summary

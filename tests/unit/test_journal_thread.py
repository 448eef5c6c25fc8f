"""Journal calls are made off the event loop (``execute.journal_thread``): a slow journal
write no longer stalls every other job of the run, and a run cancelled while a write is
in the journal's thread still leaves the journal saying what happened — the write is
awaited to its end, and no create is sent after the cancel.

The slow write is real: a journal whose chosen write waits in its thread until the test
lets it go, on the folder journal and on the shared one (PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from storyboard.api.contract import CREATE_PATH, QUERY_PATH
from storyboard.api.policies import RetryPolicy
from storyboard.compile import plan_file
from storyboard.errors import StateError
from storyboard.execute import executor as executor_module
from storyboard.execute import run
from storyboard.execute.executor import NOT_SENT_CANCELLED
from storyboard.execute.journal_thread import Cancelled, JournalThread
from storyboard.execute.options import Api, PollPolicy, RunOptions
from storyboard.execute.rescue import RESCUE_FILE
from storyboard.execute.workspace import Workspace
from storyboard.journal import Attempt, Journal, Status, open_journal
from storyboard.results import Result, RunSummary

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from mediakit import make_clip

BASE = "https://api.test"
CDN = "https://cdn.test"
API = Api(BASE, "sk-unit-test", policy=RetryPolicy(attempts=1, base_delay=0.0, max_delay=0.0,
                                                   jitter=0.0))
OPTIONS = RunOptions(concurrency=2, poll=PollPolicy(start=0.01, maximum=0.01, deadline=10.0))
HOLD_S = 5.0  # the longest a held write waits: on the loop, it would stall the run this long
STORYBOARD = """\
storyboard: 1
name: pair
clips:
  - id: dawn
    prompt: "A lighthouse at dawn"
  - id: night
    prompt: "A lighthouse at night"
"""


# ------------------------------------------------------------------ the thread itself


def test_calls_run_in_one_other_thread_in_the_order_they_were_made() -> None:
    seen: list[tuple[int, str]] = []

    def call(n: int) -> int:
        seen.append((n, threading.current_thread().name))
        return n * n

    async def main() -> list[int]:
        io = JournalThread()
        try:
            return list(await asyncio.gather(*(io(call, n) for n in range(20))))
        finally:
            io.close()

    assert asyncio.run(main()) == [n * n for n in range(20)]
    assert [n for n, _ in seen] == list(range(20))
    assert {name for _, name in seen} == {"storyboard-journal"}


def test_an_error_in_the_thread_reaches_the_caller_and_the_thread_goes_on() -> None:
    def fail() -> None:
        raise ValueError("disk full")

    async def main() -> int:
        io = JournalThread()
        try:
            with pytest.raises(ValueError, match="disk full"):
                await io(fail)
            return await io(int, "7")
        finally:
            io.close()

    assert asyncio.run(main()) == 7


def test_a_caller_cancelled_during_its_call_waits_for_its_end_then_learns_its_result() -> None:
    started, release = threading.Event(), threading.Event()
    ended: list[str] = []

    def write() -> str:
        started.set()
        release.wait(HOLD_S)
        ended.append("written")
        return "attempt 1"

    async def main() -> Cancelled:
        io = JournalThread()
        task = asyncio.create_task(io(write))
        while not started.is_set():
            await asyncio.sleep(0.001)
        task.cancel()
        await asyncio.sleep(0.05)
        assert not task.done()  # still waiting for the write it cannot take back
        task.cancel()  # a second cancel changes nothing
        release.set()
        try:
            await task
        except Cancelled as cancelled:
            assert ended == ["written"]  # only once the write had ended
            return cancelled
        finally:
            io.close()
        raise AssertionError("not cancelled")

    cancelled = asyncio.run(main())
    assert (cancelled.made, cancelled.result) == (True, "attempt 1")


def test_a_closed_thread_takes_no_more_calls() -> None:
    async def main() -> None:
        io = JournalThread()
        await io(int, "1")
        io.close()
        with pytest.raises(RuntimeError, match="closed"):
            await io(int, "2")

    asyncio.run(main())


# ------------------------------------------------------------- the executor through it


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return make_clip(tmp_path_factory.mktemp("clip") / "clip.mp4", seconds=5).read_bytes()


class Held:
    """One journal write (``method``, about generation ``generation``) waits in its thread
    until ``release`` is set (at most ``HOLD_S``); ``waiting`` while it does."""

    def __init__(self, method: str, generation: str) -> None:
        self.method, self.generation = method, generation
        self.holding, self.release = threading.Event(), threading.Event()
        self.waiting = False
        self.threads: set[str] = set()

    def install(self, journal: Journal, refuse: bool = False) -> Journal:
        """``refuse``: the held write then fails as on a full disk, every time."""
        real = getattr(journal, self.method)

        def held(*args: Any, **kwargs: Any) -> Any:
            about = kwargs.get("generation_id") or _generation_of(journal, args[0])
            if about == self.generation and not self.holding.is_set():
                self.threads.add(threading.current_thread().name)
                self.waiting = True
                self.holding.set()
                self.release.wait(HOLD_S)
                self.waiting = False
            if about == self.generation and refuse:
                raise StateError("journal: cannot use the journal: database or disk is full")
            return real(*args, **kwargs)

        setattr(journal, self.method, held)
        return journal


def _generation_of(journal: Journal, attempt_id: int) -> str | None:
    attempt = journal.get(attempt_id)
    return attempt.generation_id if attempt else None


class FakeApi:
    """Creates accepted; ``night``'s job runs until ``finished(night)`` says it is done,
    ``dawn``'s is done once ``night``'s has been asked about. Counts the queries of each
    job while the held write waits."""

    def __init__(self, video: bytes, held: Held, night_done: Callable[[int], bool]) -> None:
        self.video, self.held, self.night_done = video, held, night_done
        self.jobs: dict[str, str] = {}  # job id -> prompt
        self.queries: Counter[str] = Counter()
        self.while_held: Counter[str] = Counter()
        self.creates: list[str] = []
        self.create_stalls = False

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == CREATE_PATH:
            prompt = json.loads(request.content)["args"]["prompt"]
            self.creates.append(prompt)
            if self.create_stalls:
                await asyncio.Event().wait()  # on the wire until the run is cancelled
            job = f"job-{len(self.creates)}"
            self.jobs[job] = "night" if "night" in prompt else "dawn"
            return httpx.Response(200, json={"code": 0, "data": {"job_id": job}})
        if request.url.path == QUERY_PATH:
            clip = self.jobs[request.url.params["id"]]
            self.queries[clip] += 1
            if self.held.waiting:
                self.while_held[clip] += 1
            done = self.night_done(self.while_held["night"]) if clip == "night" else (
                self.queries["night"] > 0)
            return httpx.Response(200, json={"code": 0, "data": {"status": 2 if done else 1, **(
                {"result": {"videos": [{"url": f"{CDN}/{clip}.mp4"}]}} if done else {})}})
        return httpx.Response(200, content=self.video, headers={"content-type": "video/mp4"})


@pytest.fixture(params=["sqlite", "postgres"])
def state(request: pytest.FixtureRequest) -> str | None:
    """Where the journal is: the state folder (None), or a shared PostgreSQL database."""
    return None if request.param == "sqlite" else str(request.getfixturevalue("pg_url"))


@pytest.fixture
def project(tmp_path: Path, state: str | None) -> Iterator[tuple[Path, Workspace]]:
    (tmp_path / "storyboard.yaml").write_text(STORYBOARD, encoding="utf-8")
    yield tmp_path, Workspace.beside(tmp_path, "pair", state=state)


def _open(workspace: Workspace, *, exclusive: bool = True) -> Journal:
    return open_journal(workspace.journal_url or workspace.state_dir, exclusive=exclusive,
                        local=workspace.state_dir if exclusive else None)


async def _run(root: Path, workspace: Workspace, api: FakeApi, held: Held,
               refuse: bool = False) -> RunSummary:
    plan = plan_file(root / "storyboard.yaml")
    async with httpx.AsyncClient(transport=httpx.MockTransport(api)) as client:
        with held.install(_open(workspace), refuse) as journal:
            return await run(plan, client=client, journal=journal, workspace=workspace,
                             api=API, options=OPTIONS)


def _attempts(workspace: Workspace) -> dict[str, Attempt]:
    with _open(workspace, exclusive=False) as journal:
        return {a.generation_id: a for a in journal.attempts()}


def test_a_slow_journal_write_does_not_stall_the_other_jobs(
        project: tuple[Path, Workspace], video: bytes) -> None:
    """``dawn``'s ``done`` waits in the journal's thread; meanwhile ``night`` is polled as
    usual (its job ends after 5 polls made while the write waits, which lets it go)."""
    root, workspace = project
    held = Held("done", "default/dawn")

    def night_done(polls_while_held: int) -> bool:
        if polls_while_held >= 5:
            held.release.set()
        return held.release.is_set()

    api = FakeApi(video, held, night_done)
    summary = asyncio.run(_run(root, workspace, api, held))
    assert api.while_held["night"] >= 5  # on the loop, the write would have stopped them all
    assert held.threads == {"storyboard-journal"}
    assert {o.item.generation.id: o.result for o in summary.outcomes} == {
        "default/dawn": Result.DELIVERED, "default/night": Result.DELIVERED}
    attempts = _attempts(workspace)
    assert {g: a.status for g, a in attempts.items()} == {
        "default/dawn": Status.DONE, "default/night": Status.DONE}


async def _cancel_while_held(root: Path, workspace: Workspace, api: FakeApi,
                             held: Held) -> None:
    """Run, cancel the run while the held write waits in its thread, then let it go."""
    task = asyncio.create_task(_run(root, workspace, api, held))
    while not held.holding.is_set():
        assert not task.done(), task
        await asyncio.sleep(0.001)
    task.cancel()
    await asyncio.sleep(0.05)
    queries = sum(api.queries.values())
    held.release.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert sum(api.queries.values()) == queries  # nothing asked after the cancel


def test_cancelled_while_an_attempt_is_written_it_is_journaled_and_its_create_never_sent(
        project: tuple[Path, Workspace], video: bytes) -> None:
    root, workspace = project
    held = Held("begin", "default/night")
    api = FakeApi(video, held, lambda polls: False)
    asyncio.run(_cancel_while_held(root, workspace, api, held))
    assert "A lighthouse at night" not in api.creates
    night = _attempts(workspace)["default/night"]
    assert (night.status, night.job_id, night.error) == (
        Status.REJECTED, None, NOT_SENT_CANCELLED)


def test_cancelled_while_a_job_id_is_written_it_is_journaled_and_the_job_never_polled(
        project: tuple[Path, Workspace], video: bytes) -> None:
    root, workspace = project
    held = Held("created", "default/night")
    api = FakeApi(video, held, lambda polls: False)
    asyncio.run(_cancel_while_held(root, workspace, api, held))
    night = _attempts(workspace)["default/night"]
    assert (night.status, night.job_id) == (Status.PENDING, "job-2")
    assert api.queries["night"] == 0


def test_cancelled_while_a_create_is_on_the_wire_it_is_journaled_as_unknown(
        project: tuple[Path, Workspace], video: bytes) -> None:
    root, workspace = project
    held = Held("unknown", "default/dawn")  # held only to learn when it is being written
    held.release.set()
    api = FakeApi(video, held, lambda polls: False)
    api.create_stalls = True

    async def main() -> None:
        task = asyncio.create_task(_run(root, workspace, api, held))
        while not api.creates:
            await asyncio.sleep(0.001)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert held.threads == {"storyboard-journal"}
    dawn = _attempts(workspace)["default/dawn"]
    assert (dawn.status, dawn.error) == (
        Status.UNKNOWN, "the run was interrupted while sending the create")


def test_cancelled_while_a_failed_job_id_write_waits_to_be_retried_the_id_is_kept(
        project: tuple[Path, Workspace], video: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    """The journal refused the job id (a full disk) and the run is cancelled before the
    next try: the id goes to the rescue file, where the next run adopts it."""
    root, workspace = project
    monkeypatch.setattr(executor_module, "JOURNAL_RETRY_DELAYS", (60.0,))
    held = Held("created", "default/night")
    held.release.set()
    api = FakeApi(video, held, lambda polls: False)

    async def main() -> None:
        task = asyncio.create_task(_run(root, workspace, api, held, refuse=True))
        while not held.holding.is_set():
            await asyncio.sleep(0.001)
        await asyncio.sleep(0.05)  # the refusal reached the executor: it waits to retry
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    kept = [json.loads(line) for line in (workspace.state_dir / RESCUE_FILE).read_text()
            .splitlines()]
    assert [(k["generation_id"], k["job_id"]) for k in kept] == [("default/night", "job-2")]
    assert _attempts(workspace)["default/night"].job_id is None

"""`storyboard run --callback-listen` against a real sandbox on loopback: the sandbox calls
each job's callback URL back, storyboard queries the job once, and polls stay a safety
net that still finishes a run whose callbacks are all lost."""

from __future__ import annotations

import hashlib
import hmac
import re
import socket
import threading
from pathlib import Path

import httpx
import pytest

from storyboard.api.sandbox import Faults, Sandbox
from storyboard.compile import plan_file
from storyboard.execute.callbacks import Listen, Listener
from storyboard.execute.entry import execute
from storyboard.execute.options import Api, PollPolicy, RunOptions
from storyboard.execute.prepare import prepare
from storyboard.execute.workspace import Workspace
from storyboard.journal.sqlite import Journal, state_id_of
from storyboard.results import Event

from .conftest import FAKE_KEY, Project, run_cli, start_sandbox

# polls so slow that, within a test, only a callback can make a job be noticed
CALLBACKS_ONLY = ["--poll-start", "30", "--poll-max", "60"]
LAUNCH = ("aurora-launch", 12)


def test_every_create_names_its_generation_and_one_query_each_suffices(
        project: Project, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    name, count = LAUNCH
    result = run_cli(sandbox, monkeypatch, project.storyboard("launch.yaml"),
                     "--callback-listen", "127.0.0.1:0", *CALLBACKS_ONLY)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert f"delivered: {count}" in result.stdout
    creates = sandbox.ledger.creates
    hashes = {g["hash"] for g in project.manifest(name)["generations"]}
    assert sorted(c.request_hash for c in creates) == sorted(hashes)
    base = creates[0].callback_url.partition("?")[0] if creates[0].callback_url else ""
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", base)
    key = state_id_of(project.root / ".storyboard")
    assert key  # the journal's random id: the tokens' key
    assert [c.callback_url for c in creates] == [
        f"{base}?generation={c.request_hash}&token="
        f"{hmac.new(key.encode(), c.request_hash.encode(), hashlib.sha256).hexdigest()[:32]}"
        for c in creates]
    # create + one query when the callback came + download: nothing else
    assert sandbox.ledger.callbacks == {"sent": len(hashes)}
    assert sandbox.ledger.queries == {c.job_id: 1 for c in creates}
    assert sandbox.ledger.downloads == {c.job_id: 1 for c in creates}
    # (+1 query: the keyless probe that asks whether the API is a sandbox)
    assert sandbox.ledger.calls == {"create": len(hashes), "query": len(hashes) + 1,
                                    "download": len(hashes)}
    assert "warning" not in result.stdout  # every job was noticed by its callback
    assert "  callbacks:" not in result.stdout


def test_with_every_callback_lost_the_safety_net_finishes_the_run(
        project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    count = LAUNCH[1]
    server = start_sandbox(faults=Faults(no_callback=1.0))
    try:
        # the net's looks are at most NET_STRETCH x --poll-max apart: 0.3 s, not run_cli's 1 s
        result = run_cli(server, monkeypatch, project.storyboard("launch.yaml"),
                         "--callback-listen", "0", "--poll-max", "0.03")
    finally:
        server.stop()
    assert result.exit_code == 0, result.stdout + result.stderr
    assert f"delivered: {count}" in result.stdout
    creates = server.ledger.creates
    assert server.ledger.callbacks == {"dropped": len(creates)}
    assert all(server.ledger.queries[c.job_id] >= 1 for c in creates)
    assert server.ledger.duplicates() == {}
    # a callback URL the API cannot reach is said, once, with what to check
    base = creates[0].callback_url.partition("?")[0] if creates[0].callback_url else ""
    [warning] = [line for line in result.stdout.splitlines() if "warning" in line]
    assert warning == (  # (12 delivered: 10 jobs, 2 generations share theirs)
        f"  warning: no callback reached {base}; {len(creates)} finished jobs found by the "
        "slower "
        "safety-net polls instead — check that the API can reach --callback-url (or "
        "--callback-listen)")


def test_callback_url_alone_is_passed_through_as_given(
        project: Project, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    given = "http://127.0.0.1:9/someone-else-listens"  # port 9: discard, refused here
    result = run_cli(sandbox, monkeypatch, project.storyboard("sequence.yaml"),
                     "--callback-url", given)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert {c.callback_url for c in sandbox.ledger.creates} == {given}


def test_a_port_in_use_is_one_line_and_nothing_is_created(
        project: Project, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli(sandbox, monkeypatch, project.storyboard("launch.yaml"),
                         "--callback-listen", f"127.0.0.1:{port}")
    assert result.exit_code == 2
    assert result.stderr == (f"error: --callback-listen 127.0.0.1:{port}: cannot listen "
                             "there (Address already in use)\n")
    assert result.stdout == ""
    assert sandbox.ledger.creates == ()
    assert sandbox.ledger.calls == {"query": 1}  # the keyless "are you a sandbox?" probe


def test_a_bad_host_port_is_one_line(project: Project, sandbox: Sandbox,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    result = run_cli(sandbox, monkeypatch, project.storyboard("launch.yaml"),
                     "--callback-listen", "localhost")
    assert result.exit_code == 2
    assert result.stderr == ("error: --callback-listen 'localhost': give [HOST:]PORT, e.g. "
                             "8080 or 127.0.0.1:0 (port 0: any free port)\n")
    assert sandbox.ledger.creates == ()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_a_job_an_earlier_run_left_running_is_woken_by_its_callback(
        project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    """Matched by hash: the callback of a job created by the run before reaches this one."""
    slow = start_sandbox(latency=1.0)
    listen = ["--callback-listen", f"127.0.0.1:{_free_port()}", *CALLBACKS_ONLY]
    try:
        path = project.storyboard("sequence.yaml")
        first = run_cli(slow, monkeypatch, path, "--only", "*.1", *listen,
                        "--job-timeout", "0.2")
        assert first.exit_code == 1 and "pending: 1" in first.stdout
        [job] = [c.job_id for c in slow.ledger.creates]
        assert slow.ledger.queries == {job: 1}  # at the end of its 0.2 s: still running
        second = run_cli(slow, monkeypatch, path, "--only", "*.1", *listen,
                         "--job-timeout", "60")
        assert second.exit_code == 0, second.stdout + second.stderr
        assert "delivered: 1" in second.stdout
        # resumed: one look at once (still running), one when its callback came
        assert slow.ledger.queries == {job: 3}
        assert len(slow.ledger.creates) == 1
    finally:
        slow.stop()


def test_a_hint_for_a_job_still_running_costs_one_query(project: Project) -> None:
    """A hint is only a hint: the job is asked, found running, and waited for again."""
    slow = start_sandbox(latency=1.0)
    listener = Listener(Listen("127.0.0.1", 0))
    early: list[threading.Thread] = []

    def hint_early(event: Event) -> None:  # as soon as the job exists: long before its end
        if event.phase == "submitted":  # the URL its create carried, token and all
            [url] = [c.callback_url for c in slow.ledger.creates if c.job_id == event.detail]
            early.append(threading.Thread(target=httpx.post, args=(url,)))
            early[-1].start()

    try:
        plan = plan_file(project.storyboard("sequence.yaml"))
        workspace = Workspace.beside(Path(plan.root), plan.name)
        options = RunOptions(poll=PollPolicy(start=30, maximum=60, deadline=60),
                             only=("*.1",), callback_listen=Listen("127.0.0.1", 0))
        with Journal.open(workspace.state_dir) as journal:
            prepared = prepare(plan, journal, workspace, options)
            summary = execute(prepared, journal=journal, workspace=workspace, options=options,
                              api=Api(slow.base_url, FAKE_KEY), on_event=hint_early,
                              listener=listener)
        for thread in early:
            thread.join()
        assert summary.exit_code == 0
        [job] = [c.job_id for c in slow.ledger.creates]
        assert slow.ledger.queries == {job: 2}  # the early hint's, then the callback's
        assert slow.ledger.callbacks == {"sent": 1}
    finally:
        listener.close()
        slow.stop()

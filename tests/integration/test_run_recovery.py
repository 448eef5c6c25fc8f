"""What a run does when things go wrong locally, or a paid video goes missing."""

from __future__ import annotations

import sqlite3

import pytest
from click.testing import CliRunner

from storyboard.api.sandbox import Sandbox
from storyboard.cli import cli

from .conftest import FAKE_KEY, Project, run_cli, start_sandbox


def test_a_local_failure_fails_one_generation_not_the_jobs_beside_it(
        project: Project, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = project.renders("title-sequence") / "default" / "titles.2.mp4"
    blocker.mkdir(parents=True)  # a folder where a video should go
    first = run_cli(sandbox, monkeypatch, project.storyboard("sequence.yaml"))
    assert first.exit_code == 1
    assert "delivered: 2" in first.stdout and "failed: 1" in first.stdout
    assert "default/titles.2 [job sbx1-" in first.stdout
    assert len(sandbox.ledger.creates) == 3  # every paid job journaled, none lost
    blocker.rmdir()
    second = run_cli(sandbox, monkeypatch, project.storyboard("sequence.yaml"))
    assert second.exit_code == 0
    assert "reused: 3" in second.stdout  # its video was already in the cache
    assert len(sandbox.ledger.creates) == 3 and sandbox.ledger.duplicates() == {}


def test_sandbox_runs_never_become_real_renders(project: Project,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    path = project.storyboard("sequence.yaml")
    # no final cut (test_readme_commands.py checks where the sandbox's cuts go)
    result = CliRunner().invoke(cli, ["run", str(path), "--sandbox", "--yes",
                                      "--sandbox-latency", "0.02", "--no-cut"])
    assert result.exit_code == 0, result.stdout
    assert (project.root / "renders" / "sandbox" / "title-sequence" / "default"
            / "titles.1.mp4").is_file()
    assert not (project.root / "renders" / "title-sequence").exists()
    # the real plan still has everything to render
    assert CliRunner().invoke(cli, ["plan", str(path), "--detailed-exitcode"]).exit_code == 2


def test_the_manifest_covers_the_whole_plan_even_with_only(
        project: Project, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    result = run_cli(sandbox, monkeypatch, project.storyboard("launch.yaml"),
                     "--only", "*/teaser")
    assert result.exit_code == 0
    entries = {e["id"]: e for e in project.manifest("aurora-launch")["generations"]}
    assert len(entries) == 12
    assert entries["us-wide/hero"]["status"] == "not rendered"
    assert entries["us-wide/hero"]["file"] is None
    assert entries["us-wide/teaser"]["charged_usd"] == "0.595"
    shared = entries["jp-wide/teaser"]
    assert (shared["same_as"], shared["charged_usd"]) == ("us-wide/teaser", None)
    assert shared["file"] == "jp-wide/teaser.mp4"
    charged = sum(float(e["charged_usd"] or 0) for e in entries.values())
    assert round(charged, 3) == 1.19  # two distinct teasers were paid for, not four


def test_a_finished_video_that_can_no_longer_be_fetched_is_reported_then_rendered_again(
        project: Project, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    path = project.storyboard("sequence.yaml")
    assert run_cli(sandbox, monkeypatch, path).exit_code == 0
    # the cached video is lost, and the provider no longer knows the job
    with sqlite3.connect(project.root / ".storyboard" / "journal.sqlite3") as db:
        [(digest,)] = db.execute("SELECT hash FROM attempts WHERE generation_id = ?",
                                 ("default/titles.1",)).fetchall()
        db.execute("UPDATE attempts SET job_id = 'expired-job' WHERE hash = ?", (digest,))
    (project.root / ".storyboard" / "cache" / digest[:2] / f"{digest}.mp4").unlink()
    # the manifest listed the job's real id, which the edited journal no longer knows
    (project.renders("title-sequence") / "manifest.json").unlink()
    lost = {c.request_hash for c in sandbox.ledger.creates}
    second = run_cli(sandbox, monkeypatch, path)
    assert second.exit_code == 1
    assert "the finished video can no longer be fetched" in second.stdout
    assert len(sandbox.ledger.creates) == 3  # reported, not silently paid again
    refused = run_cli(sandbox, monkeypatch, path)  # paying again is spending again
    assert refused.exit_code == 1
    assert ("error: $4.76 spent so far + $1.547 due now = $6.307, over the budget of $6.00 "
            "(budget.max_cost_usd at ") in refused.stderr
    path.write_text(path.read_text().replace("max_cost_usd: 6", "max_cost_usd: 7"))
    third = run_cli(sandbox, monkeypatch, path)
    assert third.exit_code == 0
    assert "$" in third.stdout and "delivered: 1" in third.stdout
    assert len(sandbox.ledger.creates) == 4  # the plan showed it as new; one new job
    assert {c.request_hash for c in sandbox.ledger.creates} == lost


def test_a_resumed_job_gets_the_whole_timeout_again(project: Project,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    slow = start_sandbox(latency=30.0)
    try:
        path = project.storyboard("sequence.yaml")
        first = run_cli(slow, monkeypatch, path, "--only", "*.1", "--job-timeout", "0.2")
        assert first.exit_code == 1 and "pending: 1" in first.stdout
        [job] = [c.job_id for c in slow.ledger.creates]
        before = slow.ledger.queries.get(job, 0)
        second = run_cli(slow, monkeypatch, path, "--only", "*.1", "--job-timeout", "0.5")
        assert second.exit_code == 1 and "pending: 1" in second.stdout
        assert slow.ledger.queries.get(job, 0) - before >= 4  # polled for 0.5 s, not once
        assert len(slow.ledger.creates) == 1
    finally:
        slow.stop()


@pytest.mark.parametrize(("option", "message"), [
    (["--rate", "0"], "--rate '0': give requests per second from 0.01 to 10000"),
    (["--poll-start", "0"], "--poll-start '0': give seconds from 0.01 to 3600"),
    (["--job-timeout", "0"], "--job-timeout '0': give seconds from 0.1 to 604800"),
    (["--concurrency", "0"], "--concurrency '0': give jobs in flight from 1 to 1000"),
    (["--poll-start", "2", "--poll-max", "1"], "--poll-start must be positive and at most"),
])
def test_bad_run_options_are_one_line_before_anything_is_sent(
        project: Project, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch,
        option: list[str], message: str) -> None:
    monkeypatch.setenv("SHORTAPI_KEY", FAKE_KEY)
    result = CliRunner().invoke(cli, ["run", str(project.storyboard("launch.yaml")), "--yes",
                                      "--api-base", sandbox.base_url, *option])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [f"error: {result.stderr[7:].strip()}"]
    assert message in result.stderr
    assert sandbox.ledger.creates == ()

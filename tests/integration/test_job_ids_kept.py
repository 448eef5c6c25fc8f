"""A job id is never dropped: when the journal cannot be written after a create (a disk
filling up, injected at the journal's write boundary), the run stops submitting, keeps
polling and downloading the jobs it holds, keeps their ids in a rescue file, and the
next run adopts them — nothing created twice, every charge accounted for."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import AbstractContextManager
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from storyboard.api.sandbox import Sandbox
from storyboard.errors import StateError
from storyboard.execute import executor as run_module
from storyboard.journal.sqlite import Journal, Status
from storyboard.plan.pricing import format_usd

from .conftest import Project, run_cli

NAME = "aurora-launch"
FULL = "database or disk is full"


class Disk:
    """Journal writes fail from the first job id on (``fill``: the disk filled up), or
    only the next ``failures`` writes of a job id (a hiccup that clears)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, *, fill: bool,
                 failures: int = 0) -> None:
        self.full = False
        self.failures = failures
        self.created_calls = 0
        real_writing, real_created = Journal._writing, Journal.created
        disk = self

        def writing(journal: Journal) -> AbstractContextManager[Any]:
            if disk.full:
                raise StateError(f"{journal.path}: cannot use the journal: {FULL}")
            return real_writing(journal)

        def created(journal: Journal, *args: Any, **kwargs: Any) -> None:
            disk.created_calls += 1
            if fill:
                disk.full = True
            if disk.failures:
                disk.failures -= 1
                raise StateError(f"{journal.path}: cannot use the journal: {FULL}")
            real_created(journal, *args, **kwargs)

        monkeypatch.setattr(Journal, "_writing", writing)
        monkeypatch.setattr(Journal, "created", created)
        monkeypatch.setattr(run_module, "JOURNAL_RETRY_DELAYS", (0.01, 0.01, 0.01))

    def clear(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.undo()


@pytest.fixture
def state(project: Project) -> Iterator[Path]:
    yield project.root / ".storyboard"


def test_a_job_id_the_journal_cannot_take_is_kept_polled_and_adopted_next_run(
        project: Project, sandbox: Sandbox, state: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    disk = Disk(monkeypatch, fill=True)
    first = run_cli(sandbox, monkeypatch, project.storyboard("launch.yaml"))
    creates = sandbox.ledger.creates
    held = {c.job_id for c in creates}
    assert 1 <= len(held) <= 4  # those in flight when the disk filled; then none more
    assert first.exit_code == 1
    assert "not started: " in first.stdout  # stopped submitting
    kept = [json.loads(line) for line in (state / "rescue.jsonl").read_text().splitlines()]
    assert {k["job_id"] for k in kept} == held
    for record in kept:
        line = (f"  not journaled: {record['generation_id']}: job {record['job_id']} was "
                f"created (it may be charged) but the journal could not record it "
                f"({state / 'journal.sqlite3'}: cannot use the journal: {FULL}); kept in "
                f"{state / 'rescue.jsonl'} for the next run to adopt")
        assert line in first.stdout
    # polled and downloaded from memory: their videos are in the renders
    delivered = int(first.stdout.split("delivered: ")[1].split()[0])
    assert delivered >= len(held)
    # what the API charged for the held jobs is counted, not $0.00
    charged = format_usd(sum((c.amount for c in creates), Decimal(0)))
    assert f" for new jobs; charged ${charged}\n" in first.stdout
    with Journal.open(state, exclusive=False) as journal:
        assert {a.job_id for a in journal.attempts()} == {None}  # the journal never took them
    disk.clear(monkeypatch)

    rerun = run_cli(sandbox, monkeypatch, project.storyboard("launch.yaml"))
    assert rerun.exit_code == 0, rerun.stdout + rerun.stderr
    assert f"note: journaled {len(held)} job id" in rerun.stderr
    assert not (state / "rescue.jsonl").exists()
    assert sandbox.ledger.duplicates() == {}
    assert len(sandbox.ledger.creates) == 10  # the held jobs were not created again
    with Journal.open(state, exclusive=False) as journal:
        done = {a.job_id for a in journal.attempts() if a.status is Status.DONE}
    assert held <= done
    manifest = project.manifest(NAME)["generations"]
    assert held <= {e["job_id"] for e in manifest}


def test_a_journal_write_that_fails_then_clears_is_retried(
        project: Project, sandbox: Sandbox, state: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    disk = Disk(monkeypatch, fill=False, failures=2)
    result = run_cli(sandbox, monkeypatch, project.storyboard("launch.yaml"))
    assert result.exit_code == 0, result.stdout + result.stderr
    assert disk.created_calls == 12  # two failed tries, then every one written
    assert not (state / "rescue.jsonl").exists()
    with Journal.open(state, exclusive=False) as journal:
        assert {a.job_id for a in journal.attempts()} == {c.job_id for c in
                                                          sandbox.ledger.creates}

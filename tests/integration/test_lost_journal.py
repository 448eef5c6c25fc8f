"""A lost journal is never a fresh start (issue 8's attack): a run is SIGKILLed while it
polls (the paid attempts live in journal.sqlite3-wal), then the journal is emptied and
its -wal removed. The next run refuses, creating nothing; putting the files back makes
the run pick up exactly the paid jobs."""

from __future__ import annotations

import shutil

import pytest

from storyboard.api.sandbox import Sandbox

from .conftest import Project, run_cli
from .test_crash import (  # noqa: F401  (fixtures)
    REQUESTS,
    STORYBOARD,
    Spawn,
    kill_while_polling,
    rerun_picks_up_the_paid_jobs,
    slow_sandbox,
    spawn,
)

JOURNAL = "journal.sqlite3"


@pytest.mark.slow
def test_an_emptied_journal_without_its_wal_is_refused_and_nothing_is_paid_twice(
        project: Project, slow_sandbox: Sandbox, sandbox: Sandbox, spawn: Spawn,  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    kill_while_polling(project, slow_sandbox, spawn)
    state = project.root / ".storyboard"
    assert (state / f"{JOURNAL}-wal").stat().st_size > 0  # where the paid attempts are
    kept = project.root / "kept"
    kept.mkdir()
    for name in (JOURNAL, f"{JOURNAL}-wal"):
        shutil.copy(state / name, kept / name)
    (state / JOURNAL).write_bytes(b"")  # emptied...
    for name in (f"{JOURNAL}-wal", f"{JOURNAL}-shm"):
        (state / name).unlink(missing_ok=True)  # ...and its -wal gone

    refused = run_cli(sandbox, monkeypatch, project.storyboard(STORYBOARD))
    assert refused.exit_code == 1
    [line] = refused.stderr.splitlines()
    assert line.startswith(f"error: {state / JOURNAL}: the journal is empty: journal.mark "
                           f"says attempt {REQUESTS} was written and the journal holds none. "
                           "Going on would pay again for jobs already paid.")
    assert "--accept-lost-journal" in line
    assert len(sandbox.ledger.creates) == 0
    # status reads the same journal: it shows what it can and says run will refuse
    from click.testing import CliRunner

    from storyboard.cli import cli

    shown = CliRunner().invoke(cli, ["status", str(project.storyboard(STORYBOARD))])
    assert shown.exit_code == 0, shown.output
    assert shown.stderr.splitlines() == [
        f"warning: `storyboard run` will refuse this state: {line.removeprefix('error: ')}"]
    assert run_cli(sandbox, monkeypatch, project.storyboard(STORYBOARD)).exit_code == 1
    assert len(sandbox.ledger.creates) == 0  # refused again: the refusal changed nothing

    for name in (JOURNAL, f"{JOURNAL}-wal"):  # what the message says to do
        shutil.copy(kept / name, state / name)
    rerun_picks_up_the_paid_jobs(project, slow_sandbox, sandbox, monkeypatch, REQUESTS)

"""A lost journal is never a fresh start: missing, empty or older than its mark or its
state folder shows, it is refused with one line saying what to do."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from storyboard.errors import JournalCorrupt, JournalLost
from storyboard.journal.sqlite import JOURNAL_FILE, MARK_FILE, Journal, Traces

REQUEST = {"model": "kwaivgi/kling-o3/text-to-video", "args": {"prompt": "dawn"}}


def begin(journal: Journal, n: int) -> int:
    return journal.begin(hash=f"h{n}", generation_id=f"us/h{n}", storyboard="board",
                         request=REQUEST, estimated_usd=Decimal("0.5"))


def journal_with(state: Path, attempts: int) -> None:
    with Journal.open(state) as journal:
        for n in range(attempts):
            attempt = begin(journal, n)
            journal.created(attempt, f"job-{n}", Decimal("0.5"))


def refusal(state: Path, **traces: object) -> str:
    with pytest.raises(JournalLost) as caught:
        Journal.open(state, traces=lambda: Traces(**traces))  # type: ignore[arg-type]
    [line] = caught.value.lines()
    assert "--accept-lost-journal" in line and f"{JOURNAL_FILE}-wal" in line
    return line


def test_the_mark_follows_every_attempt(tmp_path: Path) -> None:
    journal_with(tmp_path, 3)
    mark = json.loads((tmp_path / MARK_FILE).read_text())
    assert mark["attempts"] == 3 and len(mark["state"]) == 32


@pytest.mark.parametrize("how", ["missing", "empty"])
def test_a_missing_or_emptied_journal_is_refused_and_left_as_it_is(tmp_path: Path,
                                                                    how: str) -> None:
    journal_with(tmp_path, 4)
    (tmp_path / JOURNAL_FILE).unlink()
    if how == "empty":
        (tmp_path / JOURNAL_FILE).write_bytes(b"")
    line = refusal(tmp_path)
    assert line == (
        f"error: {tmp_path / JOURNAL_FILE}: the journal is {how}: {MARK_FILE} says attempt 4 "
        "was written and the journal holds none. Going on would pay again for jobs already "
        f"paid. Put back the journal this folder had ({JOURNAL_FILE} together with its "
        f"{JOURNAL_FILE}-wal file, from where they were moved or backed up), or rerun with "
        "--accept-lost-journal to go on with this one knowingly (jobs it does not list may "
        "be created and charged again)")
    assert not (tmp_path / JOURNAL_FILE).exists() or \
        (tmp_path / JOURNAL_FILE).read_bytes() == b""  # nothing written to it
    assert refusal(tmp_path) == line  # and again: a refusal does not make it a fresh start


def test_a_journal_put_back_from_an_older_copy_is_refused(tmp_path: Path) -> None:
    journal_with(tmp_path, 2)
    backup = tmp_path / "backup"
    backup.mkdir()
    shutil.copy(tmp_path / JOURNAL_FILE, backup / JOURNAL_FILE)  # closed: checkpointed
    with Journal.open(tmp_path) as journal:
        for n in (2, 3):
            begin(journal, n)
    shutil.copy(backup / JOURNAL_FILE, tmp_path / JOURNAL_FILE)
    line = refusal(tmp_path)
    assert "the journal is older than its state folder: journal.mark says attempt 4 was " \
        "written and the journal ends at attempt 2" in line


def test_what_the_state_folder_shows_counts_without_a_mark(tmp_path: Path) -> None:
    """Someone removed journal.* (the mark too): the cache and the manifest still tell."""
    journal_with(tmp_path, 2)
    for name in (JOURNAL_FILE, MARK_FILE):
        (tmp_path / name).unlink()
    line = refusal(tmp_path, cached=3, job_ids=frozenset({"job-0", "job-1"}),
                   manifest="renders/b/manifest.json", published=1, renders="renders/b")
    assert ("the journal is missing: the cache holds 3 videos; renders/b holds 1 published "
            "video; renders/b/manifest.json lists 2 job ids it does not know") in line


def test_a_manifest_listing_jobs_the_journal_lacks_is_refused(tmp_path: Path) -> None:
    journal_with(tmp_path, 2)
    (tmp_path / MARK_FILE).unlink()
    line = refusal(tmp_path, job_ids=frozenset({"job-0", "job-9"}), manifest="m.json")
    assert "the journal is older than its state folder: m.json lists 1 job id it does not " \
        "know" in line


def test_accepting_a_lost_journal_goes_on_and_resets_the_mark(tmp_path: Path) -> None:
    journal_with(tmp_path, 4)
    (tmp_path / JOURNAL_FILE).unlink()
    state_id = json.loads((tmp_path / MARK_FILE).read_text())["state"]
    with Journal.open(tmp_path, accept_lost=True) as journal:
        assert journal.attempts() == [] and journal.state_id == state_id
    assert json.loads((tmp_path / MARK_FILE).read_text())["attempts"] == 0
    with Journal.open(tmp_path) as journal:  # accepted once: no longer refused
        assert begin(journal, 0) == 1


def test_readers_are_not_refused(tmp_path: Path) -> None:
    journal_with(tmp_path, 1)
    (tmp_path / JOURNAL_FILE).unlink()
    with Journal.open(tmp_path, exclusive=False) as journal:
        assert journal.attempts() == []


def test_a_damaged_mark_is_reported(tmp_path: Path) -> None:
    journal_with(tmp_path, 1)
    (tmp_path / MARK_FILE).write_text("{")
    with pytest.raises(JournalCorrupt, match="the journal's mark is damaged"):
        Journal.open(tmp_path)
    with Journal.open(tmp_path, accept_lost=True) as journal:  # as the message says
        assert len(journal.attempts()) == 1
    assert json.loads((tmp_path / MARK_FILE).read_text())["attempts"] == 1

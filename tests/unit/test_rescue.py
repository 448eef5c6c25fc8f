"""Job ids the journal could not take: kept durably in the first place that takes them,
adopted by the next run, a line cut short by a full disk skipped."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from storyboard.execute.rescue import Kept, adopt, keep
from storyboard.journal.sqlite import Journal, Status

REQUEST = {"model": "kwaivgi/kling-o3/text-to-video", "args": {"prompt": "dawn"}}


def kept(attempt_id: int, job_id: str) -> Kept:
    return Kept(attempt_id, "h1", "us/hero", "board", REQUEST, Decimal("0.5"), job_id,
                Decimal("0.475"))


def test_kept_in_the_first_place_that_takes_it(tmp_path: Path) -> None:
    nowhere = tmp_path / "missing-folder" / "rescue.jsonl"
    beside = tmp_path / "rescue.jsonl"
    assert keep(kept(1, "job-1"), [nowhere, beside]) == beside
    assert keep(kept(2, "job-2"), [nowhere]) is None
    assert beside.read_text().count("\n") == 1 and '"job_id":"job-1"' in beside.read_text()


def test_adopted_as_pending_and_the_file_removed(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with Journal.open(state) as journal:
        begun = journal.begin(hash="h1", generation_id="us/hero", storyboard="board",
                              request=REQUEST, estimated_usd=Decimal("0.5"))
    rescue = tmp_path / "rescue.jsonl"
    keep(kept(begun, "job-1"), [rescue])
    keep(kept(99, "job-2"), [rescue])  # its row never reached the journal
    with rescue.open("a") as f:
        f.write('{"attempt_id": 3, "hash": "h1", "job_')  # cut short: never complete
    with Journal.open(state) as journal:
        assert adopt(journal, [rescue, tmp_path / "absent.jsonl"]) == ["job-1", "job-2"]
        attempts = journal.attempts()
    assert [(a.job_id, a.status, a.charged_usd) for a in attempts] == [
        ("job-1", Status.PENDING, Decimal("0.475")), ("job-2", Status.PENDING, Decimal("0.475"))]
    assert not rescue.exists()
    keep(kept(begun, "job-1"), [rescue])  # adopting twice adds nothing
    with Journal.open(state) as journal:
        assert adopt(journal, [rescue]) == []
        assert len(journal.attempts()) == 2

"""The lock file: stable text a reviewer can read, checked like any input, and the
re-rolled candidates it adds to a plan."""

from __future__ import annotations

from pathlib import Path

import pytest

from storyboard.errors import SourceLocation, UsageError
from storyboard.model import Generation, candidate_key, request_hash
from storyboard.plan.lock import (
    Lock,
    LockEntry,
    lock_path,
    lock_text,
    read_lock,
    with_rerolls,
    write_lock,
)

ARGS = {"prompt": "Dawn", "mode": "std", "duration": 3, "aspect_ratio": "16:9",
        "sound": "off", "multi_shot": False}
MODEL = "kwaivgi/kling-o3/text-to-video"
HASH = request_hash(MODEL, ARGS)
HERE = SourceLocation("s.yaml", 1, 1, "$")
ENTRY = '{"storyboard-lock": 1, "generations": {"us/open": {"hash": "' + HASH + '", '



def tries(variant: str, n: int) -> list[Generation]:
    return [Generation(variant, "open", None, MODEL, ARGS, candidate_key(HASH, c), HERE, c, n)
            for c in range(1, n + 1)]


def test_the_lock_file_sits_beside_the_storyboard_named_after_it() -> None:
    assert lock_path("video/launch.yaml") == Path("video/launch.yaml.lock")


def test_its_text_is_stable_sorted_and_leaves_out_what_says_nothing(tmp_path: Path) -> None:
    lock = Lock(tmp_path / "s.yaml.lock", {
        "us/open": LockEntry(HASH, rerolls=1, pick=2, sha256="a" * 64, job_id="job-2"),
        "jp/open": LockEntry(HASH, rerolls=0),  # nothing to say: not written
        "br/open": LockEntry(HASH, rerolls=2),
    })
    assert lock_text(lock) == (
        '{\n  "generations": {\n'
        f'    "br/open": {{\n      "hash": "{HASH}",\n      "rerolls": 2\n    }},\n'
        f'    "us/open": {{\n      "hash": "{HASH}",\n      "job_id": "job-2",\n'
        f'      "pick": 2,\n      "rerolls": 1,\n      "sha256": "{"a" * 64}"\n    }}\n'
        '  },\n  "storyboard-lock": 1\n}\n')
    write_lock(lock)
    again = read_lock(lock.path)
    assert again.entries == {k: v for k, v in lock.entries.items() if k != "jp/open"}
    assert lock_text(again) == lock_text(lock)


def test_no_lock_file_is_an_empty_lock(tmp_path: Path) -> None:
    assert read_lock(tmp_path / "none.lock").entries == {}


@pytest.mark.parametrize(("text", "problem"), [
    ("{", "the lock file is not valid JSON"),
    ('{"generations": {}}', "not a storyboard lock file"),
    ('{"storyboard-lock": 1, "generations": {"us/open": {"hash": "x"}}}',
     "generations.us/open.hash must be the request's sha256 (64 lowercase hex digits)"),
    (ENTRY + '"pick": 0}}}', "generations.us/open.pick must be a candidate number 1–100"),
    (ENTRY + '"rerolls": -1}}}', "generations.us/open.rerolls must be a whole number 0–99"),
    (ENTRY + '"picked": 1}}}', "generations.us/open: unknown key 'picked'"),
])
def test_a_damaged_lock_file_is_one_line_naming_it(tmp_path: Path, text: str,
                                                  problem: str) -> None:
    path = tmp_path / "s.yaml.lock"
    path.write_text(text)
    with pytest.raises(UsageError) as caught:
        read_lock(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert problem in str(caught.value)


def test_rerolls_number_on_from_the_storyboards_candidates_for_the_current_request_only(
        tmp_path: Path) -> None:
    lock = Lock(tmp_path / "l", {"us/open": LockEntry(HASH, rerolls=2),
                                 "jp/open": LockEntry("b" * 64, rerolls=5)})  # a stale entry
    planned = list(with_rerolls([*tries("us", 2), *tries("jp", 2)], lock))
    assert [(g.id, g.hash, g.candidates) for g in planned] == [
        ("us/open", HASH, 4), ("us/open~2", f"{HASH}.2", 4),
        ("us/open~3", f"{HASH}.3", 4), ("us/open~4", f"{HASH}.4", 4),
        ("jp/open", HASH, 2), ("jp/open~2", f"{HASH}.2", 2)]
    assert {g.request_hash for g in planned} == {HASH}
    assert all(g.args == ARGS for g in planned)  # the number is never part of the request

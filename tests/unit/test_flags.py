"""Quality flags, found by decoding generated clips: each flag on the clip that has the
fault, and none on a good clip (the sandbox's stand-ins move on every frame)."""

from __future__ import annotations

from pathlib import Path

import pytest
from mediakit import make_clip

from storyboard.media.flags import (
    ASPECT,
    BLACK,
    DURATION,
    FROZEN,
    SILENT,
    flags_of,
)
from storyboard.media.placeholder import Placeholder, render

ARGS = {"prompt": "a lamp", "mode": "std", "duration": 3, "aspect_ratio": "16:9",
        "sound": "on", "multi_shot": False}


def _placeholder(tmp_path: Path, **args: object) -> Path:
    request = {**ARGS, **args}
    path = tmp_path / "good.mp4"
    path.write_bytes(render(Placeholder.for_request("ab" * 32, request)))
    return path


def kinds(video: Path, *, seconds: int = 3, sound: bool = True,
          aspect: str = "16:9") -> list[str]:
    return [f.kind for f in flags_of(video, seconds=seconds, sound=sound, aspect=aspect)]


def test_a_good_clip_has_no_flag(tmp_path: Path) -> None:
    assert kinds(_placeholder(tmp_path)) == []


def test_black_frames(tmp_path: Path) -> None:
    video = make_clip(tmp_path / "black.mp4", size=(64, 36), seconds=3, color=(0, 0, 0),
                      tone=440)
    flags = flags_of(video, seconds=3, sound=True, aspect="16:9")
    assert BLACK in [f.kind for f in flags]
    assert "3.0 s of black frames" in [f.detail for f in flags if f.kind == BLACK]


def test_a_dark_clip_that_is_not_black_is_not_flagged_black(tmp_path: Path) -> None:
    video = make_clip(tmp_path / "dark.mp4", size=(64, 36), seconds=3, color=(60, 60, 80),
                      tone=440)
    assert BLACK not in kinds(video)


def test_frozen_stretch(tmp_path: Path) -> None:
    video = make_clip(tmp_path / "still.mp4", size=(64, 36), seconds=3, color=(200, 0, 0),
                      tone=440)
    found = flags_of(video, seconds=3, sound=True, aspect="16:9")
    assert [f.kind for f in found] == [FROZEN]
    assert found[0].detail == "the picture stands still for 3.0 s"


def test_silence_where_sound_on_was_asked(tmp_path: Path) -> None:
    silent = _placeholder(tmp_path, sound="off")  # rendered without a sound track
    assert kinds(silent, sound=True) == [SILENT]
    assert kinds(silent, sound=False) == []  # no sound asked, none missed


def test_a_duration_off_by_more_than_a_frame(tmp_path: Path) -> None:
    video = _placeholder(tmp_path)  # 3 s
    assert kinds(video, seconds=4) == [DURATION]
    assert kinds(video, seconds=3) == []


def test_a_resolution_that_does_not_match_the_aspect_ratio(tmp_path: Path) -> None:
    video = _placeholder(tmp_path)  # 16:9
    assert kinds(video, aspect="9:16") == [ASPECT]
    assert kinds(video, aspect="1:1") == [ASPECT]


@pytest.mark.parametrize(("seconds", "flagged"), [
    (3 - 3 / 24, True), (3 - 1 / 24, False), (3, False), (3 + 1 / 24, False),
    (3 + 2 / 24, True)])
def test_one_frame_off_is_tolerated_two_are_not(tmp_path: Path, seconds: float,
                                                flagged: bool) -> None:
    video = make_clip(tmp_path / "d.mp4", seconds=seconds, color=(0, 0, 200), tone=440)
    assert (DURATION in kinds(video)) is flagged

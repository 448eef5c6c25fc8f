"""``require`` looks for PyAV and Pillow until it finds them, then no more: a run checks
every video it downloads."""

from __future__ import annotations

from importlib.util import find_spec

import pytest

import storyboard.media as media
from storyboard.errors import MediaMissing


def test_missing_media_is_one_line_naming_the_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(media, "_found", False)
    monkeypatch.setattr(media, "find_spec", lambda name: None)
    with pytest.raises(MediaMissing, match=r"checking a video needs PyAV and Pillow.*pip install"):
        media.require("checking a video")
    assert media._found is False  # still looked for next time


def test_found_once_is_not_looked_for_again(monkeypatch: pytest.MonkeyPatch) -> None:
    looked: list[str] = []

    def counted(name: str) -> object:
        looked.append(name)
        return find_spec(name)

    monkeypatch.setattr(media, "_found", False)
    monkeypatch.setattr(media, "find_spec", counted)
    for _ in range(5):
        media.require("checking a video")
    assert looked == ["av", "PIL"]

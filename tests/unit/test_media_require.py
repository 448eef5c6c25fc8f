"""``require`` searches for PyAV and Pillow until it finds them, then no more (a run checks
every video it downloads); a module hidden in ``sys.modules`` still counts as missing."""

from __future__ import annotations

import sys
from importlib.util import find_spec

import pytest

import storyboard.media as media
from storyboard.errors import MediaMissing


def test_missing_media_is_one_line_naming_the_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(media, "_found", set())
    monkeypatch.setattr(media, "find_spec", lambda name: None)
    monkeypatch.delitem(sys.modules, "av", raising=False)
    monkeypatch.delitem(sys.modules, "PIL", raising=False)
    with pytest.raises(MediaMissing, match=r"checking a video needs PyAV and Pillow.*pip install"):
        media.require("checking a video")
    assert media._found == set()  # still looked for next time


def test_a_module_hidden_in_sys_modules_counts_as_missing(
        monkeypatch: pytest.MonkeyPatch) -> None:
    media.require("checking a video")  # found (and remembered)
    monkeypatch.setitem(sys.modules, "av", None)
    with pytest.raises(MediaMissing):
        media.require("checking a video")


def test_found_once_is_not_looked_for_again(monkeypatch: pytest.MonkeyPatch) -> None:
    looked: list[str] = []

    def counted(name: str) -> object:
        looked.append(name)
        return find_spec(name)

    monkeypatch.setattr(media, "_found", set())
    monkeypatch.setattr(media, "find_spec", counted)
    monkeypatch.delitem(sys.modules, "PIL", raising=False)  # as in a run: not imported
    for _ in range(5):
        media.require("checking a video")
    assert looked.count("PIL") == 1

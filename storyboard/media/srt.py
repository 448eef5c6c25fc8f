"""Captions as SubRip (``.srt``): the format every player and upload form reads."""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction

from storyboard.media.timeline import Cue


def timestamp(seconds: Fraction) -> str:
    """``HH:MM:SS,mmm``, rounded to the millisecond."""
    ms = round(seconds * 1000)
    hours, ms = divmod(ms, 3_600_000)
    minutes, ms = divmod(ms, 60_000)
    secs, ms = divmod(ms, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d},{ms:03d}"


def srt(cues: Iterable[Cue]) -> str:
    """Numbered cues, blank-line separated; a caption's paragraphs become its lines."""
    blocks = [f"{n}\n{timestamp(c.start)} --> {timestamp(c.end)}\n{c.text.strip()}\n"
              for n, c in enumerate(cues, 1)]
    return "\n".join(blocks)


def parse_srt(text: str) -> list[tuple[Fraction, Fraction, str]]:
    """(start, end, text) of each cue: how tests and the review read an .srt back."""
    cues = []
    for block in text.strip().split("\n\n"):
        lines = block.splitlines()
        if len(lines) < 3:
            continue
        start, _, end = lines[1].partition(" --> ")
        cues.append((_seconds(start), _seconds(end), "\n".join(lines[2:])))
    return cues


def _seconds(stamp: str) -> Fraction:
    hms, _, ms = stamp.strip().partition(",")
    hours, minutes, secs = (int(x) for x in hms.split(":"))
    return Fraction(hours * 3600 + minutes * 60 + secs) + Fraction(int(ms), 1000)

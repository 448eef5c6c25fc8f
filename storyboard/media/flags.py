"""Quality flags: what a reviewer would notice in a clip, found by decoding it locally.

- ``black``: at least ``BLACK_SECONDS`` of frames with nothing brighter than near-black;
- ``frozen``: at least ``FROZEN_SECONDS`` in which no frame differs from the one before;
- ``silent``: ``sound: on`` was asked, and the file has no audio or only silence;
- ``duration``: the video lasts more than one frame longer or shorter than requested;
- ``aspect``: width over height differs from the requested aspect ratio by more than
  rounding to whole (even) pixels explains.

Frames are compared at a small size in grey (``PROBE_WIDTH``): enough to see a picture
move, cheap enough to read every frame. The flags of a video depend only on its bytes
and the request, so callers may keep them by sha256.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storyboard.media import load

BLACK = "black"
FROZEN = "frozen"
SILENT = "silent"
DURATION = "duration"
ASPECT = "aspect"
KINDS = (BLACK, FROZEN, SILENT, DURATION, ASPECT)

BLACK_SECONDS = 0.5
FROZEN_SECONDS = 2.0
BLACK_LUMA = 32  # brightest grey level (of 255) a black frame may hold (video black is 16)
STILL_LUMA = 2  # the largest pixel change between two frames that still counts as still
SILENT_PEAK = 0.001  # -60 dBFS
PROBE_WIDTH = 64
_ASPECT_PIXELS = 2  # rounding each side to an even number of pixels


@dataclass(frozen=True, slots=True)
class Flag:
    kind: str
    detail: str  # one line a reviewer reads

    def text(self) -> str:
        return f"{self.kind}: {self.detail}"


@dataclass(frozen=True, slots=True)
class Picture:
    """What one pass over a video's frames measured."""

    width: int
    height: int
    seconds: float
    frame_seconds: float  # one frame's duration
    black: float  # the longest black stretch, in seconds
    frozen: float  # the longest still stretch, in seconds
    samples: tuple[Any, ...] = ()  # frames kept for thumbnails (PIL images)


def flags_of(video: Path, *, seconds: int, sound: bool, aspect: str) -> tuple[Flag, ...]:
    """Every flag of ``video``, rendered for a request of ``seconds``, ``sound`` and
    ``aspect`` (``"16:9"``)."""
    return judge(measure(video), video, seconds=seconds, sound=sound, aspect=aspect)


def judge(picture: Picture, video: Path, *, seconds: int, sound: bool,
          aspect: str) -> tuple[Flag, ...]:
    """The flags of a video whose frames ``picture`` measured (its sound is read here)."""
    found = []
    if picture.black >= BLACK_SECONDS:
        found.append(Flag(BLACK, f"{picture.black:.1f} s of black frames"))
    if picture.frozen >= FROZEN_SECONDS:
        found.append(Flag(FROZEN, f"the picture stands still for {picture.frozen:.1f} s"))
    if sound and is_silent(video):
        found.append(Flag(SILENT, "sound: on was asked, and the clip is silent"))
    if abs(picture.seconds - seconds) > picture.frame_seconds + 1e-6:
        found.append(Flag(DURATION, f"lasts {picture.seconds:.3f} s, {seconds} s requested"))
    wide, high = (int(n) for n in aspect.split(":"))
    expected_width = picture.height * wide / high
    if abs(picture.width - expected_width) > _ASPECT_PIXELS:
        found.append(Flag(ASPECT, f"{picture.width}×{picture.height} is not {aspect}"))
    return tuple(found)


def measure(video: Path, samples: int = 0) -> Picture:
    """One pass over every frame; with ``samples``, also keeps that many frames (PIL
    images, full size) from the middles of equal stretches, for thumbnails."""
    av = load("av", "checking a clip's quality")
    image_module, chops = load("PIL.Image"), load("PIL.ImageChops")
    black = frozen = black_run = frozen_run = 0.0
    previous = None
    last_time = 0.0
    kept: list[Any] = []
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        rate = stream.average_rate or stream.guessed_rate or 24
        step = 1 / float(rate)
        width, height = stream.codec_context.width, stream.codec_context.height
        small = (PROBE_WIDTH, max(1, round(height * PROBE_WIDTH / width)))
        targets = sample_times(_duration(stream, container), samples)
        # one reformatter for the pass: frame.reformat() sets up a new scaler for every
        # frame, nine tenths of the pass's time
        shrink = av.video.reformatter.VideoReformatter()
        frame = None
        for frame in container.decode(video=0):
            last_time = frame.time or 0.0
            while targets and last_time >= targets[0] - 1e-6:
                targets.pop(0)
                kept.append(frame.to_image())
            grey = _grey(shrink.reformat(frame, width=small[0], height=small[1],
                                         format="gray", interpolation="AREA"),
                         image_module)
            black_run = black_run + step if grey.getextrema()[1] <= BLACK_LUMA else 0.0
            still = previous is not None and \
                chops.difference(grey, previous).getextrema()[1] <= STILL_LUMA
            frozen_run = frozen_run + step if still else 0.0
            black, frozen = max(black, black_run), max(frozen, frozen_run)
            previous = grey
        if frame is not None:
            while len(kept) < samples:  # a file shorter than it says: its last frame
                kept.append(frame.to_image())
    # a still stretch of n frames spans n - 1 steps between them, plus the last frame's
    frozen = frozen + step if frozen else 0.0
    return Picture(width, height, last_time + step, step, black, frozen, tuple(kept))


def sample_times(duration: float, count: int) -> list[float]:
    """The middles of ``count`` equal stretches of ``duration`` seconds."""
    return [(i + 0.5) * duration / count for i in range(count)]


def _duration(stream: Any, container: Any) -> float:
    if stream.duration:
        return float(stream.duration * stream.time_base)
    return float(container.duration or 0) / 1_000_000


def _grey(frame: Any, image_module: Any) -> Any:
    """The frame's one (luma) plane as an "L" image, without the plane's row padding."""
    plane = frame.planes[0]
    return image_module.frombuffer("L", (plane.line_size, frame.height), bytes(plane),
                                   "raw", "L", 0, 1).crop((0, 0, frame.width, frame.height))


def is_silent(video: Path) -> bool:
    """No audio track, or nothing in it louder than ``SILENT_PEAK``."""
    from storyboard.media.audio import decode_pcm

    samples = array("f", decode_pcm(video))
    return not samples or max(max(samples), -min(samples)) < SILENT_PEAK

"""Test clips made with PyAV, and what a person checks in a video, read back by decoding.

Clips are solid colours (so a frame says which clip it came from) with an optional
tone (so a stretch of sound says which clip it came from), small and quick to make.
"""

from __future__ import annotations

import itertools
import math
from array import array
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

RATE = 48_000


def make_clip(path: Path, *, size: tuple[int, int] = (64, 36), seconds: float = 2,
              fps: int = 24, color: tuple[int, int, int] = (255, 0, 0),
              tone: float | None = None, preset: str = "ultrafast") -> Path:
    """A solid-colour H.264 clip; ``tone`` (Hz) adds an AAC track of a sine at that pitch."""
    from PIL import Image

    width, height = size
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=fps, options={"preset": preset})
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        audio = out.add_stream("aac", rate=RATE, layout="stereo") if tone else None
        picture = av.VideoFrame.from_image(Image.new("RGB", size, color)).reformat(
            format="yuv420p")
        for n in range(round(seconds * fps)):
            picture.pts, picture.time_base = n, Fraction(1, fps)
            out.mux(video.encode(picture))
        out.mux(video.encode(None))
        if audio is not None and tone:
            total = round(seconds * RATE)
            for start in range(0, total, 1024):
                count = min(1024, total - start)
                samples = array("h", (round(12000 * math.sin(2 * math.pi * tone * (start + i)
                                                               / RATE))
                                      for i in range(count) for _ in (0, 1)))
                frame = av.AudioFrame(format="s16", layout="stereo", samples=count)
                frame.planes[0].update(samples.tobytes())
                frame.sample_rate, frame.pts = RATE, start
                frame.time_base = Fraction(1, RATE)
                out.mux(audio.encode(frame))
            out.mux(audio.encode(None))
    return path


@dataclass(frozen=True)
class Frame:
    time: Fraction  # its presentation time in seconds
    color: tuple[int, int, int]  # at the centre
    corner: tuple[int, int, int]  # at (1, 1): padding shows here
    size: tuple[int, int]


def dominant(path: Path, seconds: float) -> tuple[int, int, int]:
    """The most common colour of the frame on screen at a time, padding's black aside: a
    placeholder's background (its text covers less of it)."""
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            if frame.time + 1e-6 >= seconds:
                image = frame.to_image().convert("RGB").quantize(8).convert("RGB")
                colors = [c for c in image.getcolors() if max(c[1]) > 16]
                return max(colors)[1]  # type: ignore[no-any-return]
    raise AssertionError(f"no frame at {seconds} s in {path}")


def frames(path: Path) -> list[Frame]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        found = []
        for frame in container.decode(stream):
            image = frame.to_image()
            w, h = image.size
            found.append(Frame(Fraction(frame.pts) * stream.time_base,
                               image.getpixel((w // 2, h // 2)), image.getpixel((1, 1)),
                               (w, h)))
        return found


def video_seconds(path: Path) -> Fraction:
    """Frames × frame duration: what a player shows."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        count = sum(1 for _ in container.decode(stream))
        return count / Fraction(stream.average_rate)


def frame_seconds(path: Path) -> Fraction:
    """How long one frame lasts: the tolerance of "within one frame"."""
    with av.open(str(path)) as container:
        return 1 / Fraction(container.streams.video[0].average_rate)


def samples(path: Path) -> array:  # type: ignore[type-arg]
    """The sound as mono s16 at 48 kHz (left channel), from the first sample played."""
    out = array("h")
    with av.open(str(path)) as container:
        if not container.streams.audio:
            return out
        resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
        for frame in container.decode(audio=0):
            for chunk in resampler.resample(frame):
                out.frombytes(bytes(chunk.planes[0])[:chunk.samples * 2])
        for chunk in resampler.resample(None):
            out.frombytes(bytes(chunk.planes[0])[:chunk.samples * 2])
    return out


def loudness(pcm: array, start: float, stop: float) -> float:  # type: ignore[type-arg]
    """RMS of the sound between two times (seconds), 0..1."""
    window = pcm[round(start * RATE):round(stop * RATE)]
    if not window:
        return 0.0
    return math.sqrt(sum(s * s for s in window) / len(window)) / 32768


def pitch(pcm: array, start: float, stop: float) -> float:  # type: ignore[type-arg]
    """The main frequency between two times, from zero crossings (enough for pure tones)."""
    window = pcm[round(start * RATE):round(stop * RATE)]
    crossings = sum(1 for a, b in itertools.pairwise(window) if a < 0 <= b)
    return crossings / (stop - start)


def largest_step(pcm: array, around: float, span: float = 0.02) -> int:  # type: ignore[type-arg]
    """The largest jump between neighbouring samples near a time: a click is one."""
    lo, hi = round((around - span) * RATE), round((around + span) * RATE)
    window = pcm[max(0, lo):hi]
    return max(abs(b - a) for a, b in itertools.pairwise(window))


def near(a: tuple[int, int, int], b: tuple[int, int, int], tolerance: int = 24) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=True))


def packets(path: Path) -> list[bytes]:
    """The video stream's packets as stored: equal bytes means copied, not re-encoded."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return [bytes(p) for p in container.demux(stream) if p.size]

"""Assemble one variant's final cut from its renders: one MP4, picture and sound in sync.

Two ways, chosen per cut:

* **copy** — when every part shares its codec parameters (codec, size, pixel format,
  frame rate, the encoder's parameter sets) with the output and every join is a plain
  cut, the video packets are copied as they are, one part after the other: no quality
  lost, and as fast as the disk.
* **encode** — otherwise every output frame is made at the output's size and rate
  (parts scaled and padded, never stretched; dissolves, fades and burned-in captions
  drawn) and encoded with libx264.

The sound is always rebuilt on the timeline (see ``audio``) and encoded as AAC, so it
covers the whole picture and stays in sync at every join in both ways.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

from storyboard.errors import MediaError
from storyboard.media import load
from storyboard.media.audio import SAMPLE_RATE, Sound, SoundWriter, build_sound
from storyboard.media.picture import PartFrames, Size, blend, caption, dim
from storyboard.media.timeline import Timeline
from storyboard.model import FADE

COPY = "copy"
ENCODE = "encode"


@dataclass(frozen=True, slots=True)
class Encoding:
    """How a re-encoded cut is written. ``veryfast`` keeps a local cut quick; the
    result is published video, so the quality (``crf``) stays high."""

    codec: str = "libx264"
    preset: str = "veryfast"
    crf: int = 20
    audio_codec: str = "aac"
    audio_bitrate: int = 192_000


@dataclass(frozen=True, slots=True)
class Probe:
    """What the assembler needs to know about one part's file."""

    path: Path
    size: Size
    fps: Fraction
    frames: int
    sound: bool
    params: tuple[Any, ...]  # equal for parts whose packets can follow each other

    @property
    def seconds(self) -> Fraction:
        return self.frames / self.fps


@dataclass(frozen=True, slots=True)
class Assembled:
    method: str  # COPY or ENCODE
    timeline: Timeline  # as measured in the files: what the output holds
    size: Size
    fps: Fraction


def inspect(path: Path) -> Probe:
    """What joining needs to know of a render: its size, rate, length in frames, sound,
    and the codec parameters that decide whether its packets can be copied. Renders were
    verified when downloaded (``probe.verify``), so this reads only the index."""
    av = load("av")
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise MediaError(f"{path}: no video stream")
            stream = container.streams.video[0]
            ctx = stream.codec_context
            fps = Fraction(stream.average_rate or stream.guessed_rate or 24)
            frames = stream.frames or sum(1 for p in container.demux(stream) if p.size)
            params = (ctx.name, ctx.width, ctx.height, ctx.pix_fmt, fps,
                      bytes(ctx.extradata or b""))
            return Probe(path, Size(ctx.width, ctx.height), fps, frames,
                         bool(container.streams.audio), params)
    except av.error.FFmpegError as exc:
        raise MediaError(f"{path}: not a readable video ({exc})") from exc


def output_format(probes: Sequence[Probe], size: tuple[int, int] | None,
                  fps: int | None) -> tuple[Size, Fraction]:
    """The cut's size (given, else the largest part's by pixel count) and frame rate
    (given, else the parts' own when they share one, else the highest)."""
    box = Size(*size) if size else max((p.size for p in probes), key=lambda s: s.pixels)
    rate = Fraction(fps) if fps else max(p.fps for p in probes)
    return box, rate


def assemble(timeline: Timeline, files: Mapping[str, Path], target: Path, *,
             music: Path | None = None, encoding: Encoding = Encoding()) -> Assembled:
    """Write ``timeline``'s cut to ``target`` (completely or not at all); ``files`` maps
    each part's generation id to its render."""
    probes = {gid: inspect(files[gid]) for gid in (p.generation for p in timeline.parts)}
    box, fps = output_format(list(probes.values()), timeline.cut.size, timeline.cut.fps)
    measured = timeline.measured({gid: p.seconds for gid, p in probes.items()})
    sounding = {gid for gid, p in probes.items() if p.sound}

    def sound(progress: Callable[[Sound], None]) -> Sound | None:
        return build_sound(measured, dict(files), sounding, music,
                           Decimal(timeline.cut.music_db), progress)

    params = {p.params for p in probes.values()}
    first = next(iter(probes.values()))
    copyable = (timeline.plain and not timeline.cut.burn_captions and len(params) == 1
                and first.size == box and first.fps == fps)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    av = load("av")
    try:
        with av.open(str(tmp), "w", format="mp4",
                     options={"movflags": "+faststart"}) as output:
            if copyable:
                video = _copied_stream(output, probes[timeline.parts[0].generation].path)
            else:
                video = output.add_stream(encoding.codec, rate=fps, options={
                    "preset": encoding.preset, "crf": str(encoding.crf)})
                video.width, video.height, video.pix_fmt = box.width, box.height, "yuv420p"
            audio = (output.add_stream(encoding.audio_codec, rate=SAMPLE_RATE,
                                       layout="stereo", bit_rate=encoding.audio_bitrate)
                     if sounding or music is not None else None)
            with SoundWriter(output, audio, sound) as writer:
                if copyable:
                    _copy(measured, probes, output, video, writer)
                else:
                    _encode(measured, _Pictures(measured, probes, box), fps, output, video,
                            writer)
        os.replace(tmp, target)
    except av.error.FFmpegError as exc:
        raise MediaError(f"cutting {timeline.variant}: {exc}") from exc
    finally:
        tmp.unlink(missing_ok=True)
    return Assembled(COPY if copyable else ENCODE, measured, box, fps)


def _copied_stream(output: Any, template: Path) -> Any:
    av = load("av")
    with av.open(str(template)) as source:
        return output.add_stream_from_template(source.streams.video[0])


def _copy(timeline: Timeline, probes: Mapping[str, Probe], output: Any, video: Any,
          sound: SoundWriter) -> None:
    """Each part's video packets as they are, shifted to follow the part before."""
    av = load("av")
    offset = Fraction(0)
    for part in timeline.parts:
        with av.open(str(probes[part.generation].path)) as source:
            stream = source.streams.video[0]
            shift = round(offset / stream.time_base)
            for packet in source.demux(stream):
                if packet.dts is None:
                    continue  # the demuxer's end-of-stream marker
                packet.pts += shift
                packet.dts += shift
                packet.stream = video
                output.mux(packet)
        offset += part.seconds
        sound.until(offset)
    sound.until(None)


def _encode(timeline: Timeline, pictures: _Pictures, fps: Fraction, output: Any, video: Any,
            sound: SoundWriter) -> None:
    """Every output frame made and encoded, in order."""
    cues = timeline.cues() if timeline.cut.burn_captions else ()
    try:
        for n in range(round(timeline.runtime * fps)):
            t = Fraction(n) / fps
            frame = pictures.at(t + Fraction(1, 2) / fps)  # what is on screen mid-frame
            text = "\n".join(c.text for c in cues if c.start <= t < c.end)
            if text:
                frame = caption(frame, text)
            frame.pts, frame.time_base = n, 1 / fps
            output.mux(video.encode(frame))
            sound.until(Fraction(n + 1) / fps)
    finally:
        pictures.close()
    output.mux(video.encode(None))
    sound.until(None)


class _Pictures:
    """The output picture at any time: the clip on screen, or two in a dissolve, faded."""

    def __init__(self, timeline: Timeline, probes: Mapping[str, Probe], box: Size) -> None:
        self.spans = timeline.spans
        self.probes, self.box = probes, box
        self.open: dict[int, tuple[int, PartFrames]] = {}  # span -> (part index, reader)

    def at(self, t: Fraction) -> Any:
        on = [n for n, s in enumerate(self.spans) if s.start <= t < s.end] or [
            len(self.spans) - 1]
        for n in list(self.open):
            if n < on[0]:
                self.open.pop(n)[1].close()
        frame = self._frame(on[-1], t)
        if len(on) > 1:  # a crossfade: the later clip dissolves in over the overlap
            later = self.spans[on[-1]]
            weight = float((t - later.start) / later.transition.overlap)
            frame = blend(self._frame(on[0], t), frame, min(1.0, max(0.0, weight)))
        return self._faded(on[-1], t, frame)

    def _faded(self, n: int, t: Fraction, frame: Any) -> Any:
        span = self.spans[n]
        level = Fraction(1)
        if span.transition.kind == FADE:
            level = min(level, (t - span.start) / (span.transition.seconds / 2))
        after = self.spans[n + 1].transition if n + 1 < len(self.spans) else None
        if after is not None and after.kind == FADE:
            level = min(level, (span.end - t) / (after.seconds / 2))
        return frame if level >= 1 else dim(frame, float(max(Fraction(0), level)))

    def _frame(self, n: int, t: Fraction) -> Any:
        span = self.spans[n]
        local, index = t - span.start, 0
        while index < len(span.parts) - 1 and local >= span.parts[index].seconds:
            local -= span.parts[index].seconds  # takes follow each other with plain cuts
            index += 1
        current = self.open.get(n)
        if current is None or current[0] != index:
            if current is not None:
                current[1].close()
            path = self.probes[span.parts[index].generation].path
            current = self.open[n] = (index, PartFrames(path, self.box))
        return current[1].at(local)

    def close(self) -> None:
        for _, reader in self.open.values():
            reader.close()
        self.open.clear()


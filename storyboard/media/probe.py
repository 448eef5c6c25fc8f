"""Reading video: what a download must be before it is trusted, and its frames for the eye.

The client verifies every download before it lands in ``renders/``: a file that is
empty, cut short, not a video at all (an HTML error page saved as ``.mp4``), or of the
wrong length must fail loudly. PyAV opens the container and reads its streams and
duration from the index; then every packet is read without decoding, which is what
catches a file cut short behind a complete index (a fast-start file keeps its index
first): a partial last packet, or fewer packets than the index lists. FFmpeg forgives
a cut through the index's trailing metadata; so the top-level boxes must also fill
the file exactly.
"""

from __future__ import annotations

import contextlib
import io
import os
import struct
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

from storyboard.errors import DownloadError
from storyboard.media import require

if TYPE_CHECKING:
    import av.container
    from PIL import Image

VideoSource = bytes | str | os.PathLike[str]  # the file's bytes, or a path to it

_MP4 = "mp4"  # among the names of FFmpeg's ISO-BMFF demuxer, "mov,mp4,m4a,3gp,3g2,mj2"


@dataclass(frozen=True, slots=True)
class VideoInfo:
    """What a check learned about a video file."""

    duration_s: float  # the container's: its longest track
    width: int
    height: int
    fps: Fraction | None  # None when the file does not say
    frames: int  # video frames in the index
    video_codec: str
    audio_codec: str | None  # None: no audio track
    audio_duration_s: float | None


def probe(source: VideoSource) -> VideoInfo:
    """Streams, size and duration of an MP4 video; DownloadError if it is not a complete one."""
    where = _where(source)
    file, head = _input(source, where)
    require("checking a video")
    import av

    try:
        with av.open(file, "r") as container:
            if _MP4 not in container.format.name.split(","):
                raise DownloadError(f"{where}: not an MP4 video (it reads as "
                                    f"{container.format.long_name or container.format.name})")
            info = _info(container, where)
            _check_packets(container, where)
        _check_boxes(file, where)
    except av.FFmpegError as exc:
        raise DownloadError(f"{where}: {_unreadable(head)} ({exc.strerror or exc})") from None
    return info


def verify(source: VideoSource, expected_seconds: int | None,
           tolerance: float = 0.5) -> VideoInfo:
    """``probe``, and the video lasts ``expected_seconds`` (± ``tolerance``) when given."""
    info = probe(source)
    if expected_seconds is not None and abs(info.duration_s - expected_seconds) > tolerance:
        raise DownloadError(f"{_where(source)}: the video lasts {info.duration_s:g} s, but "
                            f"{expected_seconds} s were requested")
    return info


def frame_at(source: VideoSource, seconds: float) -> Image.Image:
    """The frame shown at ``seconds`` (the last one past the end), as an RGB image."""
    where = _where(source)
    file, head = _input(source, where)
    require("reading a video frame")
    import av

    shown = None
    try:
        with av.open(file, "r") as container:
            for frame in container.decode(video=0):
                if shown is not None and frame.time is not None and frame.time > seconds:
                    break
                shown = frame
    except av.FFmpegError as exc:
        raise DownloadError(f"{where}: {_unreadable(head)} ({exc.strerror or exc})") from None
    if shown is None:
        raise DownloadError(f"{where}: the video has no frames")
    image: Image.Image = shown.to_image()  # type: ignore[no-untyped-call]
    return image


def _info(container: av.container.InputContainer, where: str) -> VideoInfo:
    if not container.streams.video:
        raise DownloadError(f"{where}: the file has no video track")
    video = container.streams.video[0]
    audio = container.streams.audio[0] if container.streams.audio else None
    if container.duration is None or container.duration <= 0:
        raise DownloadError(f"{where}: the video does not say how long it is")
    return VideoInfo(
        duration_s=container.duration / 1_000_000,  # AV_TIME_BASE
        width=video.codec_context.width,
        height=video.codec_context.height,
        fps=video.average_rate,
        frames=video.frames,
        video_codec=video.codec_context.name,
        audio_codec=audio.codec_context.name if audio else None,
        audio_duration_s=(float(audio.duration * audio.time_base)
                          if audio and audio.duration and audio.time_base else None),
    )


def _check_packets(container: av.container.InputContainer, where: str) -> None:
    """Every packet the index lists is in the file, whole."""
    listed = {s.index: s.frames for s in container.streams if s.type in ("video", "audio")}
    found = dict.fromkeys(listed, 0)
    for packet in container.demux(*(s for s in container.streams if s.index in listed)):
        if packet.size == 0:  # the demuxer's end-of-stream marker
            continue
        if packet.is_corrupt:
            raise DownloadError(f"{where}: truncated or corrupt: the {packet.stream.type} "
                                f"packet at byte {packet.pos} is incomplete")
        found[packet.stream.index] += 1
    for index, count in listed.items():
        if count and found[index] < count:
            kind = container.streams[index].type
            raise DownloadError(f"{where}: truncated: {found[index]} of the {count} {kind} "
                                "packets its index lists are in the file")


def _check_boxes(file: str | io.BytesIO, where: str) -> None:
    """The top-level ISO-BMFF boxes (size, type, ...) tile the file, none cut short."""
    with open(file, "rb") if isinstance(file, str) else contextlib.nullcontext(file) as f:
        end = f.seek(0, io.SEEK_END)
        offset = 0
        while offset < end:
            f.seek(offset)
            header = f.read(16)
            size, kind = struct.unpack_from(">I4s", header) if len(header) >= 8 else (8, b"")
            if size == 1 and len(header) == 16:
                (size,) = struct.unpack_from(">Q", header, 8)
            elif size == 0:
                size = end - offset  # the box runs to the end of the file
            if len(header) < 8 or size < 8 or offset + size > end:
                name = kind.decode("latin-1")
                raise DownloadError(f"{where}: truncated: the box {name!r} at byte {offset} "
                                    f"needs {size} bytes, {end - offset} remain")
            offset += size


def _unreadable(head: bytes) -> str:
    if head[4:8] == b"ftyp":
        return "not a complete MP4 video: truncated or corrupt"
    return f"not an MP4 video (it begins {head!r})"


def _where(source: VideoSource) -> str:
    return "downloaded video" if isinstance(source, bytes) else str(source)


def _input(source: VideoSource, where: str) -> tuple[str | io.BytesIO, bytes]:
    """What to open (a path is read by FFmpeg itself), and the file's first bytes."""
    if isinstance(source, bytes):
        file: str | io.BytesIO = io.BytesIO(source)
        head = source[:16]
    else:
        file = os.fspath(source)
        try:
            with open(file, "rb") as opened:
                head = opened.read(16)
        except OSError as exc:
            raise DownloadError(f"{where}: cannot read the video: {exc.strerror or exc}") from None
    if not head:
        raise DownloadError(f"{where}: the file is empty")
    return file, head

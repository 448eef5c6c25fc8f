"""probe/verify accept a whole video of the right length and reject everything a bad
download can be: empty, an error page, cut short anywhere, the wrong video."""

from __future__ import annotations

import io
from pathlib import Path

import av
import pytest

from storyboard.errors import DownloadError
from storyboard.media.placeholder import Placeholder, placeholder_color, render
from storyboard.media.probe import VideoInfo, frame_at, probe, verify

KEY = "9b1d" + "0" * 60


def video(seconds: int = 5, **args: object) -> bytes:
    return render(Placeholder.for_request(KEY, {"duration": seconds, **args}))


def remux(data: bytes, path: Path, *, fmt: str = "mp4", audio_only: bool = False,
          options: dict[str, str] | None = None) -> Path:
    """The same streams in another layout (fast start: the index first) or container."""
    with av.open(io.BytesIO(data)) as source, \
            av.open(str(path), "w", format=fmt, options=options or {}) as out:
        streams = [s for s in source.streams if not (audio_only and s.type == "video")]
        mapped = {s.index: out.add_stream_from_template(s) for s in streams}
        for packet in source.demux(*streams):
            if packet.dts is not None:
                packet.stream = mapped[packet.stream.index]
                out.mux(packet)
    return path


@pytest.mark.parametrize(("seconds", "sound"), [(3, "off"), (5, "on"), (15, "on")])
def test_a_whole_video_probes_with_its_streams_size_and_length(seconds: int, sound: str) -> None:
    info = verify(video(seconds, sound=sound, mode="std", aspect_ratio="9:16"), seconds)
    assert info == VideoInfo(
        duration_s=float(seconds), width=144, height=256, fps=24, frames=24 * seconds,
        video_codec="h264", audio_codec="aac" if sound == "on" else None,
        audio_duration_s=float(seconds) if sound == "on" else None,
    )


def test_reads_a_path_and_a_fast_start_file(tmp_path: Path) -> None:
    plain = tmp_path / "clip.mp4"
    plain.write_bytes(video(5, sound="on"))
    fast = remux(plain.read_bytes(), tmp_path / "fast.mp4", options={"movflags": "+faststart"})
    assert fast.read_bytes()[36:40] == b"moov"  # the index first, as web servers prefer

    assert verify(plain, 5) == verify(str(fast), 5) == verify(plain.read_bytes(), 5)


@pytest.mark.parametrize(("data", "message"), [
    (b"", "downloaded video: the file is empty"),
    (b'{"code":410,"message":"url expired"}', r"not an MP4 video \(it begins b'\{\"code\""),
    (b"<!DOCTYPE html><html><body>Not Found</body></html>", "not an MP4 video"),
    (video()[:2000], "not a complete MP4 video: truncated or corrupt"),
    (video()[:-10], r"truncated: the box 'moov' at byte \d+ needs \d+ bytes, \d+ remain"),
    (video() + b"\x00\x00", "truncated: the box '' at byte"),
])
def test_rejects_what_is_not_a_complete_mp4(data: bytes, message: str) -> None:
    with pytest.raises(DownloadError, match=message):
        probe(data)


@pytest.mark.parametrize("keep", [0.3, 0.9, -1])
def test_a_fast_start_file_cut_short_is_caught_by_its_packets(tmp_path: Path,
                                                               keep: float) -> None:
    data = remux(video(6, sound="on"), tmp_path / "fast.mp4",
                 options={"movflags": "+faststart"}).read_bytes()
    cut = data[:int(len(data) * keep)] if keep > 0 else data[:-1]

    with pytest.raises(DownloadError, match="truncated"):
        probe(cut)


def test_a_file_without_video_or_in_another_container_is_rejected(tmp_path: Path) -> None:
    sound_only = remux(video(4, sound="on"), tmp_path / "a.m4a", audio_only=True)
    matroska = remux(video(4), tmp_path / "v.mkv", fmt="matroska")

    with pytest.raises(DownloadError, match="has no video track"):
        probe(sound_only)
    with pytest.raises(DownloadError, match=r"not an MP4 video \(it reads as Matroska"):
        probe(matroska)


def test_missing_path_is_a_download_error(tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match=r"nope.mp4: cannot read the video: No such file"):
        probe(tmp_path / "nope.mp4")


def test_the_wrong_length_fails_beyond_the_tolerance() -> None:
    with pytest.raises(DownloadError, match=r"^downloaded video: the video lasts 5 s, but 6 s "
                                            r"were requested$"):
        verify(video(5), 6)
    assert verify(video(5), 6, tolerance=1.0).duration_s == 5.0
    assert verify(video(5), None).duration_s == 5.0


def test_frame_at_shows_the_frame_of_that_moment() -> None:
    data = video(3)
    image = frame_at(data, 1.5)
    assert image.size == (320, 180)
    assert image.getpixel((300, 60)) == pytest.approx(placeholder_color(KEY), abs=6)
    assert frame_at(data, 1.5).tobytes() != frame_at(data, 0).tobytes()  # the time moved
    assert frame_at(data, 99).tobytes() == frame_at(data, 2.99).tobytes()  # the last one

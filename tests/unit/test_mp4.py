"""make_mp4 writes honest files; inspect/verify_mp4 reject everything a bad download can be."""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from storyboard.errors import DownloadError
from storyboard.mp4 import Mp4Info, inspect_mp4, make_mp4, verify_mp4


def box(kind: bytes, *payload: bytes) -> bytes:
    body = b"".join(payload)
    return struct.pack(">I4s", 8 + len(body), kind) + body


def mvhd_v0(timescale: int, duration: int) -> bytes:
    return box(b"mvhd", bytes(4), struct.pack(">IIII", 0, 0, timescale, duration), bytes(80))


def mvhd_v1(timescale: int, duration: int) -> bytes:
    return box(b"mvhd", b"\x01" + bytes(3), struct.pack(">QQIQ", 0, 0, timescale, duration),
               bytes(80))


FTYP = box(b"ftyp", b"isom", bytes(4), b"isom")


def children(data: bytes, start: int = 0, end: int | None = None) -> dict[bytes, bytes]:
    """Payloads of the boxes in data[start:end], by type (last one wins)."""
    end = len(data) if end is None else end
    found = {}
    while start < end:
        size, kind = struct.unpack_from(">I4s", data, start)
        found[kind] = data[start + 8 : start + size]
        start += size
    return found


@pytest.mark.parametrize("seconds", [3, 5, 15])
def test_made_file_verifies_with_its_duration(seconds: int) -> None:
    data = make_mp4(seconds, seed="job-1")

    assert verify_mp4(data, seconds) == Mp4Info(float(seconds), ("ftyp", "moov", "mdat"))
    assert len(data) < 4096


def test_seed_changes_the_bytes_and_only_the_seed() -> None:
    assert make_mp4(5, seed="a") == make_mp4(5, seed="a")
    assert make_mp4(5, seed="a") != make_mp4(5, seed="b")
    assert len(make_mp4(5, seed="a")) == len(make_mp4(5, seed="a-much-longer-seed"))


def test_made_file_has_the_full_box_tree_and_its_chunk_offset_points_into_mdat() -> None:
    data = make_mp4(4, seed="x")
    top = children(data)
    moov = children(top[b"moov"])
    trak = children(moov[b"trak"])
    mdia = children(trak[b"mdia"])
    stbl = children(children(mdia[b"minf"])[b"stbl"])

    assert list(top) == [b"ftyp", b"moov", b"mdat"]
    assert top[b"ftyp"][:4] == b"isom"
    assert struct.unpack_from(">II", moov[b"mvhd"], 12) == (1000, 4000)
    assert struct.unpack_from(">II", mdia[b"mdhd"], 12) == (1000, 4000)
    assert mdia[b"hdlr"][8:12] == b"vide"
    assert {b"stsd", b"stts", b"stsc", b"stsz", b"stco"} <= set(stbl)
    sizes = struct.unpack_from(">4I", stbl[b"stsz"], 12)
    (offset,) = struct.unpack_from(">I", stbl[b"stco"], 8)
    assert offset == len(data) - len(top[b"mdat"])
    assert offset + sum(sizes) == len(data)


@pytest.mark.skipif(shutil.which("ffprobe") is None, reason="ffprobe is not installed")
def test_ffprobe_reads_the_made_file(tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    path.write_bytes(make_mp4(6, seed="probe"))

    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration:stream=codec_name,nb_frames",
         "-of", "default=noprint_wrappers=1", str(path)],
        capture_output=True, text=True, check=True, timeout=30,
    )

    assert out.stderr == ""
    assert out.stdout.split() == ["codec_name=h264", "nb_frames=6", "duration=6.000000"]


def test_reads_a_path(tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    path.write_bytes(make_mp4(5))

    assert verify_mp4(path, 5).duration_s == 5.0
    assert inspect_mp4(str(path)).duration_s == 5.0


def test_missing_path_is_a_download_error(tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="cannot read the video"):
        inspect_mp4(tmp_path / "nope.mp4")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty"),
        (b'{"code":410,"message":"url expired"}', "not an MP4 file"),
        (b"<!DOCTYPE html><html><body>Not Found</body></html>", "not an MP4 file"),
        (box(b"free", bytes(4)) + box(b"mdat", b"x"), "its first box is 'mdat', not 'ftyp'"),
        (FTYP + box(b"mdat", bytes(16)), "has no 'moov' box"),
        (FTYP + b"\x00\x00", "truncated: 2 stray bytes"),
        (FTYP + struct.pack(">I4s", 4, b"moov"), "less than its own header"),
        (FTYP + struct.pack(">I4sQ", 1, b"mdat", 1 << 40), "truncated: box 'mdat'"),
        (FTYP + struct.pack(">I4s", 1, b"mdat"), "lost its 64-bit size"),
        (FTYP + box(b"moov", struct.pack(">I4s", 99, b"mvhd")), "truncated: box 'mvhd'"),
        (FTYP + b"\x00\x00\x00\x08\x00\x01\x02\x03", "no ISO-BMFF box at byte"),
    ],
)
def test_rejects_what_is_not_a_complete_mp4(data: bytes, message: str) -> None:
    with pytest.raises(DownloadError, match=message):
        inspect_mp4(data)


@pytest.mark.parametrize("cut", [1, 100, 0.5])
def test_a_cut_off_download_is_truncated(cut: float) -> None:
    data = make_mp4(5, seed="cut")
    keep = int(len(data) * cut) if isinstance(cut, float) else len(data) - cut

    with pytest.raises(DownloadError, match="truncated"):
        verify_mp4(data[:keep], 5)


def test_largesize_and_size_zero_boxes_are_walked() -> None:
    moov = box(b"moov", mvhd_v0(600, 4200))
    large_mdat = struct.pack(">I4sQ", 1, b"mdat", 16 + 5) + b"12345"
    to_end = struct.pack(">I4s", 0, b"mdat") + bytes(100)

    assert inspect_mp4(FTYP + moov + large_mdat + to_end) == Mp4Info(
        7.0, ("ftyp", "moov", "mdat", "mdat")
    )


def test_moov_after_mdat_and_a_leading_free_box_are_fine() -> None:
    data = box(b"free", bytes(8)) + FTYP + box(b"mdat", bytes(32)) + box(b"moov", mvhd_v0(1, 9))

    assert inspect_mp4(data) == Mp4Info(9.0, ("free", "ftyp", "mdat", "moov"))


def test_reads_a_version_1_movie_header() -> None:
    data = FTYP + box(b"moov", box(b"udta"), mvhd_v1(90000, 90000 * 12))

    assert verify_mp4(data, 12).duration_s == 12.0


@pytest.mark.parametrize(
    "moov",
    [
        box(b"moov"),
        box(b"moov", mvhd_v0(0, 5)),
        box(b"moov", mvhd_v0(1000, 0xFFFFFFFF)),
        box(b"moov", mvhd_v1(1000, 0xFFFFFFFFFFFFFFFF)),
        box(b"moov", box(b"mvhd", b"\x00\x00\x00\x00")),
    ],
)
def test_unreadable_duration_is_none_and_not_checked(moov: bytes) -> None:
    assert verify_mp4(FTYP + moov, 5).duration_s is None


def test_wrong_duration_fails_verification_beyond_the_tolerance() -> None:
    data = make_mp4(5)

    with pytest.raises(DownloadError, match=r"lasts 5 s, but 10 s were requested"):
        verify_mp4(data, 10)
    assert verify_mp4(FTYP + box(b"moov", mvhd_v0(1000, 5400)), 5).duration_s == 5.4
    with pytest.raises(DownloadError):
        verify_mp4(FTYP + box(b"moov", mvhd_v0(1000, 5400)), 5, tolerance=0.2)
    assert verify_mp4(data, None).duration_s == 5.0


def test_negative_duration_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="duration"):
        make_mp4(-1)

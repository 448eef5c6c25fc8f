"""Just enough ISO-BMFF (MP4) to make small test videos and to check downloaded ones.

The client verifies every download before it trusts it: a file that is empty, cut
short, or not an MP4 at all (an HTML error page saved as ``.mp4``) must fail loudly
rather than land in ``renders/``. Walking the top-level boxes catches all three
without a media library; the movie header's duration catches the wrong video.

``make_mp4`` is the other side, for the sandbox: a file of one or two kilobytes
holding a real box tree and a decodable H.264 track (one flat 16x16 frame per
second), so the whole download-and-verify path runs against honest files.
"""

from __future__ import annotations

import hashlib
import os
import struct
from dataclasses import dataclass
from pathlib import Path

from storyboard.errors import DownloadError

TIMESCALE = 1000  # movie and media time units per second
WIDTH = HEIGHT = 16  # one macroblock: the smallest legal H.264 picture

# Boxes that may stand before ``ftyp`` in the wild without making a file suspect.
_PREAMBLE = {b"free", b"skip", b"wide", b"pdin"}
_UNITY_MATRIX = struct.pack(">9I", 0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000)
_SEI_UUID = hashlib.md5(b"storyboard sandbox").digest()  # user_data_unregistered tag


VideoSource = bytes | str | os.PathLike[str]  # the file's bytes, or a path to it


@dataclass(frozen=True, slots=True)
class Mp4Info:
    """What a download check learned: the movie length (None if unreadable) and box order."""

    duration_s: float | None
    boxes: tuple[str, ...]


# --- writing -------------------------------------------------------------------------


def make_mp4(duration_s: int, *, seed: str = "") -> bytes:
    """A small, structurally valid MP4 of ``duration_s`` seconds; ``seed`` varies the bytes.

    One 16x16 frame per second, each sample tagged with a digest of ``seed`` (an SEI
    message), so two jobs never share a file (a content-addressed cache would notice)
    and a 15-second file stays near 2 KB.
    """
    if duration_s < 0:
        raise ValueError(f"duration must be >= 0 seconds, got {duration_s}")
    samples = [_sample(seed, i) for i in range(duration_s)]
    ftyp = _box(b"ftyp", b"isom" + struct.pack(">I", 0x200) + b"isomiso2avc1mp41")
    mdat = _box(b"mdat", b"".join(samples))
    # stco needs mdat's payload offset, which depends on moov's size; that size does
    # not depend on the offset's value, so build once to measure, then for real.
    moov_size = len(_moov(duration_s, samples, chunk_offset=0))
    moov = _moov(duration_s, samples, chunk_offset=len(ftyp) + moov_size + 8)
    return ftyp + moov + mdat


def _box(kind: bytes, *payload: bytes) -> bytes:
    body = b"".join(payload)
    return struct.pack(">I4s", 8 + len(body), kind) + body


def _full_box(kind: bytes, version: int, flags: int, *payload: bytes) -> bytes:
    return _box(kind, struct.pack(">I", (version << 24) | flags), *payload)


def _moov(duration_s: int, samples: list[bytes], *, chunk_offset: int) -> bytes:
    duration = duration_s * TIMESCALE
    mvhd = _full_box(
        b"mvhd", 0, 0,
        struct.pack(">IIII", 0, 0, TIMESCALE, duration),
        struct.pack(">IH", 0x00010000, 0x0100), bytes(10),  # rate 1.0, volume 1.0
        _UNITY_MATRIX, bytes(24),
        struct.pack(">I", 2),  # next track id
    )
    tkhd = _full_box(
        b"tkhd", 0, 0x3,  # enabled, in movie
        struct.pack(">IIII", 0, 0, 1, 0), struct.pack(">I", duration), bytes(8),
        struct.pack(">hhhH", 0, 0, 0, 0), _UNITY_MATRIX,
        struct.pack(">II", WIDTH << 16, HEIGHT << 16),
    )
    mdhd = _full_box(
        b"mdhd", 0, 0,
        struct.pack(">IIII", 0, 0, TIMESCALE, duration),
        struct.pack(">HH", 0x55C4, 0),  # language "und"
    )
    hdlr = _full_box(b"hdlr", 0, 0, bytes(4), b"vide", bytes(12), b"VideoHandler\x00")
    vmhd = _full_box(b"vmhd", 0, 1, bytes(8))
    dinf = _box(b"dinf", _full_box(b"dref", 0, 0, struct.pack(">I", 1), _full_box(b"url ", 0, 1)))
    stbl = _box(
        b"stbl",
        _full_box(b"stsd", 0, 0, struct.pack(">I", 1), _avc1_sample_entry()),
        _full_box(b"stts", 0, 0, *_entries([(len(samples), TIMESCALE)] if samples else [])),
        _full_box(b"stss", 0, 0, *_entries([(1,)] if samples else [])),
        _full_box(b"stsc", 0, 0, *_entries([(1, len(samples), 1)] if samples else [])),
        _full_box(
            b"stsz", 0, 0, struct.pack(">II", 0, len(samples)),
            *(struct.pack(">I", len(s)) for s in samples),
        ),
        _full_box(b"stco", 0, 0, *_entries([(chunk_offset,)] if samples else [])),
    )
    minf = _box(b"minf", vmhd, dinf, stbl)
    trak = _box(b"trak", tkhd, _box(b"mdia", mdhd, hdlr, minf))
    return _box(b"moov", mvhd, trak)


def _entries(rows: list[tuple[int, ...]]) -> tuple[bytes, ...]:
    """An entry count followed by rows of 32-bit fields (stts, stss, stsc, stco)."""
    return (struct.pack(">I", len(rows)), *(struct.pack(f">{len(r)}I", *r) for r in rows))


def _avc1_sample_entry() -> bytes:
    sps, pps = _h264_parameter_sets()
    avcc = _box(
        b"avcC",
        bytes([1, sps[1], sps[2], sps[3], 0xFF, 0xE1]), struct.pack(">H", len(sps)), sps,
        b"\x01", struct.pack(">H", len(pps)), pps,
    )
    return _box(
        b"avc1",
        bytes(6), struct.pack(">H", 1),  # reserved, data_reference_index
        bytes(16), struct.pack(">HH", WIDTH, HEIGHT),
        struct.pack(">III", 0x00480000, 0x00480000, 0),  # 72 dpi, reserved
        struct.pack(">H", 1), bytes(32),  # frame_count, compressorname
        struct.pack(">Hh", 0x0018, -1),  # depth, pre_defined
        avcc,
    )


def _h264_parameter_sets() -> tuple[bytes, bytes]:
    """Baseline-profile SPS and PPS for a one-macroblock (16x16) progressive picture."""
    sps = _Bits()
    for value in (0, 0, 2, 1):  # sps id, log2_max_frame_num-4, poc type 2, 1 ref frame
        sps.ue(value)
    sps.u(0, 1)  # gaps_in_frame_num_allowed
    sps.ue(WIDTH // 16 - 1)
    sps.ue(HEIGHT // 16 - 1)
    sps.u(1, 1)  # frame_mbs_only
    sps.u(1, 1)  # direct_8x8_inference
    sps.u(0, 1)  # frame_cropping
    sps.u(0, 1)  # vui_parameters_present
    pps = _Bits()
    for value in (0, 0):  # pps id, sps id
        pps.ue(value)
    pps.u(0, 2)  # CAVLC, bottom_field_pic_order_in_frame_present
    for value in (0, 0, 0):  # slice groups - 1, ref idx l0/l1 default - 1
        pps.ue(value)
    pps.u(0, 3)  # weighted_pred, weighted_bipred_idc
    for value in (0, 0, 0):  # pic_init_qp-26, pic_init_qs-26, chroma_qp_index_offset
        pps.se(value)
    pps.u(0b100, 3)  # deblocking control present, no constrained intra, no redundant pic cnt
    return bytes([0x67, 66, 0xC0, 10]) + sps.rbsp(), b"\x68" + pps.rbsp()


class _Bits:
    """An H.264 RBSP bit writer (fixed-width and Exp-Golomb fields)."""

    def __init__(self) -> None:
        self.bits: list[int] = []

    def u(self, value: int, width: int) -> None:
        self.bits.extend((value >> i) & 1 for i in reversed(range(width)))

    def ue(self, value: int) -> None:
        code = value + 1
        self.u(0, code.bit_length() - 1)
        self.u(code, code.bit_length())

    def se(self, value: int) -> None:
        self.ue(2 * value - 1 if value > 0 else -2 * value)

    def align(self) -> None:
        self.bits += [0] * (-len(self.bits) % 8)

    def raw(self, data: bytes) -> None:
        for byte in data:
            self.u(byte, 8)

    def rbsp(self) -> bytes:
        """The bits with rbsp_trailing_bits, as bytes (emulation prevention left to _nal)."""
        self.u(1, 1)
        self.align()
        bits = self.bits
        return bytes(int("".join(map(str, bits[i : i + 8])), 2) for i in range(0, len(bits), 8))


def _nal(header: int, rbsp: bytes) -> bytes:
    """A length-prefixed NAL unit, with emulation-prevention bytes inserted."""
    out = bytearray([header])
    zeros = 0
    for byte in rbsp:
        if zeros >= 2 and byte <= 3:
            out.append(3)
            zeros = 0
        out.append(byte)
        zeros = zeros + 1 if byte == 0 else 0
    return struct.pack(">I", len(out)) + bytes(out)


def _sample(seed: str, index: int) -> bytes:
    """Second ``index``: an SEI tag of ``seed``, then one picture.

    The first picture is an IDR frame of one I_PCM macroblock (raw pixels, shaded
    by ``seed``); every later one is a P frame that skips it. Real decoders show a
    still, flat 16x16 frame, which is all a test video needs.
    """
    digest = hashlib.sha256(f"{seed}\x00{index}".encode()).digest()
    tag = digest[:16].hex().encode("ascii")
    sei = _nal(0x06, bytes([5, len(_SEI_UUID) + len(tag)]) + _SEI_UUID + tag + b"\x80")
    bits = _Bits()
    bits.ue(0)  # first_mb_in_slice
    if index == 0:
        bits.ue(7)  # I slice
        bits.ue(0)  # pps id
        bits.u(0, 4)  # frame_num
        bits.ue(0)  # idr_pic_id
        bits.u(0, 2)  # no_output_of_prior_pics, long_term_reference
        bits.se(0)  # slice_qp_delta
        bits.ue(1)  # deblocking off
        bits.ue(25)  # mb_type I_PCM
        bits.align()
        luma = 16 + digest[16] % 220
        bits.raw(bytes([luma]) * 256 + bytes([128]) * 128)
        return sei + _nal(0x65, bits.rbsp())
    bits.ue(5)  # P slice
    bits.ue(0)  # pps id
    bits.u(index % 16, 4)  # frame_num
    bits.u(0, 3)  # no ref idx override, no list modification, no adaptive marking
    bits.se(0)  # slice_qp_delta
    bits.ue(1)  # deblocking off
    bits.ue(1)  # mb_skip_run: the one macroblock
    return sei + _nal(0x41, bits.rbsp())


# --- reading -------------------------------------------------------------------------


def inspect_mp4(data: VideoSource) -> Mp4Info:
    """Walk the top-level boxes and read the movie duration; DownloadError if not an MP4."""
    where, blob = _read(data)
    if not blob:
        raise DownloadError(f"{where}: the file is empty")
    if len(blob) >= 8 and blob[4:8] != b"ftyp" and blob[4:8] not in _PREAMBLE:
        raise DownloadError(
            f"{where}: not an MP4 file (no 'ftyp' box at the start; it begins {blob[:16]!r})"
        )
    boxes = _walk(blob, 0, len(blob), where)
    kinds = [kind for kind, _, _ in boxes]
    first = next((k for k in kinds if k not in _PREAMBLE), b"")
    if first != b"ftyp":
        raise DownloadError(
            f"{where}: not an MP4 file (its first box is {_name(first)!r}, not 'ftyp')"
        )
    moov = next(((start, end) for kind, start, end in boxes if kind == b"moov"), None)
    if moov is None:
        raise DownloadError(f"{where}: not a complete MP4 file (it has no 'moov' box)")
    return Mp4Info(
        duration_s=_movie_duration(blob, *moov, where),
        boxes=tuple(_name(k) for k in kinds),
    )


def verify_mp4(
    data: VideoSource, expected_seconds: int | None, tolerance: float = 0.5
) -> Mp4Info:
    """``inspect_mp4``, and the movie lasts ``expected_seconds`` (± tolerance) when readable."""
    info = inspect_mp4(data)
    if (
        expected_seconds is not None
        and info.duration_s is not None
        and abs(info.duration_s - expected_seconds) > tolerance
    ):
        raise DownloadError(
            f"{_where(data)}: the video lasts {info.duration_s:g} s, but {expected_seconds} s "
            "were requested"
        )
    return info


def _where(data: VideoSource) -> str:
    return "downloaded video" if isinstance(data, bytes) else str(data)


def _read(data: VideoSource) -> tuple[str, bytes]:
    if isinstance(data, bytes):
        return _where(data), data
    try:
        return _where(data), Path(data).read_bytes()
    except OSError as exc:
        raise DownloadError(f"{data}: cannot read the video: {exc.strerror or exc}") from None


def _walk(blob: bytes, start: int, end: int, where: str) -> list[tuple[bytes, int, int]]:
    """(type, payload start, box end) for each box in ``blob[start:end]``."""
    boxes: list[tuple[bytes, int, int]] = []
    offset = start
    while offset < end:
        if end - offset < 8:
            raise DownloadError(
                f"{where}: truncated: {end - offset} stray bytes at byte {offset} "
                "where a box header (8 bytes) should be"
            )
        size, kind = struct.unpack_from(">I4s", blob, offset)
        header = 8
        if size == 1:
            if end - offset < 16:
                raise DownloadError(f"{where}: truncated: box {_name(kind)!r} at byte {offset} "
                                    "lost its 64-bit size")
            (size,) = struct.unpack_from(">Q", blob, offset + 8)
            header = 16
        elif size == 0:
            size = end - offset  # the box runs to the end of its container
        if not _printable(kind):
            raise DownloadError(
                f"{where}: not an MP4 file (no ISO-BMFF box at byte {offset})"
            )
        if size < header:
            raise DownloadError(
                f"{where}: corrupt: box {_name(kind)!r} at byte {offset} declares "
                f"{size} bytes, less than its own header"
            )
        if offset + size > end:
            raise DownloadError(
                f"{where}: truncated: box {_name(kind)!r} at byte {offset} declares "
                f"{size} bytes but only {end - offset} remain"
            )
        boxes.append((kind, offset + header, offset + size))
        offset += size
    return boxes


def _movie_duration(blob: bytes, start: int, end: int, where: str) -> float | None:
    """Seconds from ``mvhd`` (version 0 or 1); None when absent, unknown or unreadable."""
    for kind, payload, box_end in _walk(blob, start, end, where):
        if kind != b"mvhd":
            continue
        version = blob[payload] if payload < box_end else None
        if version == 0 and box_end - payload >= 20:
            timescale, duration = struct.unpack_from(">II", blob, payload + 12)
            unknown = 0xFFFFFFFF
        elif version == 1 and box_end - payload >= 32:
            timescale, duration = struct.unpack_from(">IQ", blob, payload + 20)
            unknown = 0xFFFFFFFFFFFFFFFF
        else:
            return None
        if timescale == 0 or duration == unknown:
            return None
        return float(duration) / float(timescale)
    return None


def _printable(kind: bytes) -> bool:
    return all(0x20 <= b < 0x7F for b in kind)


def _name(kind: bytes) -> str:
    return kind.decode("latin-1")

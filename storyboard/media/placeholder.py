"""The sandbox's stand-in videos: files a person can check by eye, and a test by decoding.

The sandbox only sees a request, so that is what a placeholder shows. Its background
is one solid colour from the request hash (``placeholder_color``: a test tells clips
apart by decoding a frame); its text names the short hash, mode and aspect ratio,
the shot (number, prompt start) and the time and frame number. Its shape is the real
model's (seen on other gateways): the requested aspect ratio, std smaller than pro (720p and 1080p
there, divided by 5 and 6 here), 24 fps, exactly the requested seconds, and with
``sound: on`` an AAC track — a quiet tone, one pitch per shot — and none when off.

The same request makes the same bytes (fixed encoder settings, one thread, bit-exact
muxing, no timestamps), so content hashes stay stable. And it is quick, since a run
downloads hundreds: each shot's still is drawn and converted once, and the time line's
rows for every frame are drawn once per frame size and length, for every video of that
shape (``_time_lines``), so a frame costs two byte joins and the encoder.
"""

from __future__ import annotations

import colorsys
import hashlib
import io
import math
from array import array
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from storyboard.media import require

if TYPE_CHECKING:
    import av
    from PIL import Image, ImageFont

FPS = 24
SAMPLE_RATE = 48_000
_SHORT_SIDE = {"pro": 180, "std": 144}  # 1080p / 6 and 720p / 5, as on the real model
_ASPECTS = {"16:9": (16, 9), "9:16": (9, 16), "1:1": (1, 1)}
# One tone per shot, in samples per period: a whole number of periods each second, so
# every shot starts and ends on a zero crossing (no click). 400, 480, 600, 640, 800, 960 Hz.
_TONE_PERIODS = (120, 100, 80, 75, 60, 50)
_TONE_LEVEL = 0.1  # -20 dBFS: quiet, and plainly there
_VIDEO_OPTIONS = {"preset": "ultrafast", "crf": "30", "g": str(2 * FPS), "flags": "+bitexact"}
_AUDIO_OPTIONS = {"flags": "+bitexact"}
_BLACK, _WHITE = 16, 235  # luma of video-range black and white
_TIME_CHARS = "0123456789./s "


@dataclass(frozen=True, slots=True)
class Shot:
    seconds: int
    prompt: str


@dataclass(frozen=True, slots=True)
class Placeholder:
    """What a stand-in video shows and how it is shaped; ``render`` makes its bytes."""

    key: str  # the request hash: the colour, and the id on every frame
    mode: str
    aspect_ratio: str
    shots: tuple[Shot, ...]  # consecutive; their seconds are the video's
    sound: bool

    @classmethod
    def for_request(cls, key: str, args: Mapping[str, Any]) -> Placeholder:
        """The placeholder of a create's ``args`` (published defaults where absent)."""
        duration = int(args.get("duration", 5))
        shots = tuple(Shot(int(s["duration"]), str(s.get("prompt", "")))
                      for s in args.get("multi_prompt") or ())
        return cls(key=key, mode=str(args.get("mode", "pro")),
                   aspect_ratio=str(args.get("aspect_ratio", "16:9")),
                   shots=shots or (Shot(duration, str(args.get("prompt", ""))),),
                   sound=args.get("sound", "off") == "on")

    @property
    def seconds(self) -> int:
        return sum(shot.seconds for shot in self.shots)

    @property
    def size(self) -> tuple[int, int]:
        return frame_size(self.mode, self.aspect_ratio)


def frame_size(mode: str, aspect_ratio: str) -> tuple[int, int]:
    """(width, height) of a placeholder: even numbers, std smaller than pro."""
    short = _SHORT_SIDE[mode]
    across, down = _ASPECTS[aspect_ratio]
    long = short * max(across, down) // min(across, down)
    return (long, short) if across > down else (short, long)


def placeholder_color(key: str) -> tuple[int, int, int]:
    """The background of ``key``'s placeholder: spread over all hues, never dark or grey."""
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    hue = int.from_bytes(digest[:2], "big") / 65536
    saturation = 0.45 + 0.3 * digest[2] / 255
    value = 0.6 + 0.25 * digest[3] / 255
    red, green, blue = colorsys.hsv_to_rgb(hue, saturation, value)
    return round(red * 255), round(green * 255), round(blue * 255)


def render(placeholder: Placeholder) -> bytes:
    """The placeholder as an MP4 (H.264, and AAC when it has sound), the same bytes each time."""
    require("making a placeholder video")
    import av

    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4", options={"fflags": "+bitexact"}) as container:
        video = container.add_stream("libx264", rate=FPS, options=_VIDEO_OPTIONS)
        video.width, video.height = placeholder.size
        video.pix_fmt = "yuv420p"
        video.codec_context.thread_count = 1
        audio = None
        if placeholder.sound:
            audio = container.add_stream("aac", rate=SAMPLE_RATE, layout="stereo",
                                         options=_AUDIO_OPTIONS)
            audio.bit_rate = 64_000
            audio.codec_context.thread_count = 1
        canvas = _Canvas(placeholder)
        second = 0
        for number, shot in enumerate(placeholder.shots):
            still = canvas.still(number)
            tone = _tone_second(number)
            for _ in range(shot.seconds):  # a second at a time keeps the tracks interleaved
                for index in range(second * FPS, (second + 1) * FPS):
                    container.mux(video.encode(canvas.frame(still, index)))
                if audio is not None:
                    container.mux(audio.encode(_audio_frame(tone, second)))
                second += 1
        container.mux(video.encode(None))
        if audio is not None:
            container.mux(audio.encode(None))
    return buffer.getvalue()


def _tone_second(shot: int) -> bytes:
    """One second of shot ``shot``'s tone as 32-bit float samples."""
    period = _TONE_PERIODS[shot % len(_TONE_PERIODS)]
    wave = array("f", (_TONE_LEVEL * math.sin(2 * math.pi * k / period) for k in range(period)))
    return (wave * (SAMPLE_RATE // period)).tobytes()


def _audio_frame(tone: bytes, second: int) -> av.AudioFrame:
    import av

    frame = av.AudioFrame(format="fltp", layout="stereo", samples=SAMPLE_RATE)
    for plane in frame.planes:
        plane.update(tone)
    frame.sample_rate = SAMPLE_RATE
    frame.pts = second * SAMPLE_RATE
    frame.time_base = Fraction(1, SAMPLE_RATE)
    return frame


@dataclass(frozen=True, slots=True)
class _Still:
    """One shot's frame without its time line: planes as rows of exactly ``width`` bytes."""

    luma: bytes
    chroma: tuple[bytes, bytes]


class _Canvas:
    """Draws a placeholder's frames: a still per shot, the time line in a black band below."""

    def __init__(self, placeholder: Placeholder) -> None:
        self.placeholder = placeholder
        self.width, self.height = placeholder.size
        self.font, self.line, self.margin, self.band_top = _layout(self.width, self.height)
        self.bands = _time_lines(self.width, self.height, placeholder.seconds * FPS)

    def still(self, number: int) -> _Still:
        """Shot ``number``'s background and text, converted to YUV once."""
        import av
        from PIL import Image, ImageDraw

        p, shot = self.placeholder, self.placeholder.shots[number]
        image = Image.new("RGB", (self.width, self.height), placeholder_color(p.key))
        draw = ImageDraw.Draw(image)
        lines = [f"{p.key[:8]} {p.mode} {p.aspect_ratio}", f"shot {number + 1}/{len(p.shots)}",
                 *_wrap(shot.prompt, self.font, self.width - 2 * self.margin, lines=2)]
        for row, text in enumerate(lines):
            draw.text((self.margin, self.margin + row * self.line), text, font=self.font,
                      fill="white", stroke_width=1, stroke_fill="black")
        draw.rectangle((0, self.band_top, self.width, self.height), fill="black")
        rgb = av.VideoFrame.from_image(image)  # type: ignore[no-untyped-call]
        frame = rgb.reformat(format="yuv420p")
        luma, blue, red = (_rows(plane, width) for plane, width in
                           zip(frame.planes, (self.width, self.width // 2, self.width // 2),
                               strict=True))
        return _Still(luma[: self.band_top * self.width], (blue, red))

    def frame(self, still: _Still, index: int) -> av.VideoFrame:
        """Frame ``index`` (from 0): the still, with its time and number in the band."""
        import av

        frame = av.VideoFrame(self.width, self.height, "yuv420p")
        for plane, rows in zip(frame.planes, (still.luma + self.bands[index], *still.chroma),
                               strict=True):
            plane.update(_pad(rows, plane.width, plane.line_size))
        frame.pts = index
        frame.time_base = Fraction(1, FPS)
        return frame


@lru_cache(maxsize=8)
def _layout(width: int, height: int) -> tuple[ImageFont.FreeTypeFont | ImageFont.ImageFont,
                                              int, int, int]:
    """The font, line height, margin and the top row of the time line's band."""
    from PIL import ImageFont

    size = min(width, height) // 10
    line = size + 3
    band_top = height - (line + 5) // 2 * 2 - 2  # even: chroma rows align
    return ImageFont.load_default(size=size), line, max(4, width // 40), band_top


@lru_cache(maxsize=8)  # a few shapes (mode, aspect ratio, seconds) cover a whole run
def _time_lines(width: int, height: int, frames: int) -> tuple[bytes, ...]:
    """Each frame's time line band ("00.04 s   2/120") as luma rows, from glyphs drawn once."""
    from PIL import Image, ImageDraw

    font, _, margin, band_top = _layout(width, height)
    # digits share one width, so the line keeps its layout as the numbers change
    cell = math.ceil(max(font.getlength(c) for c in "0123456789"))
    advance = {c: cell if c.isdigit() else round(font.getlength(c)) for c in _TIME_CHARS}
    band_height = height - band_top
    empty = Image.new("L", (width, band_height), _BLACK)
    glyphs: dict[str, Image.Image] = {}
    for char in _TIME_CHARS:
        glyph = Image.new("L", (cell, band_height), _BLACK)
        ImageDraw.Draw(glyph).text((0, 2), char, font=font, fill=_WHITE)
        glyphs[char] = glyph
    bands = []
    for index in range(frames):
        band = empty.copy()
        x = margin
        for char in f"{index / FPS:05.2f} s   {index + 1}/{frames}":
            band.paste(glyphs[char], (x, 0))
            x += advance[char]
        bands.append(band.tobytes())
    return tuple(bands)


def _rows(plane: av.video.plane.VideoPlane, width: int) -> bytes:
    """A plane's pixels without the padding at the end of each line."""
    data, stride = bytes(plane), plane.line_size
    if stride == width:
        return data
    return b"".join(data[row * stride : row * stride + width] for row in range(plane.height))


def _pad(rows: bytes, width: int, stride: int) -> bytes:
    if stride == width:
        return rows
    padding = bytes(stride - width)
    return b"".join(rows[i : i + width] + padding for i in range(0, len(rows), width))


def _wrap(text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, width: int,
          lines: int) -> Iterator[str]:
    """Up to ``lines`` lines of ``text`` that fit ``width`` pixels; '...' marks a cut."""
    words = text.split()
    for row in range(lines):
        line = ""
        while words and font.getlength(f"{line} {words[0]}".strip()) <= width:
            line = f"{line} {words.pop(0)}".strip()
        if row == lines - 1 and words:
            while line and font.getlength(f"{line}...") > width:
                line = line[:-1]
            line += "..."
        if not line and words:  # one word wider than the frame
            line, words[0] = words[0][: max(1, len(words[0]) // 2)], words[0][len(words[0]) // 2:]
        if line:
            yield line

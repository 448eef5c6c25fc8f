"""What happens to a picture on its way into a re-encoded cut: fitted to the output size
(scaled, never stretched, and padded with black), dissolved, faded, captioned.

Scaling and padding run in libavfilter (``scale`` + ``pad``), so a 1080p frame never
passes through Python pixel by pixel; Pillow only draws the few frames a transition
or a burned-in caption touches.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from storyboard.media import load

PIX_FMT = "yuv420p"


@dataclass(frozen=True, slots=True)
class Size:
    width: int
    height: int

    @property
    def pixels(self) -> int:
        return self.width * self.height

    def __str__(self) -> str:
        return f"{self.width}x{self.height}"


def fit(source: Size, box: Size) -> tuple[Size, int, int]:
    """The size ``source`` scales to inside ``box`` keeping its shape (even numbers, as
    4:2:0 video needs), and the offsets that centre it."""
    scale = min(Fraction(box.width, source.width), Fraction(box.height, source.height))
    width = min(box.width, max(2, round(source.width * scale / 2) * 2))
    height = min(box.height, max(2, round(source.height * scale / 2) * 2))
    x, y = (box.width - width) // 4 * 2, (box.height - height) // 4 * 2  # even, centred
    return Size(width, height), x, y


class Fitter:
    """Turns one input stream's frames into output-size ``yuv420p`` frames."""

    def __init__(self, stream: Any, box: Size) -> None:
        av = load("av")
        source = Size(stream.codec_context.width, stream.codec_context.height)
        self._graph = None
        self._reformat = box
        if source == box:
            return
        scaled, x, y = fit(source, box)
        graph = av.filter.Graph()
        nodes = [graph.add_buffer(template=stream),
                 graph.add("scale", f"{scaled.width}:{scaled.height}:flags=bicubic"),
                 graph.add("pad", f"{box.width}:{box.height}:{x}:{y}:black"),
                 graph.add("format", PIX_FMT),
                 graph.add("buffersink")]
        graph.link_nodes(*nodes).configure()
        self._graph = graph

    def __call__(self, frame: Any) -> Any:
        if self._graph is None:
            return (frame if frame.format.name == PIX_FMT
                    else frame.reformat(format=PIX_FMT))
        self._graph.push(frame)
        return self._graph.pull()


class PartFrames:
    """One file's frames, fitted, looked up by time from its start (a frame is shown
    from its own time until the next one's: frame-rate changes repeat or drop frames)."""

    def __init__(self, path: Path, box: Size) -> None:
        av = load("av")
        self._container = av.open(str(path))
        stream = self._container.streams.video[0]
        stream.thread_type = "AUTO"
        self.fps = Fraction(stream.average_rate)
        self._fit = Fitter(stream, box)
        self._frames: Iterator[Any] = self._container.decode(stream)
        self._index = -1
        self._current: Any = None

    def at(self, seconds: Fraction) -> Any:
        wanted = max(0, int(seconds * self.fps))  # floor: the frame on screen at that time
        raw = None
        while self._index < wanted:
            try:
                raw = next(self._frames)
            except StopIteration:
                break  # a file a frame short holds its last frame
            self._index += 1
        if raw is not None:
            self._current = self._fit(raw)
        return self._current

    def close(self) -> None:
        self._container.close()


def blend(a: Any, b: Any, weight: float) -> Any:
    """``a`` dissolving into ``b``; ``weight`` 0 is all ``a``."""
    image = load("PIL.Image")
    mixed = image.blend(a.to_image(), b.to_image(), weight)
    return from_image(mixed)


def dim(frame: Any, level: float) -> Any:
    """``frame`` faded towards black; ``level`` 1 is the frame as it is."""
    image = load("PIL.Image")
    picture = frame.to_image()
    black = image.new("RGB", picture.size)
    return from_image(image.blend(black, picture, level))


def from_image(picture: Any) -> Any:
    av = load("av")
    return av.VideoFrame.from_image(picture).reformat(format=PIX_FMT)


def caption(frame: Any, text: str) -> Any:
    """``text`` burned in: white on a dark band, centred near the bottom."""
    draw_module = load("PIL.ImageDraw")
    font_module = load("PIL.ImageFont")
    picture = frame.to_image()
    width, height = picture.size
    size = max(10, height // 18)
    font = font_module.load_default(size=size)
    draw = draw_module.Draw(picture, "RGBA")
    box = draw.multiline_textbbox((0, 0), text, font=font, align="center")
    text_w, text_h = box[2] - box[0], box[3] - box[1]
    x, y = (width - text_w) // 2, height - text_h - size * 2
    pad = size // 2
    draw.rectangle((x - pad, y - pad, x + text_w + pad, y + text_h + pad), fill=(0, 0, 0, 160))
    draw.multiline_text((x - box[0], y - box[1]), text, font=font, fill=(255, 255, 255),
                        align="center")
    return from_image(picture)

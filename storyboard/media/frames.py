"""Poster frames and sprites for the review page: small JPEGs a browser shows at once.

One decoding pass picks ``SPRITE_FRAMES`` frames spread evenly across a video; the middle
one, larger, is the poster, and all of them side by side are the sprite. Both are named
by the video's sha256, so a report built again over the same renders decodes nothing:
a file whose name is already there was made from the same bytes. JPEG quality steps
down until a generation's two images together fit ``MAX_BYTES``.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storyboard.errors import MediaError
from storyboard.media import load
from storyboard.store import write_atomic

SPRITE_FRAMES = 8
POSTER_WIDTH = 320
TILE_WIDTH = 120
MAX_BYTES = 100_000  # poster + sprite, per generation
_QUALITIES = (80, 70, 60, 50, 40, 30, 20)


@dataclass(frozen=True, slots=True)
class Thumbnails:
    poster: Path
    sprite: Path
    reused: bool  # found already made from the same video bytes: nothing decoded

    @property
    def size(self) -> int:
        """Bytes on disk of the poster and sprite together."""
        return self.poster.stat().st_size + self.sprite.stat().st_size


def thumbnails(video: Path, sha256: str, folder: Path) -> Thumbnails:
    """The poster and sprite of ``video`` (whose content is ``sha256``) in ``folder``."""
    poster, sprite = folder / f"{sha256[:20]}.poster.jpg", folder / f"{sha256[:20]}.sprite.jpg"
    if poster.is_file() and sprite.is_file():
        return Thumbnails(poster, sprite, reused=True)
    frames = frames_across(video, SPRITE_FRAMES)
    big = _scaled(frames[len(frames) // 2], POSTER_WIDTH)
    tiles = [_scaled(f, TILE_WIDTH) for f in frames]
    strip = _side_by_side(tiles)
    for quality in _QUALITIES:
        poster_bytes, sprite_bytes = _jpeg(big, quality), _jpeg(strip, quality)
        if len(poster_bytes) + len(sprite_bytes) <= MAX_BYTES:
            break
    folder.mkdir(parents=True, exist_ok=True)
    write_atomic(poster, poster_bytes)
    write_atomic(sprite, sprite_bytes)
    return Thumbnails(poster, sprite, reused=False)


def frames_across(video: Path, count: int) -> list[Any]:
    """``count`` frames (PIL images) at the middles of ``count`` equal stretches of the video."""
    av = load("av", "making thumbnails")
    chosen: list[Any] = []
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        duration = (float(stream.duration * stream.time_base) if stream.duration
                    else (container.duration or 0) / 1_000_000)
        targets = [(i + 0.5) * duration / count for i in range(count)]
        last = None
        for frame in container.decode(video=0):
            last = frame
            while targets and (frame.time or 0.0) >= targets[0] - 1e-6:
                targets.pop(0)
                chosen.append(frame.to_image())
            if not targets:
                break
    if last is None:
        raise MediaError(f"{video}: the video has no frames")
    while len(chosen) < count:  # a file shorter than it says: repeat its last frame
        chosen.append(last.to_image())
    return chosen


def _scaled(image: Any, width: int) -> Any:
    height = max(1, round(image.height * width / image.width))
    return image.resize((width, height))


def _side_by_side(tiles: list[Any]) -> Any:
    image_module = load("PIL.Image", "making thumbnails")
    height = max(t.height for t in tiles)
    strip = image_module.new("RGB", (sum(t.width for t in tiles), height))
    x = 0
    for tile in tiles:
        strip.paste(tile, (x, 0))
        x += tile.width
    return strip


def _jpeg(image: Any, quality: int) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=quality, optimize=True)
    return out.getvalue()

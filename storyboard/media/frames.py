"""Poster frames and sprites for the review page: small JPEGs a browser shows at once.

One decoding pass picks ``SPRITE_FRAMES`` frames spread evenly across a video; the middle
one, larger, is the poster, and all of them side by side are the sprite. Both are named
by the video's sha256, so a report built again over the same renders decodes nothing:
a file whose name is already there was made from the same bytes. JPEG quality steps
down until a generation's two images together fit ``MAX_BYTES``.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
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


def thumbnail_files(sha256: str, folder: Path) -> tuple[Path, Path]:
    """Where the poster and sprite of the video whose content is ``sha256`` are kept."""
    return folder / f"{sha256[:20]}.poster.jpg", folder / f"{sha256[:20]}.sprite.jpg"


def thumbnails(video: Path, sha256: str, folder: Path,
               frames: Sequence[Any] | None = None) -> Thumbnails:
    """The poster and sprite of ``video`` (whose content is ``sha256``) in ``folder``,
    made from ``frames`` (``SPRITE_FRAMES`` of them, as ``frames_across`` picks) when
    given, else by decoding."""
    poster, sprite = thumbnail_files(sha256, folder)
    if poster.is_file() and sprite.is_file():
        return Thumbnails(poster, sprite, reused=True)
    if not frames:
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
    """``count`` frames (PIL images) at the middles of ``count`` equal stretches of the
    video (the pass that measures its quality keeps them too: ``flags.measure``)."""
    from storyboard.media.flags import measure

    picture = measure(video, count)
    if not picture.samples:
        raise MediaError(f"{video}: the video has no frames")
    return list(picture.samples)


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

"""Sandbox placeholders, checked by decoding them: shape, timing, sound, colour, text."""

from __future__ import annotations

import io
import math
from array import array
from typing import Any

import av
import pytest
from PIL import Image, ImageChops, ImageStat

from storyboard.media.placeholder import (
    Placeholder,
    Shot,
    frame_size,
    placeholder_color,
    render,
)

KEY = "3f6c0a9e" + "0" * 56


def request(**args: Any) -> dict[str, Any]:
    return {"prompt": "Aurora X1 turning slowly", "mode": "pro", "duration": 5,
            "aspect_ratio": "16:9", "sound": "off", **args}


def decode(data: bytes) -> tuple[list[Image.Image], list[float], av.container.InputContainer]:
    """Every video frame as an image, and the audio's samples (left channel)."""
    container = av.open(io.BytesIO(data))
    frames = [f.to_image() for f in container.decode(video=0)]
    container.seek(0)
    samples: list[float] = []
    if container.streams.audio:
        for frame in container.decode(audio=0):
            samples.extend(array("f", bytes(frame.planes[0]))[: frame.samples])
    return frames, samples, container


def background(image: Image.Image) -> tuple[int, ...]:
    """The colour most of the frame shows: the median of each channel (text is a minority)."""
    return tuple(int(v) for v in ImageStat.Stat(image).median)


def close(a: tuple[int, ...], b: tuple[int, ...], tolerance: int = 6) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize(("mode", "aspect", "size"), [
    ("pro", "16:9", (320, 180)), ("pro", "9:16", (180, 320)), ("pro", "1:1", (180, 180)),
    ("std", "16:9", (256, 144)), ("std", "9:16", (144, 256)), ("std", "1:1", (144, 144)),
])
def test_the_frame_has_the_requested_aspect_and_std_is_smaller_than_pro(
        mode: str, aspect: str, size: tuple[int, int]) -> None:
    assert frame_size(mode, aspect) == size
    frames, _, container = decode(render(Placeholder.for_request(KEY, request(
        mode=mode, aspect_ratio=aspect, duration=3))))
    assert {f.size for f in frames} == {size}
    assert container.streams.video[0].codec_context.name == "h264"


@pytest.mark.parametrize("seconds", [3, 7, 15])
def test_24_fps_and_exactly_the_requested_seconds_with_sound_over_all_of_them(
        seconds: int) -> None:
    frames, samples, container = decode(render(Placeholder.for_request(
        KEY, request(duration=seconds, sound="on"))))
    video, audio = container.streams.video[0], container.streams.audio[0]

    assert len(frames) == seconds * 24 and video.average_rate == 24
    assert container.duration == seconds * 1_000_000  # microseconds: frame-exact
    assert video.duration * video.time_base == seconds
    assert audio.codec_context.name == "aac" and audio.sample_rate == 48_000
    assert audio.duration * audio.time_base == seconds  # covers the video, no more
    # every second holds the tone, at -20 dBFS (a sine's RMS is its peak / sqrt 2)
    for second in range(seconds):
        part = samples[second * 48_000 : (second + 1) * 48_000]
        rms = math.sqrt(sum(s * s for s in part) / len(part))
        assert 0.06 < rms < 0.08, (second, rms)


def test_sound_off_has_no_audio_track() -> None:
    _, samples, container = decode(render(Placeholder.for_request(KEY, request(sound="off"))))
    assert not container.streams.audio
    assert samples == []


def tone_hz(samples: list[float]) -> float:
    """The frequency of a clean tone, from its upward zero crossings."""
    ups = [i for i in range(1, len(samples)) if samples[i - 1] < 0 <= samples[i]]
    return 48_000 * (len(ups) - 1) / (ups[-1] - ups[0])


def test_each_shot_has_its_own_pitch_its_own_caption_and_the_same_colour() -> None:
    shots = [{"prompt": "Aerial of Tokyo at dawn", "duration": 2},
             {"prompt": "Logo lockup", "duration": 3}]
    placeholder = Placeholder.for_request(KEY, request(
        prompt="", duration=5, sound="on", multi_shot=True, shot_type="customize",
        multi_prompt=shots))
    assert placeholder.shots == (Shot(2, "Aerial of Tokyo at dawn"), Shot(3, "Logo lockup"))
    frames, samples, _ = decode(render(placeholder))

    # the pitch changes at the shot boundary (mid-shot seconds, away from the AAC edges)
    first, second = tone_hz(samples[12_000:84_000]), tone_hz(samples[108_000:228_000])
    assert first == pytest.approx(400, abs=2) and second == pytest.approx(480, abs=2)
    # the caption area changes at 2 s exactly, not within a shot; the background stays
    width, height = frames[0].size
    caption = (0, 0, width, height // 2)
    assert not changed(frames[0].crop(caption), frames[47].crop(caption))
    assert changed(frames[47].crop(caption), frames[48].crop(caption))
    assert not changed(frames[48].crop(caption), frames[119].crop(caption))
    assert close(background(frames[0]), placeholder_color(KEY))
    assert close(background(frames[119]), placeholder_color(KEY))


def changed(a: Image.Image, b: Image.Image) -> bool:
    """Text drawn differently, not compression noise (which stays near 20 of 255 here)."""
    return ImageChops.difference(a.convert("L"), b.convert("L")).getextrema()[1] > 100


def test_the_time_line_changes_every_frame() -> None:
    frames, _, _ = decode(render(Placeholder.for_request(KEY, request(duration=3))))
    width, height = frames[0].size
    band = (0, height * 4 // 5, width, height)
    assert all(changed(frames[i].crop(band), frames[i + 1].crop(band))
               for i in range(len(frames) - 1))


def test_the_background_is_the_keys_colour_and_another_key_looks_different() -> None:
    other = "c0ffee" + "1" * 58
    mine, _, _ = decode(render(Placeholder.for_request(KEY, request(duration=3))))
    theirs, _, _ = decode(render(Placeholder.for_request(other, request(duration=3))))

    assert close(background(mine[36]), placeholder_color(KEY))
    assert close(background(theirs[36]), placeholder_color(other))
    assert not close(placeholder_color(KEY), placeholder_color(other), tolerance=20)


def test_colours_are_deterministic_never_dark_and_spread_over_hues() -> None:
    colours = [placeholder_color(f"key-{i}") for i in range(500)]
    assert placeholder_color("key-7") == colours[7]
    assert min(max(c) for c in colours) >= 150  # bright enough to read white text on
    assert min(max(c) - min(c) for c in colours) >= 40  # never grey
    assert len({tuple(v // 64 for v in c) for c in colours}) >= 12  # many distinct looks


def test_the_same_request_makes_the_same_bytes_and_another_does_not() -> None:
    one = Placeholder.for_request(KEY, request(sound="on"))
    assert render(one) == render(Placeholder.for_request(KEY, request(sound="on")))
    assert render(one) != render(Placeholder.for_request(KEY[::-1], request(sound="on")))


def test_api_defaults_fill_what_a_request_leaves_out() -> None:
    placeholder = Placeholder.for_request(KEY, {"prompt": "x"})
    assert (placeholder.mode, placeholder.aspect_ratio, placeholder.seconds, placeholder.sound) \
        == ("pro", "16:9", 5, False)

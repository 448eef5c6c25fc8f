"""The final cut's fidelity, measured the way a person would check it: by decoding it.

Each test writes a small storyboard, makes its renders with PyAV (solid colours, tones),
assembles the cut and reads it back: frame times and colours, sound level and pitch at
each join, sizes and padding, packets copied or not.
"""

from __future__ import annotations

import textwrap
from fractions import Fraction
from pathlib import Path

import pytest
from mediakit import (
    frames,
    largest_step,
    loudness,
    make_clip,
    near,
    packets,
    pitch,
    samples,
    video_seconds,
)

from storyboard.compile import plan_file
from storyboard.media.assemble import COPY, ENCODE, assemble
from storyboard.media.timeline import Timeline

RED, GREEN, BLUE, BLACK = (255, 0, 0), (0, 255, 0), (0, 0, 255), (0, 0, 0)


def timeline(tmp_path: Path, clips: str, cut: str = "") -> Timeline:
    """The one variant's timeline of a storyboard with these clips (and cut section)."""
    path = tmp_path / "storyboard.yaml"
    path.write_text("storyboard: 1\nname: t\n" + textwrap.dedent(cut) + "clips:\n"
                    + textwrap.indent(textwrap.dedent(clips), "  "))
    [found] = plan_file(path).timelines
    return found


def three(tmp_path: Path, cut: str = "") -> Timeline:
    return timeline(tmp_path, """\
        - {id: a, prompt: A, duration: 3}
        - {id: b, prompt: B, duration: 3}
        - {id: c, prompt: C, duration: 3}
        """, cut)


def files(tmp_path: Path, line: Timeline, **specs: dict) -> dict[str, Path]:  # type: ignore[type-arg]
    """A clip made per part, by clip id: ``a={"color": RED, "tone": 440}``."""
    made = {}
    for span in line.spans:
        for part in span.parts:
            spec = {"seconds": float(part.seconds), **specs[span.clip]}
            made[part.generation] = make_clip(tmp_path / f"{span.clip}-{len(made)}.mp4", **spec)
    return made


def color_at(found: list, seconds: float) -> tuple[int, int, int]:  # type: ignore[type-arg]
    return min(found, key=lambda f: abs(f.time - Fraction(seconds))).color


def test_plain_cuts_of_matching_renders_are_stream_copied_in_storyboard_order(
        tmp_path: Path) -> None:
    line = three(tmp_path)
    made = files(tmp_path, line, a={"color": RED}, b={"color": GREEN}, c={"color": BLUE})
    out = tmp_path / "cut.mp4"
    done = assemble(line, made, out)
    assert done.method == COPY
    # the very packets of the renders, one after the other: copied, not re-encoded
    assert packets(out) == [p for gid in made for p in packets(made[gid])]
    assert video_seconds(out) == 9
    shown = frames(out)
    assert [near(color_at(shown, t), want) for t, want in
            ((0.5, RED), (2.95, RED), (3.05, GREEN), (5.95, GREEN), (6.05, BLUE), (8.9, BLUE))
            ] == [True] * 6
    # frame times run on without a gap or a repeat across the joins
    assert [f.time for f in shown] == [Fraction(n, 24) for n in range(9 * 24)]


def test_sound_covers_the_picture_in_sync_at_every_join_with_silence_where_none(
        tmp_path: Path) -> None:
    line = three(tmp_path)
    made = files(tmp_path, line, a={"color": RED, "tone": 440}, b={"color": GREEN},
                 c={"color": BLUE, "tone": 880})
    out = tmp_path / "cut.mp4"
    assert assemble(line, made, out).method == COPY  # the picture is copied all the same
    pcm = samples(out)
    assert abs(len(pcm) - 9 * 48_000) <= 1024  # within one AAC frame of the picture
    assert loudness(pcm, 0.1, 2.9) > 0.2 and abs(pitch(pcm, 0.1, 2.9) - 440) < 5
    assert loudness(pcm, 3.01, 5.99) < 0.001  # b has no sound: silence, exactly its span
    assert loudness(pcm, 6.1, 8.9) > 0.2 and abs(pitch(pcm, 6.1, 8.9) - 880) < 5
    # in sync: the sound stops and starts within a few milliseconds of each join
    assert loudness(pcm, 2.95, 2.99) > 0.2 and loudness(pcm, 3.005, 3.05) < 0.001
    assert loudness(pcm, 5.95, 5.995) < 0.001 and loudness(pcm, 6.01, 6.05) > 0.2


def test_no_click_at_a_hard_cut_between_two_sounds(tmp_path: Path) -> None:
    line = timeline(tmp_path, """\
        - {id: a, prompt: A, duration: 3}
        - {id: b, prompt: B, duration: 3}
        """)
    # 445.25 Hz ends its 3 s at the bottom of its wave; 1000 Hz starts at 0: a cut
    # without a ramp jumps by the whole amplitude there
    made = files(tmp_path, line, a={"tone": 445.25}, b={"tone": 1000})
    out = tmp_path / "cut.mp4"
    assemble(line, made, out)
    pcm = samples(out)
    # a step at the join no bigger than the tone's own steepest: no click
    assert largest_step(pcm, 3.0) <= 1.2 * largest_step(pcm, 4.5)


def test_mixed_sizes_are_scaled_to_fit_and_padded_never_stretched(tmp_path: Path) -> None:
    line = three(tmp_path)
    made = files(tmp_path, line,
                 a={"color": RED, "size": (96, 54)},  # pro: the largest, sets the size
                 b={"color": GREEN, "size": (64, 36)},  # std: same shape, scaled up
                 c={"color": BLUE, "size": (54, 96)})  # tall: scaled down, pillarboxed
    out = tmp_path / "cut.mp4"
    done = assemble(line, made, out)
    assert done.method == ENCODE and str(done.size) == "96x54"
    shown = frames(out)
    assert {f.size for f in shown} == {(96, 54)}
    at = {t: min(shown, key=lambda f: abs(f.time - Fraction(t))) for t in (1.5, 4.5, 7.5)}
    assert near(at[4.5].color, GREEN) and near(at[4.5].corner, GREEN)  # fills the frame
    assert near(at[7.5].color, BLUE) and near(at[7.5].corner, BLACK)  # padded with black
    from av import open as av_open

    with av_open(str(out)) as container:  # the tall clip keeps its shape: 54/96 of 54 wide
        frame = next(f for n, f in enumerate(container.decode(video=0)) if n == 180)
        row = [frame.to_image().getpixel((x, 27)) for x in range(96)]
    blue = sum(1 for pixel in row if near(pixel, BLUE, 60))
    assert abs(blue - round(54 * 54 / 96)) <= 2
    assert video_seconds(out) == 9


def test_crossfade_overlaps_the_clips_and_dissolves(tmp_path: Path) -> None:
    line = three(tmp_path, "cut: {transition: crossfade, transition_seconds: 1}\n")
    assert line.runtime == 7  # 9 s minus two 1 s overlaps
    made = files(tmp_path, line, a={"color": RED, "tone": 440}, b={"color": GREEN},
                 c={"color": BLUE, "tone": 880})
    out = tmp_path / "cut.mp4"
    assert assemble(line, made, out).method == ENCODE
    assert abs(video_seconds(out) - 7) <= Fraction(1, 24)
    shown = frames(out)
    assert near(color_at(shown, 1.0), RED) and near(color_at(shown, 4.0), GREEN)
    r, g, b = color_at(shown, 2.5)  # half way through a -> b: both at once
    assert 90 < r < 165 and 90 < g < 165 and b < 40
    pcm = samples(out)
    assert abs(len(pcm) - 7 * 48_000) <= 1024
    assert loudness(pcm, 2.1, 2.3) > loudness(pcm, 2.7, 2.9) > 0.01  # a's tone fades out


def test_fade_goes_through_black_without_shortening(tmp_path: Path) -> None:
    line = timeline(tmp_path, """\
        - {id: a, prompt: A, duration: 3}
        - {id: b, prompt: B, duration: 3, transition: fade, transition_seconds: 1}
        """)
    made = files(tmp_path, line, a={"color": RED}, b={"color": GREEN})
    out = tmp_path / "cut.mp4"
    assemble(line, made, out)
    shown = frames(out)
    assert video_seconds(out) == 6
    assert near(color_at(shown, 3.0), BLACK, 40)
    assert near(color_at(shown, 2.0), RED) and near(color_at(shown, 4.0), GREEN)


def test_frame_rates_that_differ_give_the_highest_and_keep_the_timing(tmp_path: Path) -> None:
    line = timeline(tmp_path, """\
        - {id: a, prompt: A, duration: 3}
        - {id: b, prompt: B, duration: 3}
        """)
    made = files(tmp_path, line, a={"color": RED, "fps": 24}, b={"color": GREEN, "fps": 30})
    out = tmp_path / "cut.mp4"
    done = assemble(line, made, out)
    assert done.fps == 30
    assert video_seconds(out) == 6
    shown = frames(out)
    assert near(color_at(shown, 2.95), RED) and near(color_at(shown, 3.05), GREEN)


def test_music_bed_loops_under_the_clips_at_its_level_and_fades_out(tmp_path: Path) -> None:
    music = make_clip(tmp_path / "bed.mp4", seconds=1, tone=220)
    line = timeline(tmp_path, """\
        - {id: a, prompt: A, duration: 3}
        - {id: b, prompt: B, duration: 3}
        """, "cut: {music: bed.mp4, music_db: -12}\n")
    made = files(tmp_path, line, a={"color": RED, "tone": 880}, b={"color": GREEN})
    out = tmp_path / "cut.mp4"
    assemble(line, made, out, music=music)
    pcm = samples(out)
    bed = loudness(pcm, 3.5, 4.5)  # b has no sound of its own: only the bed
    tone = 12000 / 32768 / 2 ** 0.5  # the bed's own level
    assert bed == pytest.approx(tone * 10 ** (-12 / 20), rel=0.15)
    assert abs(pitch(pcm, 3.5, 4.5) - 220) < 5
    assert loudness(pcm, 1.0, 2.0) > 2 * bed  # the clip's sound stays above the bed
    assert loudness(pcm, 5.9, 5.99) < bed / 4  # faded out at the end


def test_captions_burned_in_change_the_picture_only_while_they_show(tmp_path: Path) -> None:
    line = timeline(tmp_path, """\
        - {id: a, prompt: A, duration: 3, caption: "Hello"}
        - {id: b, prompt: B, duration: 3}
        """, "cut: {burn_captions: true}\n")
    made = files(tmp_path, line, a={"color": BLUE, "size": (320, 180)},
                 b={"color": BLUE, "size": (320, 180)})
    out = tmp_path / "cut.mp4"
    assert assemble(line, made, out).method == ENCODE
    from av import open as av_open

    def band(seconds: float) -> set[tuple[int, int, int]]:
        with av_open(str(out)) as container:
            for frame in container.decode(video=0):
                if frame.time >= seconds:
                    image = frame.to_image()
                    return {image.getpixel((x, y)) for x in range(100, 220, 4)
                            for y in range(140, 170, 2)}
        raise AssertionError("no frame")

    assert any(not near(p, BLUE, 60) for p in band(1.0))  # the caption is drawn
    assert all(near(p, BLUE, 30) for p in band(4.5))  # and gone after its clip

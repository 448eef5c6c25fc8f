"""What `storyboard run --sandbox` delivers is a stand-in a person can check by eye:
decoded, every video has its request's shape, length, sound and colour."""

from __future__ import annotations

import pytest
from PIL import ImageStat

from storyboard.api.sandbox import Sandbox
from storyboard.compile import compile_file
from storyboard.media.placeholder import frame_size, placeholder_color
from storyboard.media.probe import frame_at, probe

from .conftest import Project, run_cli

# example -> (name, how many (mode, aspect ratio, sound) combinations it requests)
EXAMPLES = {"launch.yaml": ("aurora-launch", 6),  # pro and std, 16:9 and 9:16, sound on, off
            "campaign.yaml": ("holiday-campaign", 3),  # 1:1 too
            "sequence.yaml": ("title-sequence", 1)}  # multi-shot takes with sound


@pytest.mark.parametrize("example", sorted(EXAMPLES))
def test_each_delivered_video_has_its_requests_size_fps_length_sound_and_colour(
        example: str, project: Project, sandbox: Sandbox,
        monkeypatch: pytest.MonkeyPatch) -> None:
    name, looks = EXAMPLES[example]
    assert run_cli(sandbox, monkeypatch, project.storyboard(example)).exit_code == 0
    delivered = {g["id"]: g for g in project.manifest(name)["generations"]}
    generations = compile_file(project.storyboard(example)).generations
    assert sorted(delivered) == sorted(g.id for g in generations)

    seen = set()
    for g in generations:
        entry = delivered[g.id]
        assert entry["hash"] == g.hash
        path = project.renders(name) / entry["file"]
        info = probe(path)
        assert (info.width, info.height) == frame_size(g.args["mode"], g.args["aspect_ratio"])
        assert info.fps == 24 and info.frames == 24 * g.seconds
        assert info.duration_s == g.seconds  # frame-exact
        if g.args["sound"] == "on":
            assert (info.audio_codec, info.audio_duration_s) == ("aac", g.seconds)
        else:
            assert info.audio_codec is None
        colour = tuple(ImageStat.Stat(frame_at(path, 1.0)).median)
        assert colour == pytest.approx(placeholder_color(g.hash), abs=6), g.id
        seen.add((g.args["mode"], g.args["aspect_ratio"], g.args["sound"]))
    assert len(seen) == looks

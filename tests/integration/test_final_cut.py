"""`storyboard run` ends with one finished video per variant; `storyboard cut` remakes them
from the cache alone. Through a real loopback sandbox, checked by decoding the results."""

from __future__ import annotations

import json
import os
from fractions import Fraction
from pathlib import Path

import pytest
from click.testing import CliRunner
from mediakit import dominant, frame_seconds, frames, loudness, near, samples, video_seconds

from storyboard.api.sandbox import Sandbox
from storyboard.cli import cli
from storyboard.media.placeholder import placeholder_color
from storyboard.media.srt import parse_srt

from .conftest import Project, Rendered, render_once, run_cli

PROMO = """\
storyboard: 1
name: promo
vars:
  skyline: "{{ {'us': 'New York', 'jp': 'Tokyo'}[market] }}"
variants:
  matrix:
    market: [us, jp]
cut:
  transition: crossfade
  transition_seconds: 0.5
clips:
  - id: open
    prompt: "Dawn over {{ skyline }}"
    caption: "{{ skyline }}"
    duration: 3
  - id: product
    prompt: "A lamp on a desk"
    duration: 4
    sound: "on"
    mode: std               # smaller frames than pro: scaled up to fit
  - id: close
    prompt: "The logo"
    caption: "Aurora"
    duration: 3
    transition: cut
    aspect_ratio: "9:16"    # tall in a wide cut: pillarboxed
"""


def test_run_ends_with_one_cut_per_variant_and_a_rerun_encodes_nothing(
        launch_rendered: Rendered, rendered: Project, sandbox: Sandbox,
        monkeypatch: pytest.MonkeyPatch) -> None:
    first = launch_rendered.result  # `run launch.yaml` through a sandbox, with its cuts
    assert first.exit_code == 0, first.stdout + first.stderr
    assert "4 cut ($0: assembled locally)" in first.stdout
    renders = rendered.renders("aurora-launch")
    cuts = {c["variant"]: c for c in rendered.manifest("aurora-launch")["cuts"]}
    assert sorted(cuts) == ["jp-tall", "jp-wide", "us-tall", "us-wide"]
    for variant, entry in cuts.items():
        video = renders / f"{variant}.mp4"
        # 12 + 5 + 10 s, with a 0.5 s crossfade from the teaser into the montage
        assert entry["file"] == f"{variant}.mp4" and entry["captions"] == f"{variant}.srt"
        assert abs(video_seconds(video) - Fraction(53, 2)) <= frame_seconds(video)
        assert [s["id"] for s in entry["from"]] == [f"{variant}/hero", f"{variant}/teaser",
                                                    f"{variant}/montage"]
    before = {v: (renders / f"{v}.mp4").stat().st_mtime_ns for v in cuts}
    second = run_cli(sandbox, monkeypatch, rendered.storyboard("launch.yaml"), cut=True)
    assert second.exit_code == 0
    assert "4 reused ($0: assembled locally)" in second.stdout
    assert sandbox.ledger.creates == ()
    assert {v: (renders / f"{v}.mp4").stat().st_mtime_ns for v in cuts} == before


def test_a_40_second_clip_in_three_takes_becomes_one_seamless_video(
        project: Project, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    result = run_cli(sandbox, monkeypatch, project.storyboard("sequence.yaml"), cut=True)
    assert result.exit_code == 0, result.stdout + result.stderr
    [entry] = project.manifest("title-sequence")["cuts"]
    assert [s["id"] for s in entry["from"]] == ["default/titles.1", "default/titles.2",
                                                "default/titles.3"]
    video = project.renders("title-sequence") / "default.mp4"
    assert video_seconds(video) == 40
    shown = frames(video)
    step = shown[1].time - shown[0].time
    # one frame after another at one rate, across both joins (13 s and 26 s): no gap, no repeat
    assert [f.time for f in shown] == [n * step for n in range(len(shown))]
    pcm = samples(video)  # sound: on — the track covers the whole picture, without a gap
    assert abs(len(pcm) - 40 * 48_000) <= 1024
    assert min(loudness(pcm, t - 0.2, t + 0.2) for t in (13, 26)) > 0.03


@pytest.fixture(scope="module")
def promo(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    """PROMO run once through a sandbox, with its cuts: the tests that only look at what
    it made share it; those that change it take a copy."""
    root = tmp_path_factory.mktemp("promo") / "project"
    root.mkdir()
    (root / "promo.yaml").write_text(PROMO)
    return render_once(root / "promo.yaml")


def test_captions_and_crossfades_through_the_sandbox(promo: Rendered) -> None:
    result = promo.result
    assert result.exit_code == 0, result.stdout + result.stderr
    renders = Project(promo.root).renders("promo")
    # 3 + 4 + 3 s, one crossfade of 0.5 s into the product, a plain cut into the close
    video = renders / "us.mp4"
    assert abs(video_seconds(video) - Fraction(19, 2)) <= frame_seconds(video)
    assert parse_srt((renders / "jp.srt").read_text()) == [
        (Fraction(0), Fraction(11, 4), "Tokyo"), (Fraction(13, 2), Fraction(19, 2), "Aurora")]


def test_the_cut_shows_the_clips_in_order_with_sound_in_sync_and_sizes_fitted(
        promo: Rendered) -> None:
    assert promo.result.exit_code == 0
    project = Project(promo.root)  # only read
    video = project.renders("promo") / "us.mp4"
    hashes = {g["id"]: g["hash"] for g in project.manifest("promo")["generations"]}
    # open 0-3 s, crossfade 2.5-3 s into product 2.5-6.5 s, plain cut into close 6.5-9.5 s
    for seconds, clip in ((1.0, "open"), (4.5, "product"), (8.0, "close")):
        assert near(dominant(video, seconds), placeholder_color(hashes[f"us/{clip}"]), 12), clip
    shown = frames(video)
    assert {f.size for f in shown} == {(320, 180)}  # the pro 16:9 clip's size
    tall = min(shown, key=lambda f: abs(f.time - 8))
    assert near(tall.corner, (0, 0, 0), 8)  # the 9:16 clip is padded, not stretched
    product = min(shown, key=lambda f: abs(f.time - 4.5))
    assert near(product.corner, placeholder_color(hashes["us/product"]), 12)  # std fills it
    pcm = samples(video)
    assert abs(len(pcm) - Fraction(19, 2) * 48_000) <= 1024
    assert loudness(pcm, 0.2, 2.4) < 0.001  # open has no sound
    assert loudness(pcm, 3.2, 6.3) > 0.03  # product's tone
    assert loudness(pcm, 6.3, 6.49) > 0.03 and loudness(pcm, 6.51, 9.4) < 0.001  # cut at 6.5


def test_one_edit_recuts_only_the_variant_that_uses_it(
        promo: Rendered, tmp_path: Path, sandbox: Sandbox,
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert promo.result.exit_code == 0
    path = promo.copy(tmp_path / "project").storyboard("promo.yaml")
    path.write_text(PROMO.replace("'Tokyo'", "'Osaka'"))
    again = run_cli(sandbox, monkeypatch, path, cut=True)
    assert again.exit_code == 0
    assert "delivered: 1" in again.stdout  # jp/open only
    lines = again.stdout.splitlines()
    assert any(line.startswith("  us: ") and "reused, nothing encoded" in line for line in lines)
    assert any(line.startswith("  jp: ") and line.endswith(" s, cut)") for line in lines)
    assert "1 cut, 1 reused" in again.stdout


def test_storyboard_cut_needs_no_key_and_no_api(promo: Rendered, tmp_path: Path) -> None:
    assert promo.result.exit_code == 0
    project = promo.copy(tmp_path / "project")
    path = project.storyboard("promo.yaml")
    renders = project.renders("promo")
    for video in renders.glob("*.mp4"):
        video.unlink()
    # no sandbox runs (the one it was rendered with is gone) and no key is set
    assert "SHORTAPI_KEY" not in os.environ
    result = CliRunner().invoke(cli, ["cut", str(path)])
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "2 reused ($0: assembled locally)" in result.stdout  # from the state's cut cache
    assert sorted(p.name for p in renders.glob("*.mp4")) == ["jp.mp4", "us.mp4"]


def test_variants_not_all_rendered_get_no_cut_and_the_summary_says_why(
        project: Project, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    result = run_cli(sandbox, monkeypatch, project.storyboard("launch.yaml"),
                     "--only", "us-wide/*", cut=True)
    assert result.exit_code == 0, result.stdout + result.stderr
    # jp-wide's teaser is the same request as us-wide's (its prompt names no market): there
    assert "  jp-wide: no cut: jp-wide/hero is not rendered yet; jp-wide/montage is not " \
           "rendered yet" in result.stdout
    assert "1 cut, 3 skipped" in result.stdout
    assert (project.renders("aurora-launch") / "us-wide.mp4").is_file()


@pytest.mark.parametrize(("edit", "line"), [
    (("cut:\n  transition: crossfade\n", "cut:\n  music: audio/bed.m4a\n"),
     "promo.yaml:9:10: error: music file 'audio/bed.m4a' not found; paths are relative to "
     "the storyboard's folder"),
    (('caption: "Aurora"', 'caption: "{{ brand }"'),
     "promo.yaml:23:14: error: template syntax error: unexpected '}'"),
])
def test_a_missing_music_file_or_bad_caption_stops_the_run_before_anything_is_paid(
        edit: tuple[str, str], line: str, project: Project, sandbox: Sandbox,
        monkeypatch: pytest.MonkeyPatch) -> None:
    path = project.storyboard("promo.yaml")
    path.write_text(PROMO.replace(*edit))
    result = run_cli(sandbox, monkeypatch, path, cut=True)
    assert result.exit_code == 1
    assert result.stderr.startswith(str(project.root / line.split(":")[0]) + ":" +
                                    line.split(":", 1)[1])
    assert len(sandbox.ledger.creates) == 0


def test_the_manifest_keeps_generations_and_cuts_together(promo: Rendered) -> None:
    data = json.loads((Project(promo.root).renders("promo") / "manifest.json").read_text())
    assert len(data["generations"]) == 6 and len(data["cuts"]) == 2
    assert {c["captions"] for c in data["cuts"]} == {"us.srt", "jp.srt"}


def test_no_cut_renders_only_and_cut_makes_them_later(
        project: Project, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    path = project.storyboard("promo.yaml")
    path.write_text(PROMO)
    result = run_cli(sandbox, monkeypatch, path)  # --no-cut, as run_cli does by default
    assert result.exit_code == 0 and "Final cuts\n" not in result.stdout
    assert not list(project.renders("promo").glob("*.mp4"))
    later = CliRunner().invoke(cli, ["cut", str(path)])
    assert later.exit_code == 0 and "2 cut ($0: assembled locally)" in later.stdout

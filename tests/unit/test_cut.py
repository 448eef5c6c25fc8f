"""Cuts are content-addressed and published: what a rerun encodes, what the manifest says."""

from __future__ import annotations

import json
import textwrap
from fractions import Fraction
from pathlib import Path

import pytest
from mediakit import frames, make_clip, near, video_seconds

from storyboard.compile import plan_file
from storyboard.execute.executor import Workspace
from storyboard.media.cut import CUT, REUSED, SKIPPED, Cutter
from storyboard.media.srt import parse_srt
from storyboard.model import Plan

STORYBOARD = """\
storyboard: 1
name: promo
variants:
  matrix:
    market: [us, jp]
cut:
  transition: crossfade
  transition_seconds: 0.5
clips:
  - id: open
    prompt: "Skyline of {{ market }}"
    caption: "Hello {{ market }}"
    duration: 3
  - id: shared
    duration: 4
    shots:
      - {prompt: "A desk", duration: 1, caption: "Look"}
      - {prompt: "A lamp", duration: 3}
"""

COLORS = {"us-open": (255, 0, 0), "jp-open": (0, 0, 255), "shared": (0, 255, 0)}


@pytest.fixture
def project(tmp_path: Path) -> tuple[Plan, Workspace]:
    path = tmp_path / "promo.yaml"
    path.write_text(STORYBOARD)
    plan = plan_file(path)
    workspace = Workspace.beside(tmp_path, plan.name)
    for item in plan.items:  # the renders a run would have left in the cache
        g = item.generation
        key = "shared" if g.clip == "shared" else f"{g.variant}-{g.clip}"
        cached = workspace.cache_file(g.hash)
        cached.parent.mkdir(parents=True, exist_ok=True)
        make_clip(cached, seconds=g.seconds, color=COLORS[key])
    return plan, workspace


def test_each_variant_is_cut_then_a_rerun_encodes_nothing(
        project: tuple[Plan, Workspace]) -> None:
    plan, workspace = project
    first = Cutter(plan, workspace).cut_all()
    assert [(r.variant, r.status) for r in first.results] == [("us", CUT), ("jp", CUT)]
    us = workspace.out_dir / "promo" / "us.mp4"
    assert first.results[0].file == us
    assert abs(video_seconds(us) - Fraction(13, 2)) <= Fraction(1, 24)  # 3 + 4 - 0.5
    assert near(frames(us)[0].color, COLORS["us-open"])
    before = us.stat()
    again = Cutter(plan, workspace).cut_all()
    assert [r.status for r in again.results] == [REUSED, REUSED]
    after = us.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_changing_one_render_recuts_only_the_variant_that_uses_it(
        project: tuple[Plan, Workspace]) -> None:
    plan, workspace = project
    Cutter(plan, workspace).cut_all()
    jp_open = next(i.generation for i in plan.items if i.generation.id == "jp/open")
    make_clip(workspace.cache_file(jp_open.hash), seconds=3, color=(255, 255, 0))
    again = Cutter(plan, workspace).cut_all()
    assert [(r.variant, r.status) for r in again.results] == [("us", REUSED), ("jp", CUT)]
    assert near(frames(workspace.out_dir / "promo" / "jp.mp4")[0].color, (255, 255, 0))


def test_srt_cues_are_the_clip_and_shot_boundaries(project: tuple[Plan, Workspace]) -> None:
    plan, workspace = project
    [us, _] = Cutter(plan, workspace).cut_all().results
    assert us.captions == workspace.out_dir / "promo" / "us.srt"
    text = us.captions.read_text()
    assert text.startswith("1\n00:00:00,000 --> 00:00:02,750\nHello us\n")
    # open ends at 3 s, shared starts at 2.5 s (a 0.5 s crossfade): the boundary is 2.75 s;
    # shared's first shot lasts 1 s from its start, 2.5 to 3.5 s, shown from the boundary
    assert parse_srt(text) == [(Fraction(0), Fraction(11, 4), "Hello us"),
                               (Fraction(11, 4), Fraction(7, 2), "Look")]


def test_the_manifest_lists_each_cut_with_duration_sha256_and_its_renders(
        project: tuple[Plan, Workspace]) -> None:
    plan, workspace = project
    Cutter(plan, workspace).cut_all()
    data = json.loads(workspace.manifest.read_text())
    [us, jp] = data["cuts"]
    assert us["variant"] == "us" and us["file"] == "us.mp4" and us["captions"] == "us.srt"
    assert us["seconds"] == 6.5 and us["status"] == "cut" and us["method"] == "encode"
    import hashlib

    assert us["sha256"] == hashlib.sha256((workspace.manifest.parent / "us.mp4")
                                          .read_bytes()).hexdigest()
    assert [s["id"] for s in us["from"]] == ["us/open", "us/shared"]
    ours = {i.generation.id: i.generation.hash for i in plan.items}
    assert [s["hash"] for s in us["from"]] == [ours["us/open"], ours["us/shared"]]
    assert us["from"][1]["sha256"] == jp["from"][1]["sha256"]  # one render, two cuts


def test_a_variant_with_a_missing_render_gets_no_cut_and_says_why(
        project: tuple[Plan, Workspace]) -> None:
    plan, workspace = project
    jp_open = next(i.generation for i in plan.items if i.generation.id == "jp/open")
    workspace.cache_file(jp_open.hash).unlink()
    summary = Cutter(plan, workspace).cut_all({"jp/open": "jp/open failed: content policy"})
    assert [(r.variant, r.status) for r in summary.results] == [("us", CUT), ("jp", SKIPPED)]
    assert summary.results[1].reason == "jp/open failed: content policy"
    assert not (workspace.out_dir / "promo" / "jp.mp4").exists()


def test_a_caption_edit_rewrites_the_srt_without_re_encoding(
        project: tuple[Plan, Workspace], tmp_path: Path) -> None:
    plan, workspace = project
    Cutter(plan, workspace).cut_all()
    path = tmp_path / "promo.yaml"
    path.write_text(STORYBOARD.replace("Hello {{ market }}", "Hi {{ market }}"))
    again = Cutter(plan_file(path), workspace).cut_all()
    assert [r.status for r in again.results] == [REUSED, REUSED]
    assert "Hi us" in (workspace.out_dir / "promo" / "us.srt").read_text()


def test_plan_shows_each_variant_timeline(tmp_path: Path) -> None:
    from storyboard.report.reporters import plan_as_json, plan_as_markdown, plan_as_table

    path = tmp_path / "promo.yaml"
    path.write_text(STORYBOARD)
    plan = plan_file(path)
    table = plan_as_table(plan)
    assert "  us  open 3 s | crossfade 0.5 s | shared 4 s = 6.5 s" in table
    assert "Final cut: open 3 s | crossfade 0.5 s | shared 4 s = 6.5 s" in plan_as_markdown(plan)
    [us, _] = json.loads(plan_as_json(plan))["timelines"]
    assert us == {
        "variant": "us", "runtime_seconds": 6.5,
        "clips": [
            {"clip": "open", "start_seconds": 0, "seconds": 3, "takes": ["us/open"],
             "transition": {"type": "cut", "seconds": 0}, "caption": "Hello us"},
            {"clip": "shared", "start_seconds": 2.5, "seconds": 4, "takes": ["us/shared"],
             "transition": {"type": "crossfade", "seconds": 0.5}, "caption": None}],
        "captions": [{"start_seconds": 0, "end_seconds": 2.75, "text": "Hello us"},
                     {"start_seconds": 2.75, "end_seconds": 3.5, "text": "Look"}]}


def test_takes_of_a_long_clip_follow_each_other_with_plain_cuts(tmp_path: Path) -> None:
    path = tmp_path / "seq.yaml"
    path.write_text(textwrap.dedent("""\
        storyboard: 1
        name: seq
        cut: {transition: crossfade}
        clips:
          - id: titles
            duration: 40
            shots: [{prompt: a}, {prompt: b}, {prompt: c}, {prompt: d}, {prompt: e}]
          - id: end
            prompt: end
            duration: 5
        """))
    [line] = plan_file(path).timelines
    [titles, end] = line.spans
    # five 8 s shots: one take each (two would be 16 s, over the model's 15)
    assert [p.generation for p in titles.parts] == [f"default/titles.{n}" for n in range(1, 6)]
    assert titles.seconds == 40 and end.transition.kind == "crossfade"
    assert line.runtime == Fraction(89, 2)


def test_an_unreadable_render_fails_that_cut_with_the_file_named(
        project: tuple[Plan, Workspace]) -> None:
    plan, workspace = project
    jp_open = next(i.generation for i in plan.items if i.generation.id == "jp/open")
    broken = workspace.cache_file(jp_open.hash)
    broken.write_bytes(b"not a video")
    summary = Cutter(plan, workspace).cut_all()
    assert [(r.variant, r.status) for r in summary.results] == [("us", CUT), ("jp", "failed")]
    assert summary.results[1].reason is not None
    assert summary.results[1].reason.startswith(f"{broken}: not a readable video")
    assert summary.exit_code == 1 and not summary.complete

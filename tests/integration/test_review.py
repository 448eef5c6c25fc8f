"""`storyboard report` and the report `run` refreshes: the page, its assets beside it, what
it says, thumbnails reused when the videos did not change, quality flags in the run's
summary and `--fail-on-flag`; and `plan --format html` before anything is paid."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

import storyboard.media.flags
from storyboard.api.sandbox import Faults, Sandbox
from storyboard.cli import EXIT_FLAGGED, cli
from storyboard.media.frames import MAX_BYTES

from .conftest import Project, Rendered, run_cli, start_sandbox


class _Sources(HTMLParser):
    """Every asset the page refers to: src, href and data-video attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found += [v for k, v in attrs if k in ("src", "href", "data-video") and v]


def sources(page: Path) -> list[str]:
    parser = _Sources()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser.found


def test_report_writes_an_offline_page_with_every_asset_beside_it(
        launch_rendered: Rendered, rendered: Project) -> None:
    ran = launch_rendered.result  # `run launch.yaml` through a sandbox, with its cuts
    assert ran.exit_code == 0, ran.stdout + ran.stderr
    where = launch_rendered.root / "renders" / "aurora-launch" / "report" / "index.html"
    assert ran.stdout.splitlines()[-1] == f"report: {where}"

    project = rendered
    renders = project.renders("aurora-launch")
    page = renders / "report" / "index.html"
    made = CliRunner().invoke(cli, ["report", str(project.storyboard("launch.yaml"))])
    assert made.exit_code == 0, made.stdout + made.stderr
    assert made.stdout == f"{page}\n"
    html = page.read_text(encoding="utf-8")
    found = sources(page)
    assert found, "the page refers to its videos and thumbnails"
    assert [s for s in found if re.match(r"[a-z]+:", s) or s.startswith("/")] == []
    assert [s for s in found if not (page.parent / s).is_file()] == []
    assert "http://" not in html and "https://" not in html and "@import" not in html
    # the four final cuts, then 12 clips with a poster and a sprite each
    assert sorted(s for s in found if s.count("/") == 1 and s.endswith(".mp4")) == [
        "../jp-tall.mp4", "../jp-wide.mp4", "../us-tall.mp4", "../us-wide.mp4"]
    manifest = project.manifest("aurora-launch")
    for entry in manifest["generations"]:
        assert f'id="gen-{entry["id"]}"' in html
        assert f'"../{entry["file"]}"' in html
        charged = f"${entry['charged_usd']}" if entry["charged_usd"] else "—"
        assert f"estimated ${entry['estimated_usd']} · charged {charged}" in html
    assert f'id="estimated">${manifest["estimated_usd"]}<' in html
    assert 'id="budget">$12.00<' in html
    assert 'id="delivered">12<' in html and 'id="failed">0<' in html
    assert "storyboard pick" in html and "us-wide/teaser 1" in html


def test_thumbnails_are_small_and_a_rebuild_reuses_them(
        rendered: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    project = rendered  # launch.yaml run through a sandbox, with its cuts and review
    thumbs = project.renders("aurora-launch") / "report" / "thumbs"
    posters = sorted(thumbs.glob("*.poster.jpg"))
    videos = {g["sha256"] for g in project.manifest("aurora-launch")["generations"]}
    assert len(posters) == len(videos) == 10  # 12 generations; two share a render
    for poster in posters:
        sprite = poster.with_name(poster.name.replace(".poster.", ".sprite."))
        assert poster.stat().st_size + sprite.stat().st_size <= MAX_BYTES
    before = {p: p.stat().st_mtime_ns for p in thumbs.iterdir()}

    def no_decoding(*args: object, **kwargs: object) -> None:
        raise AssertionError("a thumbnail or flag was made again for an unchanged video")

    monkeypatch.setattr("storyboard.media.frames.frames_across", no_decoding)
    monkeypatch.setattr("storyboard.report.review.measure", no_decoding)
    again = CliRunner().invoke(cli, ["report", str(project.storyboard("launch.yaml"))])
    assert again.exit_code == 0, again.stdout + again.stderr
    assert {p: p.stat().st_mtime_ns for p in thumbs.iterdir()} == before


def test_flags_are_in_the_run_summary_and_fail_on_flag_makes_them_an_error(
        project: Project, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    # every frame counts as black: each delivered clip has the black flag
    monkeypatch.setattr(storyboard.media.flags, "BLACK_LUMA", 255)
    storyboard_file = project.storyboard("launch.yaml")
    lenient = run_cli(sandbox, monkeypatch, storyboard_file, "--only", "us-wide/teaser",
                      cut=True)
    assert lenient.exit_code == 0, lenient.stdout + lenient.stderr
    # jp-wide/teaser is the same request: rendered once, the same video, the same flag
    assert [line for line in lenient.stdout.splitlines() if line.startswith("flag:")] == [
        "flag: us-wide/teaser: black: 5.0 s of black frames",
        "flag: jp-wide/teaser: black: 5.0 s of black frames"]
    page = (project.renders("aurora-launch") / "report" / "index.html").read_text()
    assert 'id="flags">2<' in page and "black: 5.0 s of black frames" in page

    strict = run_cli(sandbox, monkeypatch, storyboard_file, "--only", "us-wide/teaser",
                     "--fail-on-flag", cut=True)
    assert strict.exit_code == EXIT_FLAGGED == 4
    assert "flag: us-wide/teaser: black: 5.0 s of black frames" in strict.stdout.splitlines()


def test_failed_generations_show_their_reason_and_refund(
        project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    failing = start_sandbox(faults=Faults(fail=1.0))
    try:
        ran = run_cli(failing, monkeypatch, project.storyboard("launch.yaml"), "--only",
                      "us-wide/*", cut=True)
    finally:
        failing.stop()
    assert ran.exit_code == 1
    page = project.renders("aurora-launch") / "report" / "index.html"
    assert ran.stdout.splitlines()[-1] == f"report: {page}"
    html = page.read_text(encoding="utf-8")
    # us-wide's three, and jp-wide/teaser: the same request as us-wide/teaser
    assert 'id="delivered">0<' in html and 'id="failed">4<' in html
    assert html.count("failed: sandbox: injected failure (refunded)") == 4
    assert "No final cut yet" in html and "<img" not in html


def test_report_before_any_run_says_what_to_do(project: Project) -> None:
    result = CliRunner().invoke(cli, ["report", str(project.storyboard("launch.yaml"))])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {project.root / '.storyboard'}: no renders to "
                                    "review yet; run `storyboard run ")


def test_plan_as_html_draws_each_variant_as_a_timeline(project: Project) -> None:
    result = CliRunner().invoke(cli, ["plan", str(project.storyboard("launch.yaml")),
                                      "--format", "html"])
    assert result.exit_code == 0, result.stderr
    html = result.stdout
    assert html.startswith("<!DOCTYPE html>")
    assert [s for s in sources_of(html) if s] == []  # nothing to fetch: one file
    for variant in ("us-wide", "us-tall", "jp-wide", "jp-tall"):
        assert f'id="variant-{variant}"' in html
        # blocks sized by duration: hero 12 s, teaser 5 s, montage 10 s
        for clip, seconds in (("hero", 12), ("teaser", 5), ("montage", 10)):
            assert f'id="gen-{variant}/{clip}" style="flex: {seconds} 0 0"' in html
    assert "final cut 26.5 s" in html  # 12 + 5 + 10 - the 0.5 s crossfade
    assert 'id="cost">$8.59<' in html and 'id="due">$8.59<' in html
    # shots sized by their share of the clip: 4 + 5 + 3 of the hero's 12 s
    assert 'style="width: 33.33%">4 s Aerial of New York at dawn' in html


def sources_of(html: str) -> list[str]:
    parser = _Sources()
    parser.feed(html)
    return parser.found


def test_report_without_sandbox_points_at_the_sandboxs_renders(tmp_path: Path) -> None:
    from .conftest import REPO

    (tmp_path / "launch.yaml").write_text((REPO / "examples" / "launch.yaml").read_text())
    storyboard_file = str(tmp_path / "launch.yaml")
    ran = CliRunner().invoke(cli, ["run", storyboard_file, "--sandbox", "--yes", "--only",
                                   "us-wide/teaser", "--no-cut", "--sandbox-latency", "0.02"])
    assert ran.exit_code == 0, ran.stdout + ran.stderr
    real = CliRunner().invoke(cli, ["report", storyboard_file])
    assert real.exit_code == 0
    assert real.stderr == ("note: nothing is rendered here; the sandbox's renders are "
                           "reviewed with --sandbox\n")
    sandboxed = CliRunner().invoke(cli, ["report", storyboard_file, "--sandbox"])
    page = tmp_path / "renders" / "sandbox" / "aurora-launch" / "report" / "index.html"
    assert (sandboxed.exit_code, sandboxed.stdout, sandboxed.stderr) == (0, f"{page}\n", "")
    assert 'id="delivered">2<' in page.read_text()  # us-wide/teaser, and jp-wide's: one request


def test_candidates_side_by_side_with_the_pick_marked(
        project: Project, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    storyboard_file = project.storyboard("launch.yaml")
    text = storyboard_file.read_text().replace("  - id: teaser\n", "  - id: teaser\n"
                                                "    candidates: 2\n")
    storyboard_file.write_text(text)
    ran = run_cli(sandbox, monkeypatch, storyboard_file, "--only", "us-wide/*", cut=True)
    assert ran.exit_code == 0, ran.stdout + ran.stderr
    page = project.renders("aurora-launch") / "report" / "index.html"
    html = page.read_text(encoding="utf-8")
    card = html[html.index('id="gen-us-wide/teaser"'):html.index('id="gen-us-wide/montage"')]
    assert card.count('<figure class="candidate') == 2
    assert card.count('class="candidate picked"') == 1
    assert "#1 picked" in card and "storyboard pick launch.yaml us-wide/teaser 2" in card

    picked = CliRunner().invoke(cli, ["pick", str(storyboard_file), "us-wide/teaser", "2"])
    # exit 1: the other variants were not rendered, so their cuts are missing
    assert picked.stdout.startswith("picked us-wide/teaser candidate 2"), picked.stderr
    assert picked.stdout.splitlines()[-1] == f"report: {page}"  # refreshed by the pick itself
    card = page.read_text(encoding="utf-8")
    card = card[card.index('id="gen-us-wide/teaser"'):card.index('id="gen-us-wide/montage"')]
    assert "#2 picked" in card and "#1 picked" not in card

"""Candidates, re-rolls and picks, through a real loopback sandbox: counted by its ledger,
checked by the files published and by decoding the final cuts."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from mediakit import dominant

from storyboard.api.sandbox import Sandbox
from storyboard.cli import cli
from storyboard.model import request_hash

from .conftest import FAKE_KEY, FAST, Rendered, render_once, run_cli

TRIES = """\
storyboard: 1
name: tries
variants:
  matrix:
    market: [us, jp]
defaults:
  mode: std
{budget}
clips:
  - id: open
    prompt: "Dawn over {{{{ market }}}}"
    duration: 3
    candidates: 3
  - id: logo
    prompt: "The logo"
    duration: 3
"""


def write(folder: Path, budget: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "tries.yaml"
    path.write_text(TRIES.format(budget=budget))
    return path


@pytest.fixture(scope="module")
def tries(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    """TRIES run once through a sandbox, with its cuts: the tests of what comes after a
    run (a pick, a re-roll, git) each take a copy and a sandbox of their own."""
    return render_once(write(tmp_path_factory.mktemp("tries") / "project"))


def rendered_tries(tries: Rendered, folder: Path) -> Path:
    """A copy of the rendered TRIES project at ``folder``; its storyboard."""
    assert tries.result.exit_code == 0, tries.result.stdout + tries.result.stderr
    return tries.copy(folder).storyboard("tries.yaml")


def args_of(prompt: str) -> dict[str, object]:
    return {"prompt": prompt, "mode": "std", "duration": 3, "aspect_ratio": "16:9",
            "sound": "off", "multi_shot": False}


OPEN_US = request_hash("kwaivgi/kling-o3/text-to-video", args_of("Dawn over us"))
OPEN_JP = request_hash("kwaivgi/kling-o3/text-to-video", args_of("Dawn over jp"))
LOGO = request_hash("kwaivgi/kling-o3/text-to-video", args_of("The logo"))


def cli_ok(*args: str | Path, code: int = 0) -> Result:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code == code, result.stdout + result.stderr
    return result


def reroll(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, *args: str | Path,
           code: int = 0) -> Result:
    monkeypatch.setenv("SHORTAPI_KEY", FAKE_KEY)
    return cli_ok("reroll", "--yes", "--api-base", sandbox.base_url, *FAST, *args, code=code)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def cuts(folder: Path) -> dict[str, dict]:  # type: ignore[type-arg]
    manifest = json.loads((folder / "renders" / "tries" / "manifest.json").read_text())
    return {c["variant"]: c for c in manifest["cuts"]}


def test_candidates_3_is_three_creates_per_generation_each_kept_under_its_own_name(
        tmp_path: Path, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    storyboard = write(tmp_path)
    plan = json.loads(cli_ok("plan", storyboard, "--format", "json").stdout)
    rows = {g["id"]: g for g in plan["generations"]}
    assert list(rows) == ["us/open", "us/open~2", "us/open~3", "us/logo",
                          "jp/open", "jp/open~2", "jp/open~3", "jp/logo"]
    # each candidate is priced; candidates of one request are not collapsed, while the
    # logo (the same request in both variants) is still rendered once
    assert [rows[f"us/open{s}"]["cost_usd"] for s in ("", "~2", "~3")] == ["0.213"] * 3
    assert [rows[f"us/open{s}"]["hash"] for s in ("", "~2", "~3")] == [
        OPEN_US, f"{OPEN_US}.2", f"{OPEN_US}.3"]
    assert rows["jp/logo"]["same_as"] == "us/logo"
    assert plan["total_cost_usd"] == "1.491"  # 7 distinct tries × 3 s × $0.071
    # the candidate number is never sent: every try's request body is the same
    assert rows["us/open~3"]["request"] == rows["us/open"]["request"]

    result = run_cli(sandbox, monkeypatch, storyboard, cut=True)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert Counter(c.request_hash for c in sandbox.ledger.creates) == {
        OPEN_US: 3, OPEN_JP: 3, LOGO: 1}
    us = tmp_path / "renders" / "tries" / "us"
    tries = [us / f"open~{n}.mp4" for n in (1, 2, 3)]
    assert len({sha(p) for p in tries}) == 3  # three different videos, none overwritten
    assert sha(us / "open.mp4") == sha(tries[0])  # no pick: the lowest-numbered one
    assert (us / "logo.mp4").is_file() and not (us / "logo~1.mp4").exists()
    [source, _] = cuts(tmp_path)["us"]["from"]
    assert source == {"id": "us/open", "hash": OPEN_US, "sha256": sha(tries[0])}


def test_pick_recuts_only_its_variant_with_the_picked_frames_and_no_create(
        tries: Rendered, tmp_path: Path) -> None:
    storyboard = rendered_tries(tries, tmp_path)  # no API from here on: no sandbox runs
    renders = tmp_path / "renders" / "tries"
    before = dominant(renders / "us.mp4", 1.0)
    jp_cut = (renders / "jp.mp4").stat().st_mtime_ns

    result = cli_ok("pick", storyboard, "us/open", "2")
    picked = renders / "us" / "open~2.mp4"
    job = json.loads((renders / "manifest.json").read_text())
    lock = json.loads((tmp_path / "tries.yaml.lock").read_text())
    assert lock["generations"]["us/open"]["pick"] == 2
    assert lock["generations"]["us/open"]["sha256"] == sha(picked)
    assert lock["generations"]["us/open"]["hash"] == OPEN_US
    jobs = {g["id"]: g["job_id"] for g in job["generations"]}
    assert lock["generations"]["us/open"]["job_id"] == jobs["us/open~2"]
    assert "1 cut" in result.stdout and "1 reused" in result.stdout
    # the cut shows candidate 2's frames now; the other variant was not touched
    assert dominant(renders / "us.mp4", 1.0) == dominant(picked, 1.0) != before
    assert cuts(tmp_path)["us"]["from"][0]["sha256"] == sha(picked)
    assert (renders / "jp.mp4").stat().st_mtime_ns == jp_cut
    assert sha(renders / "us" / "open.mp4") == sha(picked)  # the generation's path: the pick

    # status lists every candidate and marks the one the cut takes
    status = cli_ok("status", storyboard).stdout.splitlines()
    state = dict(re.split(r"\s{2,}", line)[:2] for line in status[1:9])
    assert state == {"us/open": "rendered", "us/open~2": "rendered, picked",
                     "us/open~3": "rendered", "us/logo": "rendered",
                     "jp/open": "rendered, kept (no pick)", "jp/open~2": "rendered",
                     "jp/open~3": "rendered", "jp/logo": "shared = us/logo"}

    assert cli_ok("pick", storyboard, "us/open", "4", code=2).stderr == (
        "error: us/open has candidates 1–3; pick one of them "
        "(`storyboard reroll FILE us/open` adds another)\n")


def test_reroll_is_exactly_one_create_recorded_in_the_lock_file(
        tries: Rendered, tmp_path: Path, sandbox: Sandbox,
        monkeypatch: pytest.MonkeyPatch) -> None:
    storyboard = rendered_tries(tries, tmp_path)
    creates = 0  # this test's sandbox has seen nothing yet
    result = reroll(sandbox, monkeypatch, storyboard, "us/open")
    assert "us/open~4" in result.stdout and "$0.213" in result.stdout  # the cost, first
    assert [c.request_hash for c in sandbox.ledger.creates[creates:]] == [OPEN_US]
    assert (tmp_path / "renders" / "tries" / "us" / "open~4.mp4").is_file()
    lock = json.loads((tmp_path / "tries.yaml.lock").read_text())
    assert lock == {"storyboard-lock": 1,
                    "generations": {"us/open": {"hash": OPEN_US, "rerolls": 1}}}
    # a glob; and the run after it renders nothing more
    reroll(sandbox, monkeypatch, storyboard, "*/logo")
    assert [c.request_hash for c in sandbox.ledger.creates[creates + 1:]] == [LOGO]
    assert run_cli(sandbox, monkeypatch, storyboard, cut=True).exit_code == 0
    assert len(sandbox.ledger.creates) == creates + 2
    assert reroll(sandbox, monkeypatch, storyboard, "us/nothing*", code=2).stderr.startswith(
        "error: 'us/nothing*' names none of the generations; ids look like us/open, ")


def test_the_budget_stops_a_reroll_that_would_exceed_it(
        tmp_path: Path, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    storyboard = write(tmp_path, "budget:\n  max_cost_usd: 1.60")
    assert run_cli(sandbox, monkeypatch, storyboard, cut=True).exit_code == 0  # $1.491 spent
    creates = len(sandbox.ledger.creates)
    result = reroll(sandbox, monkeypatch, storyboard, "us/open", code=1)
    assert ("$1.491 spent so far + $0.213 due now = $1.704, over the budget of $1.60"
            in result.stderr)
    assert len(sandbox.ledger.creates) == creates
    assert not (tmp_path / "tries.yaml.lock").exists()  # nothing added, nothing recorded


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.email=t@example.org", "-c", "user.name=t",
                           *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def test_the_lock_file_round_trips_through_git_to_byte_identical_cuts(
        tmp_path: Path, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    """Renders its own, not a copy of ``tries``: the job fetched again at the end must be
    one this sandbox made (a sandbox that never saw a job id delivers other bytes)."""
    repo = tmp_path / "repo"
    storyboard = write(repo / "video")
    (repo / ".gitignore").write_text("renders/\n.storyboard/\n")
    assert run_cli(sandbox, monkeypatch, storyboard, cut=True).exit_code == 0
    cli_ok("pick", storyboard, "us/open", "3")
    git(tmp_path, "init", "-q", "-b", "main", str(repo))
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "storyboard and its picks")
    assert git(repo, "ls-files").split() == [".gitignore", "video/tries.yaml",
                                             "video/tries.yaml.lock"]
    creates = len(sandbox.ledger.creates)

    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(repo), str(clone))
    shutil.copytree(repo / "video" / ".storyboard", clone / "video" / ".storyboard")
    copy = clone / "video" / "tries.yaml"
    cli_ok("cut", copy)
    for variant in ("us", "jp"):
        assert (sha(clone / "video" / "renders" / "tries" / f"{variant}.mp4")
                == sha(repo / "video" / "renders" / "tries" / f"{variant}.mp4"))

    # a lock entry whose render the cache lacks: named, with the way back
    cached = next((clone / "video" / ".storyboard" / "cache").glob(f"*/{OPEN_US}.3.mp4"))
    cached.unlink()
    job = json.loads(copy.with_name("tries.yaml.lock").read_text())["generations"]["us/open"]
    failed = cli_ok("cut", copy, code=1)
    assert (f"tries.yaml.lock: us/open picks candidate 3 (sha256 {job['sha256'][:12]}…, "
            f"job {job['job_id']}) and the cache lacks it; `storyboard run FILE --only "
            f"'us/open~3'` downloads it again by job {job['job_id']} while the provider "
            "still holds it ($0)") in failed.stdout
    assert run_cli(sandbox, monkeypatch, copy, cut=True).exit_code == 0  # fetched by job id
    assert len(sandbox.ledger.creates) == creates  # 0 creates, $0
    assert (sha(clone / "video" / "renders" / "tries" / "us.mp4")
            == sha(repo / "video" / "renders" / "tries" / "us.mp4"))


def test_plan_against_a_ref_shows_pick_changes_and_added_candidates(
        tries: Rendered, tmp_path: Path, sandbox: Sandbox,
        monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "repo"
    storyboard = rendered_tries(tries, repo)
    (repo / ".gitignore").write_text("renders/\n.storyboard/\n")
    cli_ok("pick", storyboard, "us/open", "2")
    git(tmp_path, "init", "-q", "-b", "main", str(repo))
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "picks")
    cli_ok("pick", storyboard, "us/open", "3")
    reroll(sandbox, monkeypatch, storyboard, "jp/open")

    table = cli_ok("plan", storyboard, "--against", "HEAD").stdout
    assert "Picks changed (re-cut only, $0): us/open: candidate 2 → candidate 3" in table
    assert any(line.split()[:3] == ["+", "added", "jp/open~4"] and line.endswith("$0.213")
               for line in table.splitlines()), table
    markdown = cli_ok("plan", storyboard, "--against", "HEAD", "--format", "markdown").stdout
    assert ("**Picks changed** (re-cut only, $0): `us/open`: candidate 2 → candidate 3"
            in markdown)
    assert "| added | `jp/open~4` | 3 |  | $0.213 |" in markdown
    data = json.loads(cli_ok("plan", storyboard, "--against", "HEAD", "--format",
                             "json").stdout)
    assert data["picks"] == [{"id": "us/open", "old": 2, "new": 3}]
    assert [g["id"] for g in data["generations"] if g["change"] == "added"] == ["jp/open~4"]

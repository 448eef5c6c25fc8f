"""Storyboards as code: the cost of a change against a git ref, gates for CI."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from storyboard.cli import cli

REPO = Path(__file__).resolve().parents[2]


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.email=t@example.org", "-c", "user.name=t", *args],
                   cwd=cwd, check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path, tracked_copy: Callable[..., Path]) -> Path:
    """A scratch repository holding the examples, committed."""
    root = tmp_path / "repo"
    tracked_copy(REPO / "examples", root / "video", skip=("ci",))
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "storyboards")
    return root


def plan(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["plan", *map(str, args)])
    # an escaped exception is kept in result.exception, not printed: only exits allowed
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        result.exception, result.stdout, result.stderr)
    return result.exit_code, result.stdout, result.stderr


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_one_edited_prompt_is_exactly_one_changed_generation(repo: Path) -> None:
    sequence = repo / "video" / "sequence.yaml"
    edit(sequence, "Ink drops bloom in water", "Ink drops bloom in milk")
    code, out, _ = plan(sequence, "--against", "HEAD", "--format", "markdown")
    assert code == 0
    assert out.splitlines()[:3] == [
        "### storyboard plan: `title-sequence` $4.76 → $4.76 (±$0.00)",
        "",
        "Compared with `HEAD:video/sequence.yaml`: 0 added, 0 removed, 1 changed, "
        "2 unchanged; **this change renders 1 generation for $1.547**.",
    ]
    assert "| changed | `default/titles.1` | 13 | $1.547 | $1.547 |" in out
    assert out.count("| changed |") == 1


def test_a_longer_clip_shows_the_delta_to_the_cent(repo: Path) -> None:
    launch = repo / "video" / "launch.yaml"
    edit(launch, "    duration: 5\n    sound: \"on\"", "    duration: 7\n    sound: \"on\"")
    code, out, _ = plan(launch, "--against", "HEAD")
    assert code == 0
    # teaser: 5 s → 7 s at $0.119/s, rendered for two distinct requests (wide, tall)
    assert "Total: $8.59 → $9.066 (+$0.476); this change renders 2 generations for $1.666" \
        in out
    assert "Generations: 0 added, 0 removed, 4 changed, 8 unchanged" in out


def test_gates_exit_3_with_a_line_each(repo: Path) -> None:
    launch = repo / "video" / "launch.yaml"
    edit(launch, "    duration: 5\n    sound: \"on\"", "    duration: 7\n    sound: \"on\"")
    code, _, err = plan(launch, "--against", "HEAD", "--fail-on-increase", "0.40")
    assert code == 3
    assert err.splitlines() == [
        "error: cost rises by $0.476 (+$0.476) against HEAD:video/launch.yaml, over "
        "--fail-on-increase $0.40"]
    code, _, err = plan(launch, "--against", "HEAD", "--fail-on-increase", "5%")
    assert code == 3
    assert "cost rises by 5.5%" in err
    assert plan(launch, "--against", "HEAD", "--fail-on-increase", "6%")[0] == 0
    code, _, err = plan(launch, "--fail-over", "9")
    assert code == 3
    assert err.splitlines() == ["error: plan costs $9.066, over --fail-over $9.00"]


def test_data_files_and_includes_are_read_at_the_ref(repo: Path) -> None:
    campaign = repo / "video" / "campaign.yaml"
    with (repo / "video" / "markets.csv").open("a") as f:
        f.write("fr,Paris,French,La lumière qui suit\n")
    code, out, _ = plan(campaign, "--against", "HEAD", "--format", "json")
    assert code == 0
    data = json.loads(out)
    added = [g["id"] for g in data["generations"] if g["change"] == "added"]
    assert added == ["fr-lamp-wide/spot", "fr-lamp-wide/endcard", "fr-lantern-wide/spot",
                     "fr-lantern-wide/endcard", "fr-lamp-tall/spot", "fr-lamp-tall/endcard",
                     "fr-lantern-tall/spot", "fr-lantern-tall/endcard"]
    assert data["counts"] == {"added": 8, "removed": 0, "changed": 0, "unchanged": 30}
    assert data["delta_usd"] == "3.124"  # 4 variants × 11 s × $0.071
    assert data["old"]["label"] == "HEAD:video/campaign.yaml"


def test_works_from_any_directory_inside_the_repo(repo: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    (repo / "elsewhere").mkdir()
    monkeypatch.chdir(repo / "elsewhere")
    code, out, _ = plan("../video/sequence.yaml", "--against", "HEAD")
    assert code == 0
    assert "0 added, 0 removed, 0 changed, 3 unchanged" in out


def test_a_file_new_since_the_ref_is_all_added(repo: Path) -> None:
    shutil.copy(repo / "video" / "sequence.yaml", repo / "video" / "new.yaml")
    code, out, _ = plan(repo / "video" / "new.yaml", "--against", "HEAD")
    assert code == 0
    assert "(HEAD:video/new.yaml does not exist: every generation is added)" in out
    assert "Total: $0.00 → $4.76 (+$4.76)" in out


def test_outside_git_or_an_unknown_ref_is_one_clear_line(
        repo: Path, tmp_path: Path, tracked_copy: Callable[..., Path]) -> None:
    code, _, err = plan(repo / "video" / "sequence.yaml", "--against", "nope")
    assert code == 2
    assert err.startswith("error: --against nope: no such commit, branch or tag")
    loose = tmp_path / "loose"
    tracked_copy(REPO / "examples", loose, skip=("ci",))
    code, _, err = plan(loose / "sequence.yaml", "--against", "HEAD")
    assert code == 2
    assert err == (f"error: {loose} is not inside a git repository, so there is no ref to "
                   "compare with; use `storyboard diff OLD NEW` for two files\n")


def test_an_invalid_old_version_is_all_added_with_the_reason(repo: Path) -> None:
    """The pull request that fixes a broken storyboard still gets its cost comment."""
    sequence = repo / "video" / "sequence.yaml"
    good = sequence.read_text()
    sequence.write_text(good.replace("name: title-sequence", "name: Title Sequence"))
    git(repo, "commit", "-q", "-am", "break it")
    sequence.write_text(good)
    code, out, _ = plan(sequence, "--against", "HEAD")
    assert code == 0
    assert ("(HEAD:video/sequence.yaml did not compile (1 problem; first: "
            "HEAD:video/sequence.yaml:7:7: error: name 'Title Sequence'") in out
    assert "Total: $0.00 → $4.76 (+$4.76)" in out


def test_a_renamed_clip_costs_nothing_to_render(repo: Path) -> None:
    sequence = repo / "video" / "sequence.yaml"
    edit(sequence, "id: titles", "id: opening")
    code, out, _ = plan(sequence, "--against", "HEAD")
    assert code == 0
    assert "Generations: 3 added, 3 removed, 0 changed, 0 unchanged" in out
    assert "this change renders 0 generations for $0.00" in out


def test_diff_compares_two_files_or_two_saved_plans(repo: Path) -> None:
    old, new = repo / "video" / "sequence.yaml", repo / "video" / "sequence2.yaml"
    shutil.copy(old, new)
    edit(new, "duration: 40", "duration: 45")
    runner = CliRunner()
    result = runner.invoke(cli, ["diff", str(old), str(new)])
    assert result.exit_code == 0
    assert "Total: $4.76 → $5.355 (+$0.595)" in result.stdout
    for source, target in ((old, repo / "old.json"), (new, repo / "new.json")):
        assert runner.invoke(cli, ["plan", str(source), "--out", str(target)]).exit_code == 0
    result = runner.invoke(cli, ["diff", str(repo / "old.json"), str(repo / "new.json"),
                                 "--format", "json", "--fail-on-increase", "0.50"])
    assert result.exit_code == 3
    data = json.loads(result.stdout)
    assert data["delta_usd"] == "0.595"
    assert data["gates"]["passed"] is False


def test_detailed_exitcode_says_whether_renders_are_pending(repo: Path) -> None:
    sequence = repo / "video" / "sequence.yaml"
    assert plan(sequence, "--detailed-exitcode")[0] == 2
    from storyboard.api.sandbox import Sandbox, SandboxConfig

    # a sandbox standing in for the real API (one that says it is a sandbox makes
    # placeholders, which --detailed-exitcode never counts: see test_sandbox_origin.py)
    with Sandbox(SandboxConfig(latency=0.02, identify=False)) as sandbox:
        # no final cut: what --detailed-exitcode counts is generations
        result = CliRunner().invoke(cli, ["run", str(sequence), "--yes", "--api-base",
                                          sandbox.base_url, "--poll-start", "0.02",
                                          "--no-cut"],
                                    env={"SHORTAPI_KEY": "k"})
        assert result.exit_code == 0, result.stdout + result.stderr
    code, out, _ = plan(sequence, "--detailed-exitcode")
    assert code == 0
    assert "(3 reused: $4.76 paid before); due now $0.00" in out
    edit(sequence, "Ink drops bloom in water", "Ink drops bloom in milk")
    # re-rendering is spending again, on top of the $4.76 spent: over the $6 budget
    assert plan(sequence, "--detailed-exitcode")[0] == 1
    edit(sequence, "max_cost_usd: 6", "max_cost_usd: 7")
    assert plan(sequence, "--detailed-exitcode")[0] == 2


def test_a_symlink_out_of_the_folder_at_the_ref_is_skipped_not_a_crash(repo: Path) -> None:
    video = repo / "video"
    (video / "passwd.txt").symlink_to("/etc/passwd")  # absolute: tar's data filter refuses
    (video / "up.txt").symlink_to("../../outside.txt")  # leaves the folder
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "links")
    edit(video / "sequence.yaml", "Ink drops bloom in water", "Ink drops bloom in milk")
    code, out, _ = plan(video / "sequence.yaml", "--against", "HEAD")
    assert code == 0
    assert "0 added, 0 removed, 1 changed, 2 unchanged" in out

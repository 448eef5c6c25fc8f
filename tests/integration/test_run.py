"""`storyboard run` end to end against a real sandbox API on loopback."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from storyboard.api.sandbox import Sandbox
from storyboard.cli import cli
from storyboard.media.probe import verify

from .conftest import FAKE_KEY, Project, run_cli

EXAMPLES = {"launch.yaml": ("aurora-launch", 12), "campaign.yaml": ("holiday-campaign", 30),
            "sequence.yaml": ("title-sequence", 3)}


@pytest.mark.parametrize("example", sorted(EXAMPLES))
def test_every_example_renders_then_a_rerun_spends_nothing(
        example: str, project: Project, sandbox: Sandbox,
        monkeypatch: pytest.MonkeyPatch) -> None:
    name, count = EXAMPLES[example]
    first = run_cli(sandbox, monkeypatch, project.storyboard(example))
    assert first.exit_code == 0, first.stdout + first.stderr
    assert f"delivered: {count}" in first.stdout
    manifest = project.manifest(name)
    assert len(manifest["generations"]) == count
    # generations with identical requests (a clip that does not vary) are rendered once
    unique = {g["hash"] for g in manifest["generations"]}
    assert sorted(c.request_hash for c in sandbox.ledger.creates) == sorted(unique)
    for entry in manifest["generations"]:
        assert entry["status"] == "delivered"
        video = project.renders(name) / entry["file"]
        info = verify(video, entry["seconds"])
        assert info.duration_s == entry["seconds"]
        assert entry["job_id"] and entry["sha256"]
    second = run_cli(sandbox, monkeypatch, project.storyboard(example))
    assert second.exit_code == 0
    assert f"reused: {count}" in second.stdout
    assert "due now $0.00" in second.stdout
    assert len(sandbox.ledger.creates) == len(unique)  # nothing new was created
    assert sandbox.ledger.duplicates() == {}


def test_one_changed_prompt_creates_exactly_one_job_and_changing_back_none(
        project: Project, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    path = project.storyboard("sequence.yaml")
    # the budget bounds both runs together ($4.76 + $1.666): give it room for the edit
    path.write_text(path.read_text().replace("max_cost_usd: 6", "max_cost_usd: 10"))
    assert run_cli(sandbox, monkeypatch, path).exit_code == 0
    original = path.read_text()
    path.write_text(original.replace("Ink drops bloom in water", "Ink drops burst in water"))
    changed = run_cli(sandbox, monkeypatch, path)
    assert changed.exit_code == 0
    assert "delivered: 1" in changed.stdout and "reused: 2" in changed.stdout
    assert len(sandbox.ledger.creates) == 4
    path.write_text(original)
    back = run_cli(sandbox, monkeypatch, path)
    assert back.exit_code == 0
    assert "reused: 3" in back.stdout
    assert len(sandbox.ledger.creates) == 4


def test_a_saved_plan_runs_exactly_as_planned(project: Project, sandbox: Sandbox,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    plan_file = project.root / "plan.json"
    assert CliRunner().invoke(cli, ["plan", str(project.storyboard("launch.yaml")),
                                    "--out", str(plan_file)]).exit_code == 0
    # editing the storyboard after planning does not change what runs
    path = project.storyboard("launch.yaml")
    path.write_text(path.read_text().replace("Aurora X1", "Aurora X2"))
    result = run_cli(sandbox, monkeypatch, plan_file)
    assert result.exit_code == 0
    planned = {g["hash"] for g in json.loads(plan_file.read_text())["generations"]}
    assert {c.request_hash for c in sandbox.ledger.creates} == planned
    assert (project.renders("aurora-launch") / "us-wide" / "hero.mp4").is_file()


def test_only_runs_matching_generations(project: Project, sandbox: Sandbox,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    result = run_cli(sandbox, monkeypatch, project.storyboard("launch.yaml"),
                     "--only", "us-*/hero", "--only", "jp-wide/teaser")
    assert result.exit_code == 0
    assert len(sandbox.ledger.creates) == 3
    files = sorted(p.relative_to(project.renders("aurora-launch")).as_posix()
                   for p in project.renders("aurora-launch").rglob("*.mp4"))
    assert files == ["jp-wide/teaser.mp4", "us-tall/hero.mp4", "us-wide/hero.mp4"]


def test_over_budget_refuses_before_any_create(project: Project, sandbox: Sandbox,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    result = run_cli(sandbox, monkeypatch, project.storyboard("launch.yaml"),
                     "--max-cost", "5")
    assert result.exit_code == 1
    assert ("error: $8.59 due now, over --max-cost $5.00; pass --max-cost 8.59 or render less"
            in result.stderr.splitlines())
    assert sandbox.ledger.creates == ()


def test_without_a_terminal_or_yes_it_refuses(project: Project, sandbox: Sandbox,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHORTAPI_KEY", FAKE_KEY)
    result = CliRunner().invoke(cli, ["run", str(project.storyboard("launch.yaml")),
                                      "--api-base", sandbox.base_url])
    assert result.exit_code == 2
    assert "pass --yes" in result.stderr
    assert sandbox.ledger.creates == ()


def test_without_a_key_it_says_how_to_get_one(project: Project) -> None:
    result = CliRunner().invoke(cli, ["run", str(project.storyboard("launch.yaml")), "--yes"])
    assert result.exit_code == 2
    assert "SHORTAPI_KEY is not set" in result.stderr


def test_the_key_never_reaches_files_or_output(project: Project, sandbox: Sandbox,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    result = run_cli(sandbox, monkeypatch, project.storyboard("launch.yaml"))
    status = CliRunner().invoke(cli, ["status", str(project.storyboard("launch.yaml"))])
    assert result.exit_code == 0
    assert FAKE_KEY not in result.stdout + result.stderr + status.stdout + status.stderr
    for folder in (project.root / ".storyboard", project.root / "renders"):
        for path in folder.rglob("*"):
            if path.is_file():
                assert FAKE_KEY.encode() not in path.read_bytes(), path


def test_status_shows_what_the_journal_knows(project: Project, sandbox: Sandbox,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    run_cli(sandbox, monkeypatch, project.storyboard("sequence.yaml"))
    result = CliRunner().invoke(cli, ["status", str(project.storyboard("sequence.yaml"))])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["GENERATION", "STATE", "JOB", "ESTIMATED", "CHARGED", "FILE"]
    assert [line.split()[:2] for line in lines[1:4]] == [
        ["default/titles.1", "rendered"], ["default/titles.2", "rendered"],
        ["default/titles.3", "rendered"]]
    assert "$1.547" in lines[1]
    assert lines[4:] == ["", "Total: estimated $4.76; charged $4.76",
                         "Spent by this storyboard in this state, earlier versions included: "
                         "$4.76"]


def test_a_second_run_on_the_same_state_is_refused(project: Project, sandbox: Sandbox,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from storyboard.journal.sqlite import Journal

    with Journal.open(project.root / ".storyboard"):
        result = run_cli(sandbox, monkeypatch, project.storyboard("launch.yaml"))
    assert result.exit_code == 1
    assert "another storyboard run" in result.stderr
    assert sandbox.ledger.creates == ()


def test_a_damaged_journal_is_a_clear_error_and_is_kept(project: Project, sandbox: Sandbox,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    state = project.root / ".storyboard"
    state.mkdir()
    (state / "journal.sqlite3").write_bytes(b"this is not a database" * 100)
    result = run_cli(sandbox, monkeypatch, project.storyboard("launch.yaml"))
    assert result.exit_code == 1
    assert "move it aside" in result.stderr
    assert (state / "journal.sqlite3").read_bytes().startswith(b"this is not a database")
    assert sandbox.ledger.creates == ()


def test_renders_tree_is_derived_from_the_cache(project: Project, sandbox: Sandbox,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    run_cli(sandbox, monkeypatch, project.storyboard("sequence.yaml"))
    video = project.renders("title-sequence") / "default" / "titles.2.mp4"
    video.unlink()
    result = run_cli(sandbox, monkeypatch, project.storyboard("sequence.yaml"))
    assert result.exit_code == 0
    assert video.is_file()
    assert len(sandbox.ledger.creates) == 3

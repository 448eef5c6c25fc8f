"""The errors a newcomer hit (issue 7, item 6): each as the command they ran and the line
they must read."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from storyboard.cli import cli

REPO = Path(__file__).resolve().parents[2]
CASES = REPO / "tests" / "cases"


def run(*args: str | Path, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, [str(a) for a in args], input=stdin)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        result.exception, result.stdout, result.stderr)
    return result.exit_code, result.stdout, result.stderr


def test_a_misspelt_key_inside_a_shot_is_named_at_its_line(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(CASES / "invalid" / "misspelt-shot-key")
    code, out, _ = run("validate", "storyboard.yaml")
    assert (code, out) == (1, "storyboard.yaml:7:9: error: unknown key 'promt'; did you mean "
                              "'prompt'? (at $.clips[0].shots[0].promt)\n")


def test_a_clip_too_short_for_one_generation_points_at_its_duration(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(CASES / "invalid" / "clip-under-3")
    code, out, _ = run("validate", "storyboard.yaml")
    assert (code, out) == (1, "storyboard.yaml:6:15: error: clip 'sting' is 2 s but one "
                              "generation needs at least 3 s; make it at least 3 s long "
                              "(at $.clips[0].duration)\n")


@pytest.mark.parametrize("args", [
    ["--max-cost", "abc"],  # our own usage error (exit 2 without --detailed-exitcode)
    ["--format", "bogus"],  # click's usage error
    ["--pricing", "missing-prices.json"],
    ["--against", "no-such-ref"],
], ids=["max-cost", "format", "pricing", "against"])
def test_plan_detailed_exitcode_errors_exit_1_as_terraform(
        args: list[str], tmp_path: Path, tracked_copy: Callable[..., Path],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """With --detailed-exitcode, 2 means only "renders pending": a CI script that reads 2
    as "there is something to render" must never get it for a typo."""
    project = tracked_copy(REPO / "examples", tmp_path / "project")
    monkeypatch.chdir(project)
    code, out, err = run("plan", "launch.yaml", "--detailed-exitcode", *args)
    assert (code, out) == (1, "")
    assert err.startswith(("error: ", "Usage: ")) and err.endswith("\n")
    code, _, _ = run("plan", "launch.yaml", *args)
    assert code == 2  # the same mistake without the flag: bad usage, as documented


def test_plan_detailed_exitcode_2_means_renders_pending(
        tmp_path: Path, tracked_copy: Callable[..., Path]) -> None:
    project = tracked_copy(REPO / "examples", tmp_path / "project")
    code, out, _ = run("plan", project / "launch.yaml", "--detailed-exitcode")
    assert code == 2 and "due now $8.59" in out
    code, _, _ = run("plan", project / "missing.yaml", "--detailed-exitcode")
    assert code == 1

"""The errors a newcomer hit (issue 7, item 6): each as the command they ran and the line
they must read."""

from __future__ import annotations

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

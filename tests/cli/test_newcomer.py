"""The errors a newcomer hit (issue 7, item 6): each as the command they ran and the line
they must read."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
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


PYTHON_NAMES = re.compile(r"\b(?:NoneType|dict|str|int|float|bool|tuple|Decimal)\b|\w+Error\b")


def _emptied(text: str) -> Iterator[tuple[int, str]]:
    """The storyboard with one value left empty (`key:`), for every value in turn."""
    lines = text.splitlines()
    for number, line in enumerate(lines):
        found = re.match(r"^(\s*(?:- )?[a-z_]+:)\s*\S", line)
        if found and not line.rstrip().endswith(":"):
            yield number + 1, "\n".join([*lines[:number], found.group(1),
                                         *lines[number + 1:]]) + "\n"


@pytest.mark.parametrize("example", ["launch.yaml", "campaign.yaml", "sequence.yaml"])
def test_no_message_shows_a_python_type_name(
        example: str, tmp_path: Path, tracked_copy: Callable[..., Path]) -> None:
    """`name:` left empty said "name must be a string, got NoneType None"."""
    project = tracked_copy(REPO / "examples", tmp_path / "project")
    original = (project / example).read_text(encoding="utf-8")
    messages = []
    for line, text in _emptied(original):
        (project / example).write_text(text, encoding="utf-8")
        code, out, err = run("validate", project / example)
        assert code == 1, f"emptying line {line} went unnoticed"
        messages += (out + err).splitlines()
    assert len(messages) > 20
    assert [m for m in messages if PYTHON_NAMES.search(m)] == []
    assert f"{project / example}:6:6: error: name must be a string, got an empty value " \
           "(at $.name)" in messages or example != "launch.yaml"


@pytest.mark.parametrize(("template", "message"), [
    ("{{ 1 / 0 }}", "template failed: division by zero"),
    ("{{ 'a' + 1 }}", "template failed: an operation on values of the wrong kind (text where "
                      "a number is needed, or the reverse)"),
])
def test_a_failing_template_says_why_in_words(template: str, message: str,
                                             tmp_path: Path) -> None:
    storyboard = tmp_path / "storyboard.yaml"
    storyboard.write_text("storyboard: 1\nname: t\nclips:\n  - id: a\n"
                          f"    prompt: \"{template}\"\n", encoding="utf-8")
    code, out, _ = run("validate", storyboard)
    assert (code, out) == (1, f"{storyboard}:5:13: error: {message} (at $.clips[0].prompt)\n")


@pytest.mark.parametrize(("price", "shown"), [
    ("null", "price must be a decimal string like \"0.095\", got null"),
    ("-1", "price must be a finite, non-negative number, got -1"),
    ("\"-0.5\"", "price must be a finite, non-negative number, got \"-0.5\""),
])
def test_a_bad_price_is_shown_as_written_in_the_json(price: str, shown: str,
                                                     tmp_path: Path) -> None:
    table = (REPO / "storyboard" / "data" / "prices.json").read_text(encoding="utf-8")
    pricing = tmp_path / "prices.json"
    pricing.write_text(table.replace('"std": {"off": "0.071"', f'"std": {{"off": {price}'),
                       encoding="utf-8")
    code, out, err = run("plan", REPO / "examples" / "launch.yaml", "--pricing", pricing)
    assert (code, out) == (2, "")
    assert err == (f"error: {pricing}: kwaivgi/kling-o3/text-to-video std sound=off: "
                   f"{shown}\n")

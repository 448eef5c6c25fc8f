"""The README's two commands, in order, on a fresh clone: what CI runs and what tests copy."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from storyboard.cli import cli

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text(encoding="utf-8")


def _readme_commands() -> list[str]:
    """The two `sh` blocks at the top of the README: render the example, run the tests."""
    return re.findall(r"```sh\n(.+?)\n```", README)[:2]


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    _, test_command = _readme_commands()
    assert test_command.endswith(".venv/bin/python -m pytest")
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert test_command in ci


def test_the_first_command_leaves_nothing_the_tests_copy(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        tracked_copy: Callable[..., Path]) -> None:
    """Running the README's first command, then its second, starts every test clean."""
    clone = tmp_path / "clone"
    tracked_copy(REPO, clone)
    subprocess.run(["git", "init", "-q"], cwd=clone, check=True)
    first, _ = _readme_commands()
    args = first.split(".venv/bin/storyboard ", 1)[1].split()
    assert args == ["run", "examples/launch.yaml", "--sandbox", "--yes"]
    monkeypatch.chdir(clone)
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    left = {p.name for p in (clone / "examples").iterdir()}
    assert {".storyboard", "renders"} <= left  # what the first command leaves in examples/
    # the sandbox's placeholders, the cuts made of them and their review, all under
    # renders/sandbox/: nothing that passes for a real render
    renders = clone / "examples" / "renders"
    assert [p.name for p in renders.iterdir()] == ["sandbox"]
    made = renders / "sandbox" / "aurora-launch"
    assert sorted(p.name for p in made.glob("*.mp4")) == [
        "jp-tall.mp4", "jp-wide.mp4", "us-tall.mp4", "us-wide.mp4"]
    assert (made / "report" / "index.html").is_file()

    project = tracked_copy(clone / "examples", tmp_path / "project")
    copied = sorted(p.relative_to(project).as_posix() for p in project.rglob("*")
                    if p.is_file())
    shipped = sorted(p.relative_to(clone / "examples").as_posix()
                     for p in (clone / "examples").rglob("*")
                     if p.is_file() and not {".storyboard", "renders"} & set(
                         p.relative_to(clone / "examples").parts))
    assert copied == shipped
    assert "launch.yaml" in copied and not (project / ".storyboard").exists()


def _options(command: click.Command) -> set[str]:
    return {name for param in command.params for name in getattr(param, "opts", [])
            if name.startswith("--")} | {"--help"}


# options of other programs the README shows (check-jsonschema, the bench scripts)
OTHER_TOOLS = {"--schemafile", "--check"}
SPAN = re.compile(r"`([^`\n]+)`|^(storyboard .+)$", re.MULTILINE)
OPTION = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")


def _named_command(text: str, commands: dict[str, click.Command]) -> str | None:
    words = text.replace("`", " ").split()
    return next((w for i, w in enumerate(words) if w in commands and (
        i == 0 or words[i - 1] == "storyboard")), None)


def test_every_option_the_readme_names_is_a_real_one_of_its_command() -> None:
    """The README once offered `--fault`/`--latency` in its `storyboard run` section, where
    the options are `--sandbox-fault`/`--sandbox-latency`. An option is checked against the
    command its code span names (`storyboard sandbox …`, `run --sandbox …`), else the
    command its section is about, else all of them."""
    assert isinstance(cli, click.Group)
    context = click.Context(cli)  # the group loads its commands on use: ask it for them
    commands = {name: cli.get_command(context, name) for name in cli.list_commands(context)}
    every = set().union(*(_options(c) for c in commands.values())) | OTHER_TOOLS
    checked = 0
    for section in re.split(r"^## ", README, flags=re.MULTILINE):
        about = _named_command(section.split("\n", 1)[0], commands)
        for match in SPAN.finditer(section):
            span = match.group(1) or match.group(2)
            named = _named_command(span, commands) or about
            allowed = (_options(commands[named]) | OTHER_TOOLS) if named else every
            for option in OPTION.findall(span):
                assert option in allowed, (f"README: `{span}`: {option} is not an option of "
                                           f"{'storyboard ' + named if named else 'any command'}")
                checked += 1
    assert checked > 40

"""Nothing a user gets cites a document only the team has (API.md, DESIGN.md, STYLE.md)."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from storyboard.cli import cli
from storyboard.plan.pricing import load_price_table
from storyboard.resources import data_path

REPO = Path(__file__).resolve().parent.parent
INTERNAL = re.compile(r"\b(?:API|DESIGN|STYLE)\.md\b|shared/")
# what a user installs or clones: the package, the schemas, the docs and examples beside them
SHIPPED = ["storyboard", "schemas", "examples", "bench", "README.md", ".pre-commit-hooks.yaml",
           "pyproject.toml"]


def _shipped_files() -> Iterator[Path]:
    """The files git tracks there (renders or state a run left behind are not shipped)."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                             "--exclude-standard", "--", *SHIPPED], cwd=REPO, check=True,
                            capture_output=True, text=True).stdout
    for name in sorted(filter(None, listed.split("\0"))):
        if (REPO / name).is_file():
            yield REPO / name


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield prefix
    context = click.Context(group)  # the group loads its commands on use: ask it for them
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        if isinstance(command, click.Group):
            yield from _commands(command, (*prefix, name))
        else:
            yield (*prefix, name)


@pytest.mark.parametrize("file", list(_shipped_files()),
                         ids=lambda p: p.relative_to(REPO).as_posix())
def test_no_shipped_file_cites_an_internal_document(file: Path) -> None:
    text = file.read_text(encoding="utf-8")
    assert [line for line in text.splitlines() if INTERNAL.search(line)] == []


@pytest.mark.parametrize("command", list(_commands(cli)), ids=" ".join)
def test_no_help_text_cites_an_internal_document(command: tuple[str, ...]) -> None:
    result = CliRunner().invoke(cli, [*command, "--help"])
    assert result.exit_code == 0
    assert INTERNAL.search(result.output) is None, result.output


def test_the_price_table_cites_the_providers_page_and_the_date_it_was_read() -> None:
    table = load_price_table(None)
    raw = json.loads(data_path("prices.json").read_text(encoding="utf-8"))
    assert raw["source"] == ("ShortAPI's kwaivgi/kling-o3/text-to-video model page, prices read "
                             f"{raw['version']}")
    assert table.source == raw["source"]

"""`storyboard validate FILE...` runs without click (cli/fast.py), as pre-commit runs it
on every commit: it must print the same bytes and exit with the same code as the click
command does. Each case runs both ways in a fresh process and compares all three."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CASES = REPO / "tests" / "cases"
ENTRY = "from storyboard.cli import main\nmain()\n"  # as the console script runs it
THROUGH_CLICK = ("import sys\nfrom storyboard.cli.group import cli\n"
                 "cli.main(args=sys.argv[1:], prog_name='storyboard')\n")
TELL_CLICK = ("import atexit, sys\n"
              "atexit.register(lambda: sys.__stderr__.write("
              "'click loaded' if 'click' in sys.modules else 'no click'))\n")


def storyboard(code: str, args: list[str], cwd: Path,
               env: dict[str, str] | None = None) -> tuple[int, bytes, bytes]:
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True,
                          cwd=cwd, env={**os.environ, **(env or {})}, timeout=60,
                          check=False)
    return done.returncode, done.stdout, done.stderr


def both_ways(args: list[str], cwd: Path, env: dict[str, str] | None = None
              ) -> tuple[int, bytes, bytes]:
    entry = storyboard(ENTRY, args, cwd, env)
    assert entry == storyboard(THROUGH_CLICK, args, cwd, env)
    return entry


@pytest.fixture()
def files(tmp_path: Path) -> Path:
    (tmp_path / "empty.yaml").write_text("", encoding="utf-8")
    (tmp_path / "plain.yaml").write_text(
        "storyboard: 1\nname: plain\nclips:\n"
        "  - {id: hero, prompt: A lighthouse at dawn, duration: 5}\n", encoding="utf-8")
    (tmp_path / "escape.yaml").write_text(  # an ANSI code in a message: click strips it
        'storyboard: 1\nname: x\nclips: []\n"\\e[31mred": 1\n', encoding="utf-8")
    (tmp_path / "café.yaml").write_text("storyboard: 1\nname: ünïcödé\nclips: 3\n",
                                        encoding="utf-8")
    (tmp_path / "folder").mkdir()
    return tmp_path


CASES_ARGS = [
    ["validate", str(REPO / "examples" / "launch.yaml")],
    ["validate", "plain.yaml"],
    ["validate", "empty.yaml"],
    ["validate", "escape.yaml"],
    ["validate", "café.yaml"],
    ["validate", str(CASES / "invalid" / "enum-mode" / "storyboard.yaml")],
    ["validate", str(CASES / "invalid" / "yaml-syntax" / "storyboard.yaml")],
    ["validate", str(CASES / "invalid" / "undefined-variable" / "storyboard.yaml")],
    ["validate", "plain.yaml", "empty.yaml", str(REPO / "examples" / "launch.yaml")],
    ["validate", "missing.yaml"],
    ["validate", "plain.yaml", "missing.yaml"],
    ["validate", "folder"],
    ["validate", ""],
    ["validate"],
    ["validate", "--format", "github", "empty.yaml"],
    ["validate", "plain.yaml", "--format=github"],
    ["validate", "--", "plain.yaml"],
    ["validate", "--help"],
]


@pytest.mark.parametrize("args", CASES_ARGS, ids=lambda args: " ".join(args[1:]) or "none")
def test_both_ways_print_the_same_and_exit_the_same(files: Path, args: list[str]) -> None:
    both_ways(args, files)


def test_an_ascii_terminal_gets_what_click_writes(files: Path) -> None:
    code, out, _ = both_ways(["validate", "café.yaml"], files, {"PYTHONIOENCODING": "ascii"})
    assert code == 1
    assert out.startswith(b"caf")


def test_the_escape_is_stripped_as_click_does(files: Path) -> None:
    code, out, _ = both_ways(["validate", "escape.yaml"], files)
    assert code == 1 and b"\x1b" not in out


def test_valid_files_are_checked_without_click(files: Path) -> None:
    code, out, err = storyboard(TELL_CLICK + ENTRY, ["validate", "plain.yaml"], files)
    assert (code, out, err) == (0, b"plain.yaml: ok (1 variant, 1 generation)\n", b"no click")
    code, out, err = storyboard(TELL_CLICK + ENTRY, ["validate", "empty.yaml"], files)
    assert code == 1 and out.startswith(b"empty.yaml:1:1: error:") and err == b"no click"


def test_anything_but_readable_files_goes_to_click(files: Path) -> None:
    for args in (["validate", "missing.yaml"], ["validate", "--format", "text", "plain.yaml"],
                 ["validate", "folder"], ["--version"], ["plan", "plain.yaml"]):
        assert storyboard(TELL_CLICK + ENTRY, args, files)[2].endswith(b"click loaded"), args

"""`pip install storyboard` without the media extra: planning works, video work says in
one line what to install, and nothing imports PyAV or Pillow until video is touched."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from storyboard.cli import cli

REPO = Path(__file__).resolve().parents[2]
LAUNCH = REPO / "examples" / "launch.yaml"
HINT = "pip install 'storyboard[media]'"


@pytest.fixture
def without_media(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if PyAV and Pillow were not installed (None in sys.modules fails their import)."""
    for name in ("av", "PIL"):
        monkeypatch.setitem(sys.modules, name, None)


@pytest.mark.parametrize(("args", "what"), [
    (["run", str(LAUNCH), "--sandbox", "--yes"], "storyboard run"),
    (["sandbox", "--port", "0"], "the sandbox"),
])
def test_video_work_without_the_extra_is_one_line_naming_the_install(
        without_media: None, tmp_path: Path, args: list[str], what: str) -> None:
    result = CliRunner().invoke(cli, [*args, *(["--state", str(tmp_path)] if "run" in args
                                               else [])])

    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr == (f"error: {what} needs PyAV and Pillow, which are not installed: "
                             f"{HINT}\n")
    assert list(tmp_path.iterdir()) == []  # stopped before the journal: nothing sent


def test_planning_needs_no_media(without_media: None) -> None:
    for command in (["validate", str(LAUNCH)], ["plan", str(LAUNCH)],
                    ["compile", str(LAUNCH)]):
        result = CliRunner().invoke(cli, command)
        assert result.exit_code == 0, (command, result.output)


def test_importing_the_package_imports_no_media_library() -> None:
    modules = ["storyboard.cli", "storyboard.execute.executor", "storyboard.api.client",
               "storyboard.api.sandbox", "storyboard.media.placeholder", "storyboard.media.probe"]
    code = (f"import sys\nfor m in {modules!r}: __import__(m)\n"
            "print(sorted({n.split('.')[0] for n in sys.modules} & {'av', 'PIL'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60)
    assert out.stdout == "[]\n"

"""`storyboard cut` and the media extra, as a user meets them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from storyboard.cli import cli

REPO = Path(__file__).resolve().parents[2]
LAUNCH = REPO / "examples" / "launch.yaml"


def _without_pyav(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if PyAV were not installed (None in sys.modules fails its import)."""
    monkeypatch.setitem(sys.modules, "av", None)


def test_cut_without_the_media_extra_is_one_line_naming_the_install(
        monkeypatch: pytest.MonkeyPatch) -> None:
    _without_pyav(monkeypatch)
    result = CliRunner().invoke(cli, ["cut", str(LAUNCH)])
    assert result.exit_code == 2
    assert result.stderr == ("error: storyboard cut needs PyAV and Pillow, which are not "
                             "installed: pip install 'storyboard[media]'\n")


def test_plan_and_validate_never_load_the_media_stack() -> None:
    code = ("import sys\n"
            "from click.testing import CliRunner\n"
            "from storyboard.cli import cli\n"
            f"for args in (['validate', {str(LAUNCH)!r}], ['plan', {str(LAUNCH)!r}]):\n"
            "    assert CliRunner().invoke(cli, args).exit_code == 0\n"
            "assert 'av' not in sys.modules and 'PIL' not in sys.modules, 'loaded'\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_cut_of_a_storyboard_never_run_says_what_is_missing(tmp_path: Path) -> None:
    path = tmp_path / "launch.yaml"
    path.write_text(LAUNCH.read_text())
    result = CliRunner().invoke(cli, ["cut", str(path)])
    assert result.exit_code == 1
    assert "  us-wide: no cut: us-wide/hero is not rendered yet; us-wide/teaser is not " \
           "rendered yet; us-wide/montage is not rendered yet" in result.stdout
    assert "4 skipped" in result.stdout


def test_cut_without_sandbox_points_to_the_sandbox_renders(tmp_path: Path) -> None:
    path = tmp_path / "launch.yaml"
    path.write_text(LAUNCH.read_text())
    (tmp_path / ".storyboard" / "sandbox").mkdir(parents=True)  # a --sandbox run was here
    result = CliRunner().invoke(cli, ["cut", str(path)])
    assert result.exit_code == 1
    assert result.stderr == "note: the sandbox's renders are cut with --sandbox\n"

"""The phases' import direction (pyproject's [tool.importlinter]) holds, checked by import-linter.

compile knows nothing of the API or of execution; nothing imports the command line;
reporters render results without the executor.
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import storyboard

REPO = Path(__file__).resolve().parent.parent
PYPROJECT = REPO / "pyproject.toml"


def _lint(config: Path) -> subprocess.CompletedProcess[str]:
    """import-linter's own command (``lint-imports``), run by this Python, not found on PATH."""
    code = "import sys; from importlinter.cli import lint_imports_command; lint_imports_command()"
    return subprocess.run([sys.executable, "-c", code, "--config", str(config), "--no-cache"],
                          cwd=REPO, capture_output=True, text=True, timeout=120)


def _contracts() -> list[dict[str, Any]]:
    contracts: list[dict[str, Any]] = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))[
        "tool"]["importlinter"]["contracts"]
    return contracts


def test_the_phases_import_only_in_the_allowed_direction() -> None:
    assert len(_contracts()) == 3
    result = _lint(PYPROJECT)
    assert "Contracts: 3 kept, 0 broken." in result.stdout, result.stdout + result.stderr
    assert result.returncode == 0


def test_every_module_but_the_cli_is_forbidden_to_import_it() -> None:
    """A new top-level module or phase is covered by "nothing imports the command line"."""
    (contract,) = [c for c in _contracts() if c["forbidden_modules"] == ["storyboard.cli"]]
    top = {f"storyboard.{m.name}" for m in pkgutil.iter_modules(storyboard.__path__)}
    assert set(contract["source_modules"]) == top - {"storyboard.cli", "storyboard.__main__"}


def test_a_forbidden_import_is_reported(tmp_path: Path) -> None:
    """The checker reads the real import graph: the executor does import the journal."""
    config = tmp_path / "pyproject.toml"
    config.write_text('[tool.importlinter]\nroot_package = "storyboard"\n'
                      '[[tool.importlinter.contracts]]\nname = "execute without journal"\n'
                      'type = "forbidden"\nsource_modules = ["storyboard.execute"]\n'
                      'forbidden_modules = ["storyboard.journal"]\n', encoding="utf-8")
    result = _lint(config)
    assert "execute without journal BROKEN" in result.stdout, result.stdout + result.stderr
    assert "storyboard.execute.executor -> storyboard.journal" in result.stdout
    assert result.returncode == 1

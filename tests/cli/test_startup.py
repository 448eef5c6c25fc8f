"""A fast start, guarded by what gets imported rather than by timings: `storyboard
validate` runs on every commit, so `--help` loads no more than click, and validating a
valid file loads no schema library, HTTP client, terminal UI or media library.

bench/startup_bench.py measures the times themselves, against yamllint."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HEAVY = {"httpx", "rich", "av", "PIL", "jsonschema", "fastjsonschema", "referencing",
         "asyncio", "sqlite3"}
COMPILER = {"yaml", "jinja2"}


def imported_after(argv: list[str]) -> set[str]:
    """Top-level modules a fresh interpreter holds after running ``storyboard ARGV``."""
    code = ("import json, sys\n"
            "from storyboard.cli import main\n"
            f"sys.argv = ['storyboard', *{argv!r}]\n"
            "try:\n    main()\nexcept SystemExit as exit:\n    code = exit.code\n"
            "print(json.dumps([code, sorted({m.split('.')[0] for m in sys.modules})]),"
            " file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=REPO, check=True, timeout=60)
    exit_code, modules = json.loads(done.stderr.strip().splitlines()[-1])
    assert exit_code in (0, None), done.stdout
    return set(modules)


def test_importing_the_cli_loads_no_http_ui_media_or_compiler() -> None:
    code = "import sys, storyboard.cli; print(sorted({m.split('.')[0] for m in sys.modules}))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, timeout=60)
    loaded = set(json.loads(done.stdout.replace("'", '"')))
    assert "click" in loaded
    assert loaded & (HEAVY | COMPILER) == set()


def test_help_loads_only_click() -> None:
    assert imported_after(["--help"]) & (HEAVY | COMPILER) == set()


def test_validating_a_valid_file_loads_no_schema_library() -> None:
    loaded = imported_after(["validate", str(REPO / "examples" / "launch.yaml")])
    assert loaded >= COMPILER  # it did compile the storyboard
    assert loaded & HEAVY == set()


def test_validating_a_storyboard_without_templates_loads_no_jinja2(tmp_path: Path) -> None:
    plain = tmp_path / "plain.yaml"
    plain.write_text("storyboard: 1\nname: plain\nclips:\n"
                     "  - {id: hero, prompt: A lighthouse at dawn, duration: 5}\n",
                     encoding="utf-8")
    loaded = imported_after(["validate", str(plain)])
    assert "yaml" in loaded  # it did read the storyboard
    assert loaded & (HEAVY | {"jinja2"}) == set()

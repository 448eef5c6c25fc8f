"""A fast start, guarded by what gets imported rather than by timings: `storyboard
validate` runs on every commit, so `--help` loads no more than click, validating a
valid file loads no click, schema library, HTTP client, terminal UI or media library,
and a command loads no other command's module.

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
COMMAND_MODULES = {f"storyboard.cli.{name}" for name in
                   ("validate", "plan", "run", "media", "status", "sandbox")}


def modules_after(argv: list[str]) -> set[str]:
    """Every module a fresh interpreter holds after running ``storyboard ARGV``."""
    code = ("import json, sys\n"
            "from storyboard.cli import main\n"
            f"sys.argv = ['storyboard', *{argv!r}]\n"
            "try:\n    main()\nexcept SystemExit as exit:\n    code = exit.code\n"
            "print(json.dumps([code, sorted(sys.modules)]), file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=REPO, check=True, timeout=60)
    exit_code, modules = json.loads(done.stderr.strip().splitlines()[-1])
    assert exit_code in (0, None), done.stdout
    return set(modules)


def imported_after(argv: list[str]) -> set[str]:
    """Top-level modules a fresh interpreter holds after running ``storyboard ARGV``."""
    return {module.split(".")[0] for module in modules_after(argv)}


def command_modules_after(argv: list[str]) -> set[str]:
    """The command modules (cli/validate.py, cli/plan.py, …) ``storyboard ARGV`` loaded."""
    return {module for module in modules_after(argv) if module in COMMAND_MODULES}


def test_importing_the_cli_loads_no_http_ui_media_or_compiler() -> None:
    code = "import sys, storyboard.cli; print(sorted({m.split('.')[0] for m in sys.modules}))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, timeout=60)
    loaded = set(json.loads(done.stdout.replace("'", '"')))
    assert "storyboard" in loaded
    assert loaded & (HEAVY | COMPILER | {"click"}) == set()  # click: when a command needs it


def test_help_loads_only_click() -> None:
    assert imported_after(["--help"]) & (HEAVY | COMPILER) == set()


def test_validating_a_valid_file_loads_no_schema_library() -> None:
    loaded = imported_after(["validate", str(REPO / "examples" / "launch.yaml")])
    assert loaded >= COMPILER  # it did compile the storyboard
    assert loaded & HEAVY == set()
    assert "click" not in loaded  # as pre-commit runs it: no options, readable files
    assert "unicodedata" not in loaded  # only a slug (a default variant id) needs it


def test_validate_with_an_option_loads_only_its_own_command_module() -> None:
    loaded = command_modules_after(["validate", "--format", "github",
                                    str(REPO / "examples" / "launch.yaml")])
    assert loaded == {"storyboard.cli.validate"}


def test_a_command_loads_no_other_command_module() -> None:
    assert command_modules_after(["schema"]) == {"storyboard.cli.validate"}
    assert command_modules_after(["plan", "--help"]) == {"storyboard.cli.plan"}
    assert command_modules_after(["--version"]) == set()


def test_validating_a_storyboard_without_templates_loads_no_jinja2(tmp_path: Path) -> None:
    plain = tmp_path / "plain.yaml"
    plain.write_text("storyboard: 1\nname: plain\nclips:\n"
                     "  - {id: hero, prompt: A lighthouse at dawn, duration: 5}\n",
                     encoding="utf-8")
    loaded = imported_after(["validate", str(plain)])
    assert "yaml" in loaded  # it did read the storyboard
    assert loaded & (HEAVY | {"jinja2"}) == set()


def test_the_group_finds_each_command_by_its_own_name() -> None:
    import click

    from storyboard.cli import cli

    context = click.Context(cli)
    names = cli.list_commands(context)
    assert {"validate", "plan", "run", "cut", "sandbox"} <= set(names)
    for name in names:
        command = cli.get_command(context, name)
        assert command is not None and command.name == name

"""Issue 8 item 5: every option and auxiliary file is bounded and validated where it is
given — one line, exit 2, before anything is compiled, created or paid."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from storyboard.cli import cli

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def launch(tmp_path: Path) -> Path:
    shutil.copy(REPO / "examples" / "launch.yaml", tmp_path / "launch.yaml")
    return tmp_path / "launch.yaml"


def one_error_line(args: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(cli, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        result.exception, result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return result.exit_code, lines[0]


SECONDS = "give seconds from 0.01 to 3600"
USD = "give an amount in dollars from 0 to 1,000,000,000 with at most 6 decimals, e.g. 12.50"


@pytest.mark.parametrize(("options", "line"), [
    (["--poll-start", "nan"], f"error: --poll-start 'nan': {SECONDS}"),
    (["--poll-start", "inf", "--poll-max", "inf"], f"error: --poll-start 'inf': {SECONDS}"),
    (["--poll-max", "nan"], f"error: --poll-max 'nan': {SECONDS}"),
    (["--poll-max", "1e999"], f"error: --poll-max '1e999': {SECONDS}"),
    (["--poll-start", "1e-300"], f"error: --poll-start '1e-300': {SECONDS}"),
    (["--rate", "1e-300"], "error: --rate '1e-300': give requests per second from 0.01 to 10000"),
    (["--rate", "nan"], "error: --rate 'nan': give requests per second from 0.01 to 10000"),
    (["--job-timeout", "inf"], "error: --job-timeout 'inf': give seconds from 0.1 to 604800"),
    (["--concurrency", "1000000000"],
     "error: --concurrency '1000000000': give jobs in flight from 1 to 1000"),
    (["--max-cost", "1e999"], f"error: --max-cost '1e999': {USD}"),
    (["--max-cost", "1e-999999999"], f"error: --max-cost '1e-999999999': {USD}"),
    (["--state", ""], "error: --state is empty: give a path ('.' for the current folder)"),
    (["--out", ""], "error: --out is empty: give a path ('.' for the current folder)"),
    (["--pricing", "/dev/zero"], "error: /dev/zero: the file is larger than 1 MiB; a price "
     "table is a small text file — check that this is the right file"),
])
def test_run_refuses_absurd_options_before_anything_is_sent(
        launch: Path, options: list[str], line: str) -> None:
    code, got = one_error_line(["run", str(launch), "--sandbox", "--yes", *options])
    assert (code, got) == (2, line)
    assert not (launch.parent / ".storyboard").exists()
    assert not (launch.parent / "renders").exists()


@pytest.mark.parametrize(("options", "line"), [
    (["--max-cost", "1e999"], f"error: --max-cost '1e999': {USD}"),
    (["--fail-over", "1e999"], f"error: --fail-over '1e999': {USD}"),
    (["--fail-over", "nan"], f"error: --fail-over 'nan': {USD}"),
    (["--pricing", "/dev/zero"], "error: /dev/zero: the file is larger than 1 MiB; a price "
     "table is a small text file — check that this is the right file"),
    (["--out", ""], "error: --out is empty: give a file path"),
    (["--state", ""], "error: --state is empty: give a path ('.' for the current folder)"),
])
def test_plan_refuses_absurd_options(launch: Path, options: list[str], line: str) -> None:
    assert one_error_line(["plan", str(launch), *options]) == (2, line)


@pytest.mark.parametrize("command", ["status", "cut", "report"])
@pytest.mark.parametrize("option", ["--state", "--out"])
def test_every_command_refuses_an_empty_folder_option(launch: Path, command: str,
                                                     option: str) -> None:
    assert one_error_line([command, str(launch), option, ""]) == (
        2, f"error: {option} is empty: give a path ('.' for the current folder)")


def test_ordinary_amounts_still_work(launch: Path) -> None:
    result = CliRunner().invoke(cli, ["plan", str(launch), "--max-cost", "$8.59",
                                      "--fail-over", "100"])
    assert result.exit_code == 0, result.stderr
    result = CliRunner().invoke(cli, ["plan", str(launch), "--max-cost", "8.589999"])
    assert result.exit_code == 1
    assert "over --max-cost $8.589999" in result.stderr


@pytest.mark.parametrize("value", ["1e308", "99999999999999999999999999999999"])
def test_an_absurd_budget_in_the_storyboard_is_a_located_line(tmp_path: Path,
                                                               value: str) -> None:
    """budget.max_cost_usd: 1e308 was exit 70 when the plan printed the budget."""
    path = tmp_path / "s.yaml"
    path.write_text(f"storyboard: 1\nname: t\nbudget: {{max_cost_usd: {value}}}\n"
                    "clips:\n  - {id: a, prompt: x}\n")
    result = CliRunner().invoke(cli, ["plan", str(path)])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{path}:3:24: error: max_cost_usd must be at most 1000000000, got "
        f"{float(value) if 'e' in value else value} (at $.budget.max_cost_usd)"]


@pytest.mark.parametrize(("values", "message"), [
    ({"poll_start": float("nan")}, "--poll-start must be positive and at most --poll-max"),
    ({"poll_max": float("nan")}, "--poll-start must be positive and at most --poll-max"),
    ({"poll_start": float("inf"), "poll_max": float("inf")}, "--poll-start must be positive"),
    ({"job_timeout": float("inf")}, "--job-timeout must be positive and finite"),
])
def test_the_library_refuses_what_the_options_refuse(values: dict[str, float],
                                                     message: str) -> None:
    """run_options called without the CLI (a script, a test) holds the same line."""
    from storyboard.errors import UsageError
    from storyboard.execute.options import run_options

    arguments = {"poll_start": None, "poll_max": None, "job_timeout": None, **values}
    with pytest.raises(UsageError, match=message):
        run_options(sandbox=True, concurrency=4, **arguments)

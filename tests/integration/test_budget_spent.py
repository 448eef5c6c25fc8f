"""Issue 7.2: the budget bounds what a storyboard spends over all its runs.

``budget.max_cost_usd`` bounds what the journal says was spent plus what is due now;
``--max-cost`` bounds one run's new spend; ``plan`` and ``run`` show all three; the
summary counts what creates of unknown outcome may have charged.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from storyboard.api.sandbox import Faults, Sandbox
from storyboard.cli import cli

from .conftest import REPO, Project, run_cli, start_sandbox


def over_budget(project: Project, limit: str) -> Path:
    path = project.storyboard("launch.yaml")
    path.write_text(path.read_text().replace("max_cost_usd: 12", f"max_cost_usd: {limit}"))
    return path


def test_a_subset_then_the_rest_cannot_spend_past_the_budget(
        project: Project, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    path = over_budget(project, "8")  # the whole storyboard costs $8.59
    first = run_cli(sandbox, monkeypatch, path, "--only", "us-*")
    assert first.exit_code == 0, first.stdout + first.stderr
    assert ("Budget: within ($0.00 spent so far + $4.89 due now = $4.89 of $8.00; "
            "54 s rendered of 120 s)") in first.stdout.splitlines()
    assert "  money: estimated $4.89 for new jobs; charged $4.89" in first.stdout.splitlines()
    assert len(sandbox.ledger.creates) == 6

    expected = (f"$4.89 spent so far + $3.70 due now = $8.59, over the budget of $8.00 "
                f"(budget.max_cost_usd at {path}:26:17); raise budget.max_cost_usd to at "
                "least 8.59 or render less")
    second = run_cli(sandbox, monkeypatch, path)
    assert second.exit_code == 1
    assert second.stderr.splitlines() == [f"error: {expected}"]
    assert f"Budget: EXCEEDED — {expected}" in second.stdout.splitlines()
    assert len(sandbox.ledger.creates) == 6  # refused before anything was sent
    # --max-cost bounds this run's new spend; it does not lift the storyboard's budget
    lifted = run_cli(sandbox, monkeypatch, path, "--max-cost", "100")
    assert lifted.exit_code == 1 and lifted.stderr.splitlines() == [f"error: {expected}"]
    # plan shows the same figures, from the same journal
    planned = CliRunner().invoke(cli, ["plan", str(path), "--format", "json"])
    assert planned.exit_code == 1
    budget = json.loads(planned.stdout)["budget"]
    assert (budget["spent_usd"], budget["due_usd"], budget["max_cost_usd"]) == (
        "4.89", "3.70", "8.00")
    assert budget["problems"] == [expected]

    path.write_text(path.read_text().replace("max_cost_usd: 8", "max_cost_usd: 8.59"))
    rest = run_cli(sandbox, monkeypatch, path)
    assert rest.exit_code == 0, rest.stdout + rest.stderr
    assert "  money: estimated $3.70 for new jobs; charged $3.70" in rest.stdout.splitlines()
    assert sandbox.ledger.charged() == Decimal("8.59")


def test_max_cost_bounds_one_runs_new_spend(project: Project, sandbox: Sandbox,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    path = project.storyboard("launch.yaml")
    assert run_cli(sandbox, monkeypatch, path, "--only", "us-*").exit_code == 0
    # $3.70 is due now: $4.89 was spent by the first run, and is not this run's spend
    result = run_cli(sandbox, monkeypatch, path, "--max-cost", "3.70")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert ("Budget: within ($4.89 spent so far + $3.70 due now = $8.59 of $12.00; "
            "$3.70 due now of --max-cost $3.70; 98 s rendered of 120 s)"
            ) in result.stdout.splitlines()


def test_the_summary_counts_what_unknown_creates_may_have_charged(
        project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    # the API runs (and charges) some creates, then drops the connection before replying
    api = start_sandbox(faults=Faults.parse(["drop-after=0.4"]), seed=7)
    try:
        result = run_cli(api, monkeypatch, project.storyboard("launch.yaml"))
        charged_by_the_api = api.ledger.charged()
    finally:
        api.stop()
    assert result.exit_code == 1
    [line] = [x for x in result.stdout.splitlines() if x.startswith("  money:")]
    match = re.fullmatch(r"  money: estimated \$8\.59 for new jobs; charged \$([\d.]+), plus "
                         r"up to \$([\d.]+) in creates of unknown outcome", line)
    assert match, line
    charged, unknown = Decimal(match[1]), Decimal(match[2])
    assert unknown > 0 and charged < charged_by_the_api
    assert charged + unknown == charged_by_the_api  # nothing the API charged is left out
    # and the next plan counts them against the budget
    budget = json.loads(CliRunner().invoke(cli, ["plan", str(project.storyboard(
        "launch.yaml")), "--format", "json"]).stdout)["budget"]
    assert (Decimal(budget["spent_usd"]), Decimal(budget["unknown_usd"])) == (charged, unknown)


def test_validate_does_not_claim_to_check_budgets(tmp_path: Path) -> None:
    text = (REPO / "examples" / "launch.yaml").read_text()
    (tmp_path / "launch.yaml").write_text(text.replace("max_cost_usd: 12", "max_cost_usd: 1"))
    result = CliRunner().invoke(cli, ["validate", str(tmp_path / "launch.yaml")])
    assert result.exit_code == 0  # over budget is plan's and run's to say, not validate's
    readme = (REPO / "README.md").read_text()
    for sentence in re.split(r"(?<=[.!?])\s+|\n(?=\S)", readme):
        if "storyboard validate" in sentence:
            assert "budget" not in sentence, sentence
    assert "budget" not in (CliRunner().invoke(cli, ["validate", "--help"]).stdout)

"""Issue 7.3: a saved plan is verified before it is run.

``run PLAN.json`` recomputes every generation's hash from its request and its rate and
cost from the price table; any difference refuses the run with one line naming the
generation and the field, before anything is sent.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from storyboard.api.sandbox import Sandbox
from storyboard.cli import cli

from .conftest import Project, run_cli

REGENERATE = ("the plan was edited or priced with another table — regenerate it with "
              "`storyboard plan STORYBOARD --out PLAN.json` (with the same --pricing)")


def saved_plan(project: Project, *options: str) -> Path:
    plan_file = project.root / "plan.json"
    result = CliRunner().invoke(cli, ["plan", str(project.storyboard("launch.yaml")),
                                      "--out", str(plan_file), *options])
    assert result.exit_code == 0, result.stderr
    return plan_file


def edit_every_generation(plan_file: Path, change: Callable[[dict[str, Any]], None]) -> None:
    data = json.loads(plan_file.read_text())
    for generation in data["generations"]:
        change(generation)
    plan_file.write_text(json.dumps(data))


def test_a_plan_whose_costs_were_edited_is_refused_before_anything_is_sent(
        project: Project, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    plan_file = saved_plan(project)
    edit_every_generation(plan_file, lambda g: g.update(cost_usd="0.01"))
    result = run_cli(sandbox, monkeypatch, plan_file, "--max-cost", "0.15")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f'error: {plan_file}: generation 1 (us-wide/hero): cost_usd is "0.01", but the price '
        f"table 2026-11-24 makes it 1.14 (12 s × $0.095); {REGENERATE}"]
    assert result.stdout == ""  # refused before the plan is even shown
    assert sandbox.ledger.creates == ()
    assert sandbox.ledger.calls == {}


@pytest.mark.parametrize(("field", "value", "shown", "why"), [
    ("rate_usd", "0.001", '"0.001"', "the price table 2026-11-24 makes it 0.095 "
                                     "(12 s × $0.095)"),
    ("seconds", 1, "1", "its request makes it 12"),
    ("seconds", "12", '"12"', "its request makes it 12"),
    ("mode", "std", '"std"', "its request makes it pro"),
])
def test_any_figure_that_differs_is_named(project: Project, sandbox: Sandbox,
                                          monkeypatch: pytest.MonkeyPatch, field: str,
                                          value: object, shown: str, why: str) -> None:
    plan_file = saved_plan(project)
    edit_every_generation(plan_file, lambda g: g.update({field: value}))
    result = run_cli(sandbox, monkeypatch, plan_file)
    assert result.exit_code == 2
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: {plan_file}: generation 1 (us-wide/hero): "
                           f"{field} is {shown}, but {why}")
    assert sandbox.ledger.creates == ()


def test_a_request_that_does_not_match_its_hash_is_refused(
        project: Project, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    plan_file = saved_plan(project)
    edit_every_generation(plan_file, lambda g: g["request"]["args"].update(duration=15))
    result = run_cli(sandbox, monkeypatch, plan_file)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"error: {plan_file}: generation 1 (us-wide/hero): the request does not match its "
        "hash; the plan file was edited — regenerate it"]
    assert sandbox.ledger.creates == ()


def test_a_shared_generation_costs_nothing_in_the_file_and_is_checked_so(
        project: Project, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    plan_file = saved_plan(project)
    data = json.loads(plan_file.read_text())
    shared = data["generations"][7]
    assert (shared["id"], shared["same_as"], shared["cost_usd"]) == (
        "jp-wide/teaser", "us-wide/teaser", "0.00")
    shared["cost_usd"] = "0.595"  # "paying" for it twice is a difference too
    plan_file.write_text(json.dumps(data))
    result = run_cli(sandbox, monkeypatch, plan_file)
    assert result.stderr.splitlines() == [
        f'error: {plan_file}: generation 8 (jp-wide/teaser): cost_usd is "0.595", but the '
        "price table 2026-11-24 makes it 0.00 (5 s × $0.119, shared with us-wide/teaser); "
        f"{REGENERATE}"]


def test_a_plan_priced_with_another_table_needs_that_table(
        project: Project, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    prices = {"version": "reseller-2027", "models": {"kwaivgi/kling-o3/text-to-video": {
        "rates": {"std": {"off": "0.05", "on": "0.06"}, "pro": {"off": "0.10", "on": "0.12"}}}}}
    (tmp_path / "prices.json").write_text(json.dumps(prices))
    plan_file = saved_plan(project, "--pricing", str(tmp_path / "prices.json"))
    refused = run_cli(sandbox, monkeypatch, plan_file)
    assert refused.exit_code == 2
    assert "rate_usd is \"0.10\", but the price table 2026-11-24 makes it 0.095" in (
        refused.stderr)
    ran = run_cli(sandbox, monkeypatch, plan_file, "--pricing", tmp_path / "prices.json")
    assert ran.exit_code == 0, ran.stdout + ran.stderr
    assert len(sandbox.ledger.creates) == 10

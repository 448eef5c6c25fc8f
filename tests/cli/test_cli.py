"""The commands as a user runs them, through click's CliRunner."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from storyboard.cli import cli
from storyboard.plan.price import load_plan

REPO = Path(__file__).resolve().parents[2]
LAUNCH = REPO / "examples" / "launch.yaml"
CASES = REPO / "tests" / "cases"


def run(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    # an escaped exception is kept in result.exception, not printed: only exits allowed
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        result.exception, result.stdout, result.stderr)
    return result.exit_code, result.stdout, result.stderr


def test_validate_every_example_from_another_directory(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, _ = run("validate", *sorted((REPO / "examples").glob("*.yaml")))
    assert code == 0
    assert "launch.yaml: ok (4 variants, 12 generations)" in out
    assert "sequence.yaml: ok (1 variant, 3 generations)" in out


def test_validate_reports_every_problem_with_its_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(CASES / "invalid" / "enum-mode")
    code, out, _ = run("validate", "storyboard.yaml")
    assert code == 1
    assert out.splitlines() == [
        "storyboard.yaml:4:9: error: mode must be one of: std, pro (or a template that renders "
        "to one); got 'fast' (at $.defaults.mode)",
        "storyboard.yaml:5:17: error: aspect_ratio must be one of: 16:9, 1:1, 9:16 (or a "
        "template that renders to one); got '4:3' (at $.defaults.aspect_ratio)",
        "storyboard.yaml:6:10: error: sound must be one of: on, off, true, false (or a template "
        "that renders to one); got 'loud' (at $.defaults.sound)",
    ]


def test_validate_github_format_emits_workflow_annotations(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(CASES / "invalid" / "misspelt-key")
    code, out, _ = run("validate", "--format", "github", "storyboard.yaml")
    assert code == 1
    assert out.splitlines()[0] == (
        "::error file=storyboard.yaml,line=5,col=5::unknown key 'promt'; did you mean "
        "'prompt'? (at $.clips[0].promt)")


def test_validate_keeps_going_after_a_bad_file(tmp_path: Path) -> None:
    code, out, _ = run("validate", tmp_path / "missing.yaml", LAUNCH)
    assert code == 1
    assert "missing.yaml: no such file" in out
    assert "launch.yaml: ok" in out


def test_compile_prints_one_request_a_line_in_storyboard_order() -> None:
    code, out, _ = run("compile", LAUNCH)
    assert code == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert [g["id"] for g in lines[:3]] == ["us-wide/hero", "us-wide/teaser", "us-wide/montage"]
    assert len(lines) == 12
    first = lines[0]
    assert set(first) >= {"id", "variant", "clip", "take", "hash", "seconds", "cost_usd",
                          "request"}
    assert first["cost_usd"] == "1.14"
    assert first["request"]["args"]["multi_prompt"][1] == {
        "prompt": "Aurora X1 on a walnut desk as morning light sweeps across it, anamorphic "
                  "35mm, teal-and-gold grade, shallow depth of field", "duration": 5}


def test_plan_json_totals_are_exact(tmp_path: Path) -> None:
    code, out, _ = run("plan", LAUNCH, "--format", "json")
    assert code == 0
    plan = json.loads(out)
    assert plan["total_seconds"] == 108
    assert plan["rendered_seconds"] == 98  # two 5 s teasers are shared, rendered once
    # the plan costs what it pays for: a shared teaser is paid once ($9.78 counted it twice)
    assert plan["total_cost_usd"] == "8.59"
    assert plan["due_cost_usd"] == "8.59"
    assert plan["generations"][7]["same_as"] == "us-wide/teaser"
    assert plan["generations"][7]["cost_usd"] == "0.00"
    assert plan["variants"]["jp-wide"] == {"generations": 3, "seconds": 27,
                                           "rendered_seconds": 22, "cost_usd": "1.85",
                                           "due_usd": "1.85"}
    assert plan["budget"] == {"max_cost_usd": "12.00", "max_seconds": 120,
                              "max_run_cost_usd": None, "spent_usd": "0.00",
                              "unknown_usd": "0.00", "due_usd": "8.59", "within": True,
                              "problems": []}
    assert len(plan["generations"]) == 12


def test_plan_over_budget_exits_1_with_one_line_and_max_cost_overrides() -> None:
    code, out, err = run("plan", LAUNCH, "--max-cost", "8.50")
    assert code == 1
    # two teasers do not vary by market: rendered once, shared
    assert ("Total: 12 generations, 108 s of video (98 s rendered, the rest shared), cost "
            "$8.59 (2 shared: $1.19 saved); due now $8.59") in out.splitlines()
    assert err.splitlines() == [
        "error: $8.59 due now, over --max-cost $8.50; pass --max-cost 8.59 or render less"]
    code, _, _ = run("plan", LAUNCH, "--max-cost", "8.59")
    assert code == 0


def test_plan_budget_from_the_storyboard_names_its_line(tmp_path: Path) -> None:
    text = LAUNCH.read_text().replace("max_cost_usd: 12", "max_cost_usd: 5")
    (tmp_path / "launch.yaml").write_text(text)
    code, _, err = run("plan", tmp_path / "launch.yaml")
    assert code == 1
    assert err.splitlines() == [
        f"error: $0.00 spent so far + $8.59 due now = $8.59, over the budget of $5.00 "
        f"(budget.max_cost_usd at {tmp_path / 'launch.yaml'}:26:17); raise "
        "budget.max_cost_usd to at least 8.59 or render less"]


def test_plan_markdown_has_a_collapsible_table_per_variant() -> None:
    code, out, _ = run("plan", LAUNCH, "--format", "markdown")
    assert code == 0
    assert out.count("<details>") == 4
    assert ("**$8.59** due now; the plan costs $8.59 for 108 s of video in 12 generations "
            "across 4 variants") in out
    assert ("| `jp-wide/teaser` | pro | on | 16:9 | 5 | $0.119 | $0.00 | = us-wide/teaser "
            "| $0.00 |") in out
    assert "| `us-wide/hero` | pro | off | 16:9 | 12 | $0.095 | $1.14 | new | $1.14 |" in out
    assert ("<summary><code>jp-wide</code> — 3 generations, 27 s, cost $1.85, "
            "due now $1.85</summary>") in out


def test_plan_out_saves_a_plan_that_loads_back_exactly(tmp_path: Path) -> None:
    out_file = tmp_path / "plan.json"
    code, _, err = run("plan", LAUNCH, "--out", out_file)
    assert code == 0
    assert f"plan saved to {out_file}" in err
    plan = load_plan(out_file)
    assert [i.generation.id for i in plan.items][:2] == ["us-wide/hero", "us-wide/teaser"]
    assert str(plan.totals().cost) == "8.590"


def test_pricing_override_changes_every_cost(tmp_path: Path) -> None:
    prices = {"version": "reseller-2027", "models": {"kwaivgi/kling-o3/text-to-video": {
        "rates": {"std": {"off": "0.05", "on": "0.06"}, "pro": {"off": "0.10", "on": "0.12"}}}}}
    (tmp_path / "prices.json").write_text(json.dumps(prices))
    code, out, _ = run("plan", LAUNCH, "--format", "json", "--pricing", tmp_path / "prices.json")
    assert code == 0
    # 4 × (12 × 0.10 + 10 × 0.05) + 2 × 5 × 0.12: two teasers are shared by the markets
    assert json.loads(out)["total_cost_usd"] == "8.00"


def test_a_broken_pricing_file_is_one_clear_line(tmp_path: Path) -> None:
    (tmp_path / "prices.json").write_text('{"models": {"kwaivgi/kling-o3/text-to-video": 3}}')
    code, _, err = run("plan", LAUNCH, "--pricing", tmp_path / "prices.json")
    assert code == 2
    assert err.startswith(f"error: {tmp_path / 'prices.json'}: model ")
    assert len(err.splitlines()) == 1


def test_schema_prints_the_published_schema() -> None:
    code, out, _ = run("schema")
    assert code == 0
    assert json.loads(out) == json.loads((REPO / "schemas" / "storyboard.schema.json").read_text())


def test_init_writes_a_storyboard_that_plans_and_refuses_to_overwrite(tmp_path: Path) -> None:
    code, _, _ = run("init", tmp_path / "promo")
    assert code == 0
    assert run("plan", tmp_path / "promo" / "storyboard.yaml")[0] == 0
    code, _, err = run("init", tmp_path / "promo")
    assert code == 2
    assert "already exists; pass --force" in err


def test_a_directory_or_binary_file_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    code, _, err = run("compile", tmp_path)
    assert code == 2
    assert "is a directory" in err
    (tmp_path / "x.yaml").write_bytes(b"\xff\xfe\x00garbage")
    code, _, err = run("compile", tmp_path / "x.yaml")
    assert code == 1
    assert len(err.splitlines()) == 1
    assert err.startswith(f"{tmp_path / 'x.yaml'}")


def test_module_entry_point_and_version() -> None:
    done = subprocess.run([sys.executable, "-m", "storyboard", "--version"],
                          capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "storyboard, version 0.1.0"

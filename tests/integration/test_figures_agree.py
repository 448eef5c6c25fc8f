"""Issue 7.4: every figure agrees, in every report, and displayed rows add up.

For each example and a generated campaign, the plan is read back from the table, the
JSON and the markdown, then run against a loopback stand-in for the API, and the run
summary, the manifest and ``status`` are read back too. Each figure (per generation,
per variant, total, shared, due, spent) must be the same wherever it is shown, and
every column of rows must add up to the total printed under it.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from storyboard.api.sandbox import Sandbox
from storyboard.cli import cli
from storyboard.report.reporters import STATE_LABELS

from .conftest import REPO, run_cli

D = Decimal
MONEY = r"\$(\d+\.\d+)"


def _generated_campaign(folder: Path) -> Path:
    spec = importlib.util.spec_from_file_location("compile_bench",
                                                  REPO / "bench" / "compile_bench.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    path: Path = bench.write_campaign(folder, 100)
    return path


@pytest.fixture(params=["launch.yaml", "campaign.yaml", "sequence.yaml"])
def storyboard(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "project"
    folder.mkdir()
    for name in ("launch.yaml", "campaign.yaml", "sequence.yaml", "markets.csv"):
        shutil.copy(REPO / "examples" / name, folder / name)
    yield folder / request.param


def cli_out(*args: str | Path, code: int = 0) -> str:
    result = CliRunner().invoke(cli, list(map(str, args)))
    assert result.exit_code == code, result.stdout + result.stderr
    return result.stdout


def money(text: str) -> Decimal:
    match = re.fullmatch(MONEY, text.strip())
    assert match, f"not an amount as every report writes one: {text!r}"
    return D(match[1])


def columns(lines: list[str]) -> list[list[str]]:
    """Rows of a text table whose cells are separated by two or more spaces."""
    return [re.split(r"\s{2,}", line.strip()) for line in lines]


def parse_table(out: str) -> dict[str, Any]:
    lines = out.splitlines()
    header = lines.index(next(x for x in lines if x.startswith("GENERATION")))
    end = lines.index("", header)
    rows, subtotals = {}, {}
    for cells in columns(lines[header + 1:end]):
        if len(cells) == 4 and cells[0].endswith(" subtotal"):
            subtotals[cells[0].removesuffix(" subtotal")] = (
                int(cells[1]), money(cells[2]), money(cells[3]))
        else:
            gid, _mode, _sound, _aspect, seconds, _rate, cost, state, due = cells
            rows[gid] = {"seconds": int(seconds), "cost": money(cost), "state": state,
                         "due": money(due)}
    end = next(n for n in range(end, len(lines)) if lines[n].startswith("Total: ")) - 1
    # (between the rows and the totals: each variant's final cut, which has no money)
    total = re.fullmatch(
        rf"Total: (\d+) generations?, (\d+) s of video(?: \((\d+) s rendered, the rest "
        rf"shared\))?, cost {MONEY}(?: \((.*)\))?; due now {MONEY}", lines[end + 1])
    assert total, lines[end + 1]
    return {"rows": rows, "subtotals": subtotals, "generations": int(total[1]),
            "seconds": int(total[2]), "rendered": int(total[3] or total[2]),
            "cost": D(total[4]), "held": held(total[5] or ""), "due": D(total[6]),
            "total_line": lines[end + 1], "budget": lines[end + 2]}


def held(text: str) -> dict[str, tuple[int, Decimal]]:
    """``2 shared: $1.19 saved, 3 reused: $4.76 paid before`` by state."""
    state_of = {label: state for state, label in STATE_LABELS.items()}
    labels = "|".join(map(re.escape, state_of))
    found = {state_of[m[2]]: (int(m[1]), D(m[3]))
             for m in re.finditer(rf"(\d+) ({labels}): {MONEY}", text)}
    assert len(found) == text.count(": $"), text
    return found


def parse_markdown(out: str) -> dict[str, Any]:
    head = re.search(rf"\*\*{MONEY}\*\* due now; the plan costs {MONEY} for (\d+) s of video "
                     r"in (\d+) generations?", out)
    assert head, out[:300]
    summaries = {m[1]: (int(m[3]), D(m[4]), D(m[5])) for m in re.finditer(
        rf"<summary><code>([^<]+)</code> — (\d+) generations?, (\d+) s, cost {MONEY}, "
        rf"due now {MONEY}</summary>", out)}
    rows = {}
    for line in out.splitlines():
        if line.startswith("| `"):
            cells = [c.strip() for c in line.strip("|").split(" | ")]
            rows[cells[0].strip("`")] = {"seconds": int(cells[4]), "cost": money(cells[6]),
                                         "state": cells[7], "due": money(cells[8])}
    budget = next(line for line in out.splitlines() if line.startswith("Budget:"))
    total_line = next(line for line in out.splitlines() if line.startswith("Total:"))
    return {"due": D(head[1]), "cost": D(head[2]), "seconds": int(head[3]),
            "generations": int(head[4]), "subtotals": summaries, "rows": rows,
            "budget": budget, "total_line": total_line}


def parse_status(out: str) -> dict[str, Any]:
    lines = out.splitlines()
    header = lines[0]
    starts = [header.index(name) for name in
              ("GENERATION", "STATE", "JOB", "ESTIMATED", "CHARGED", "FILE")]
    end = lines.index("")
    rows = {}
    for line in lines[1:end]:
        cells = [line[a:b].strip() for a, b in zip(starts, [*starts[1:], None], strict=True)]
        rows[cells[0]] = {"state": cells[1], "estimated": money(cells[3]),
                          "charged": money(cells[4]) if cells[4] else None}
    total = re.fullmatch(rf"Total: estimated {MONEY}; charged {MONEY}", lines[end + 1])
    assert total, lines[end + 1]
    return {"rows": rows, "estimated": D(total[1]), "charged": D(total[2])}


def plan_json(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(cli_out("plan", path, "--format", "json"))
    return data


def assert_plan_reports_agree(path: Path) -> dict[str, Any]:
    data = plan_json(path)
    table = parse_table(cli_out("plan", path))
    markdown = parse_markdown(cli_out("plan", path, "--format", "markdown"))
    generations = {g["id"]: g for g in data["generations"]}

    # per generation: the table, the markdown and the JSON say the same
    assert list(table["rows"]) == list(markdown["rows"]) == list(generations)
    for gid, g in generations.items():
        due = D(g["cost_usd"]) if g["state"] == "new" else D(0)
        expected = {"seconds": g["seconds"], "cost": D(g["cost_usd"]), "due": due}
        for report in (table, markdown):
            row = report["rows"][gid]
            assert {k: row[k] for k in expected} == expected, (gid, row, g)
            shared = g["same_as"] is not None
            assert (row["state"] == f"= {g['same_as']}") is shared
            assert not shared or row["cost"] == 0  # a shared request is paid for once

    # per variant: displayed rows add up to the displayed subtotal, everywhere
    variants = data["variants"]
    for variant, figures in variants.items():
        ids = [gid for gid, g in generations.items() if g["variant"] == variant]
        rows = [table["rows"][gid] for gid in ids]
        summed = (sum(r["seconds"] for r in rows), sum((r["cost"] for r in rows), D(0)),
                  sum((r["due"] for r in rows), D(0)))
        as_json = (figures["seconds"], D(figures["cost_usd"]), D(figures["due_usd"]))
        assert summed == as_json == markdown["subtotals"][variant], variant
        if len(variants) > 1:
            assert table["subtotals"][variant] == summed
        assert figures["rendered_seconds"] == sum(
            g["seconds"] for gid, g in generations.items()
            if gid in ids and g["same_as"] is None)

    # the whole plan: subtotals add up to the totals, and every report prints them
    totals = (data["total_seconds"], D(data["total_cost_usd"]), D(data["due_cost_usd"]))
    assert totals == (sum(v["seconds"] for v in variants.values()),
                      sum((D(v["cost_usd"]) for v in variants.values()), D(0)),
                      sum((D(v["due_usd"]) for v in variants.values()), D(0)))
    assert totals == (table["seconds"], table["cost"], table["due"])
    assert totals == (markdown["seconds"], markdown["cost"], markdown["due"])
    assert table["generations"] == markdown["generations"] == len(generations)
    assert table["rendered"] == data["rendered_seconds"]
    assert table["budget"] == markdown["budget"]
    assert table["total_line"] == markdown["total_line"]
    # shared, reused, in flight, unknown: how many, and what they cost on their own
    states = {state: (s["generations"], D(s["cost_usd"])) for state, s in data["states"].items()}
    assert table["held"] == {state: figures for state, figures in states.items()
                             if state != "new"}
    for state, (count, amount) in states.items():
        mine = [g for g in generations.values() if g["state"] == state]
        assert count == len(mine)
        assert amount == sum((D(g["rate_usd"]) * g["seconds"] for g in mine), D(0))
    assert D(data["budget"]["due_usd"]) == table["due"]
    return data


def test_every_report_shows_the_same_figures(storyboard: Path, sandbox: Sandbox,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    planned = assert_plan_reports_agree(storyboard)
    cost = {g["id"]: D(g["cost_usd"]) for g in planned["generations"]}
    total = D(planned["total_cost_usd"])

    run = run_cli(sandbox, monkeypatch, storyboard, "--concurrency", "16")
    assert run.exit_code == 0, run.stdout + run.stderr
    charged = sandbox.ledger.charged()
    assert charged == total  # the plan's cost is what the API charged, to the last digit
    assert (f"  money: estimated ${planned['due_cost_usd']} for new jobs; charged "
            f"${planned['total_cost_usd']}") in run.stdout.splitlines()
    assert parse_table(run.stdout)["cost"] == total  # the plan run printed first

    manifest = json.loads((storyboard.parent / "renders" / planned["name"]
                           / "manifest.json").read_text())
    entries = {e["id"]: e for e in manifest["generations"]}
    assert {gid: D(e["estimated_usd"]) for gid, e in entries.items()} == cost
    assert D(manifest["estimated_usd"]) == total
    assert sum((D(e["charged_usd"]) for e in entries.values() if e["charged_usd"]),
               D(0)) == D(manifest["charged_usd"]) == charged
    assert all(e["charged_usd"] is None for e in entries.values() if e["same_as"])

    status = parse_status(cli_out("status", storyboard))
    assert {gid: r["estimated"] for gid, r in status["rows"].items()} == cost
    assert status["estimated"] == total
    assert sum((r["charged"] for r in status["rows"].values() if r["charged"] is not None),
               D(0)) == status["charged"] == charged
    for gid, row in status["rows"].items():
        if entries[gid]["same_as"]:  # never a second charge for a shared render
            assert row["charged"] is None and row["state"].startswith("shared = ")
        else:
            assert row["charged"] == D(entries[gid]["charged_usd"])

    # after the run: spent is what was charged, nothing is due, all reports agree
    after = assert_plan_reports_agree(storyboard)
    assert (after["budget"]["spent_usd"], after["due_cost_usd"]) == (
        planned["total_cost_usd"], "0.00")
    assert after["total_cost_usd"] == planned["total_cost_usd"]
    assert after["states"]["reused"]["cost_usd"] == planned["total_cost_usd"]


def test_a_generated_campaigns_reports_agree(tmp_path: Path) -> None:
    """100 generations in 20 variants: the plan's reports, and status before any run
    (rendering them all, final cuts included, would only repeat the examples' run)."""
    path = _generated_campaign(tmp_path)
    planned = assert_plan_reports_agree(path)
    assert len(planned["generations"]) == 100 and len(planned["variants"]) == 20
    status = parse_status(cli_out("status", path))
    assert {gid: r["estimated"] for gid, r in status["rows"].items()} == {
        g["id"]: D(g["cost_usd"]) for g in planned["generations"]}
    assert (status["estimated"], status["charged"]) == (D(planned["total_cost_usd"]), 0)


def test_the_seconds_budget_counts_rendered_seconds_as_the_cost_budget_counts_money(
        tmp_path: Path) -> None:
    """One rule for both budgets: a generation sharing another's render adds nothing.
    launch.yaml has 108 s of video, of which 98 s are rendered (two teasers shared)."""
    text = (REPO / "examples" / "launch.yaml").read_text()
    for limit, code in (("98", 0), ("97", 1)):
        path = tmp_path / f"launch-{limit}.yaml"
        path.write_text(text.replace("max_seconds: 120", f"max_seconds: {limit}"))
        out = cli_out("plan", path, code=code)
        if code:
            assert (f"Budget: EXCEEDED — plan renders 98 s of video, over the budget of 97 s "
                    f"(budget.max_seconds at {path}:27:16); raise max_seconds or render "
                    "fewer variants") in out.splitlines()
        else:
            assert out.splitlines()[-1].endswith("; 98 s rendered of 98 s)")

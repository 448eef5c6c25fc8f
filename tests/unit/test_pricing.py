from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from storyboard.errors import UsageError
from storyboard.model import DEFAULT_MODEL
from storyboard.plan.price import load_plan, parse_usd
from storyboard.plan.pricing import format_usd, load_price_table


def test_built_in_rates_are_the_published_rates_with_version_and_source() -> None:
    table = load_price_table()
    assert table.version == "2026-11-24"
    assert table.source == ("ShortAPI's kwaivgi/kling-o3/text-to-video model page, "
                            "prices read 2026-11-24")
    assert {(m, s): table.rate(DEFAULT_MODEL, m, s) for m in ("std", "pro")
            for s in ("off", "on")} == {
        ("std", "off"): Decimal("0.071"), ("std", "on"): Decimal("0.095"),
        ("pro", "off"): Decimal("0.095"), ("pro", "on"): Decimal("0.119")}


def test_the_published_example_costs_exactly_1_785() -> None:
    assert format_usd(load_price_table().rate(DEFAULT_MODEL, "pro", "on") * 15) == "1.785"


@pytest.mark.parametrize(("amount", "text"), [
    ("40", "40.00"), ("0.5", "0.50"), ("0.475", "0.475"), ("1.2000", "1.20"), ("0", "0.00")])
def test_format_usd_is_exact_with_at_least_cents(amount: str, text: str) -> None:
    assert format_usd(Decimal(amount)) == text


@pytest.mark.parametrize(("content", "message"), [
    ("not json", "cannot read the price table as JSON"),
    ('{"models": {"m": {"rates": {"pro": {"off": true}}}}}', "must be a decimal string"),
    ('{"models": {"m": {"rates": {"pro": {"off": "-1"}}}}}', "non-negative"),
    ('{"version": 1}', "not a price table"),
])
def test_bad_price_tables_are_one_clear_line(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "p.json").write_text(content)
    with pytest.raises(UsageError) as caught:
        load_price_table(tmp_path / "p.json")
    assert message in str(caught.value)
    assert len(caught.value.lines()) == 1


def test_unknown_mode_price_names_the_table() -> None:
    with pytest.raises(UsageError, match="no price for model"):
        load_price_table().rate(DEFAULT_MODEL, "turbo", "off")


@pytest.mark.parametrize("text", ["abc", "-1", "NaN", "inf"])
def test_max_cost_must_be_an_amount(text: str) -> None:
    with pytest.raises(UsageError):
        parse_usd(text)


def test_an_edited_plan_is_refused(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from storyboard.cli import cli
    out = tmp_path / "plan.json"
    repo = Path(__file__).resolve().parents[2]
    CliRunner().invoke(cli, ["plan", str(repo / "examples" / "sequence.yaml"), "--out", str(out)])
    plan = json.loads(out.read_text())
    plan["generations"][0]["request"]["args"]["duration"] = 15
    out.write_text(json.dumps(plan))
    with pytest.raises(UsageError, match="does not match its hash"):
        load_plan(out)


def _saved_plan(tmp_path: Path) -> tuple[Path, dict]:  # type: ignore[type-arg]
    from click.testing import CliRunner

    from storyboard.cli import cli
    out = tmp_path / "plan.json"
    repo = Path(__file__).resolve().parents[2]
    CliRunner().invoke(cli, ["plan", str(repo / "examples" / "launch.yaml"), "--out", str(out)])
    return out, json.loads(out.read_text())


def test_a_saved_plan_keeps_shared_renders_shared(tmp_path: Path) -> None:
    out, _ = _saved_plan(tmp_path)
    plan = load_plan(out)
    assert str(plan.due_cost) == "8.590"
    assert [i.same_as for i in plan.items if i.same_as] == ["us-wide/teaser", "us-tall/teaser"]


@pytest.mark.parametrize("damage", ["budget", "duration"])
def test_a_damaged_plan_is_one_line_not_a_crash(tmp_path: Path, damage: str) -> None:
    from storyboard.model import request_hash

    out, data = _saved_plan(tmp_path)
    if damage == "budget":
        data["budget"]["max_cost_usd"] = "abc"
    else:  # a request the API would refuse, with its hash recomputed to match
        g = data["generations"][1]
        del g["request"]["args"]["duration"]
        g["hash"] = request_hash(g["request"]["model"], g["request"]["args"])
    out.write_text(json.dumps(data))
    with pytest.raises(UsageError) as caught:
        load_plan(out)
    assert "regenerate the plan" in str(caught.value)

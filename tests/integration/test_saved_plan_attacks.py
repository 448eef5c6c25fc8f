"""A saved plan is untrusted input: the attacks issue 8 reproduced, each refused with one
line before anything is created, and nothing written outside the project."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from storyboard.api.sandbox import Sandbox
from storyboard.compile import plan_file
from storyboard.errors import UsageError
from storyboard.plan.price import load_plan
from storyboard.plan.saved import MAX_PLAN_BYTES
from storyboard.report.reporters import plan_as_json

from .conftest import REPO, run_cli

NAME = "aurora-launch"


@pytest.fixture
def saved(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    """outer/project/launch.yaml and its saved plan outer/project/plan.json."""
    project = tmp_path / "outer" / "project"
    project.mkdir(parents=True)
    shutil.copy(REPO / "examples" / "launch.yaml", project / "launch.yaml")
    data = json.loads(plan_as_json(plan_file(project / "launch.yaml"), base=project))
    return project / "plan.json", data


def outside(tmp_path: Path) -> list[Path]:
    project = tmp_path / "outer" / "project"
    return sorted(p for p in tmp_path.rglob("*") if project not in p.parents
                  and p not in (project, project.parent))


def run_edited(saved: tuple[Path, dict[str, Any]], sandbox: Sandbox,
               monkeypatch: pytest.MonkeyPatch, edit: Any) -> tuple[int, list[str]]:
    path, data = saved
    edit(data)
    path.write_text(json.dumps(data))
    result = run_cli(sandbox, monkeypatch, path)
    return result.exit_code, result.stderr.splitlines()


def _set(**values: Any) -> Any:
    def edit(data: dict[str, Any]) -> None:
        for key, value in values.items():
            if key in ("variant", "clip", "cost_usd", "take", "id"):
                data["generations"][0][key] = value
            else:
                data[key] = value
    return edit


@pytest.mark.parametrize(("edit", "line"), [
    (_set(variant="../../../../../tmp/x"),
     "generation 1: variant '../../../../../tmp/x' must match [a-z0-9][a-z0-9_.-]*"),
    (_set(name="../../../y"), "name '../../../y' must match [a-z0-9][a-z0-9_-]*"),
    (_set(clip="/etc/evil"), "generation 1: clip '/etc/evil' must match [a-z0-9][a-z0-9_-]*"),
    (_set(variant="x" * 200), "generation 1: variant is 200 characters long, over the limit"),
    (_set(take=True), "generation 1: take must be null or a whole number 1–99, got true"),
    (_set(pricing=True), "pricing must be an object with text version and source, got true"),
    (_set(cost_usd="1e999"),
     'generation 1: cost_usd must be an amount in dollars as text, e.g. "1.14"; got \'1e999\''),
    (_set(cost_usd=0.01), 'generation 1: cost_usd must be an amount in dollars as text'),
    (_set(id="../x"), "generation 1: id '../x' is not 'us-wide/hero'"),
    (_set(root="/"), "its storyboard /launch.yaml is not there"),
    (_set(root="../../.."), "launch.yaml is not there"),
    (_set(root="a\nb"), "root must be a path (text without control characters), got 'a\\nb'"),
])
def test_a_hostile_saved_plan_is_refused_in_one_line_before_any_create(
        tmp_path: Path, saved: tuple[Path, dict[str, Any]], sandbox: Sandbox,
        monkeypatch: pytest.MonkeyPatch, edit: Any, line: str) -> None:
    code, errors = run_edited(saved, sandbox, monkeypatch, edit)
    assert code == 2
    assert len(errors) == 1 and line in errors[0], errors
    assert errors[0].startswith(f"error: {saved[0]}: ")
    assert "regenerate the plan" in errors[0] or "save it again" in errors[0]
    assert len(sandbox.ledger.creates) == 0
    assert outside(tmp_path) == []
    assert not (saved[0].parent / ".storyboard").exists()


def test_a_root_elsewhere_with_no_storyboard_of_that_name_is_refused(
        tmp_path: Path, saved: tuple[Path, dict[str, Any]], sandbox: Sandbox,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A plan pointing its root at another folder (here one with a storyboard of another
    name) would put its state and renders there."""
    elsewhere = tmp_path / "outer" / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "launch.yaml").write_text(
        (REPO / "examples" / "launch.yaml").read_text().replace(NAME, "other-name"))
    before = outside(tmp_path)
    code, errors = run_edited(saved, sandbox, monkeypatch, _set(root=str(elsewhere)))
    assert code == 2 and len(errors) == 1
    assert "a saved plan runs only in the folder of the storyboard that made it" in errors[0]
    assert len(sandbox.ledger.creates) == 0 and outside(tmp_path) == before


def test_a_duplicated_generation_is_refused(tmp_path: Path,
                                            saved: tuple[Path, dict[str, Any]]) -> None:
    path, data = saved
    data["generations"].append(data["generations"][0])
    path.write_text(json.dumps(data))
    with pytest.raises(UsageError, match=r"generation 13 \(us-wide/hero\): a second generation "
                                         r"with this id"):
        load_plan(path)


def test_a_saved_plan_runs_in_its_own_project(saved: tuple[Path, dict[str, Any]],
                                              sandbox: Sandbox,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    path, data = saved
    path.write_text(json.dumps(data))
    result = run_cli(sandbox, monkeypatch, path)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert (path.parent / "renders" / NAME / "us-wide" / "hero.mp4").is_file()
    assert len(sandbox.ledger.creates) == 10


@pytest.mark.parametrize("kind", ["device", "huge", "not-json", "nan"])
def test_a_plan_file_is_read_bounded(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "plan.json"
    if kind == "device":
        path = Path("/dev/zero")
    elif kind == "huge":
        with path.open("wb") as f:
            f.truncate(MAX_PLAN_BYTES + 10)  # sparse: costs no disk
    elif kind == "not-json":
        path.write_bytes(b"\xff\xfe{")
    else:
        path.write_text('{"format": 1, "generations": [], "name": "a", "x": NaN}')
    with pytest.raises(UsageError) as caught:
        load_plan(path)
    assert len(caught.value.lines()) == 1
    assert caught.value.lines()[0].startswith(f"error: {path}: ")

"""A saved plan is untrusted input: mutated plans run through `storyboard run PLAN.json`
against a real loopback sandbox never end in exit 70 or a traceback, and never write
anything outside the project that made the plan.

The plan sits in ``scratch/pad/pad/outer/project/`` beside its storyboard; every hostile
path the mutations use points into ``scratch/`` (at most four ``../`` climbs, absolute
paths under it), so a plan that escaped would leave a file there, never on the machine
outside. Bounded and seeded: a few seconds.
"""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storyboard.api.sandbox import Sandbox
from storyboard.cli import cli
from storyboard.compile import plan_file
from storyboard.report.reporters import plan_as_json

from .conftest import FAKE_KEY, FAST, REPO, start_sandbox

# renders go to outer/project/renders/<name>/<variant>/<clip>.mp4: a few climbs from a
# name, variant or clip land beside the project, never above scratch/
ATTACKS: list[Any] = [
    "../../../x", "../../../../x", "../../y", "../outside", "..", ".", "", "a/b", "evil\n",
    "x" * 300, "c:\\x", "\x00", "é", True, False, None, 0, -1, 10**30, 1.5, 1e308,
    "1e999", "-1", "NaN", "Infinity", "0.01", [], {}, ["a"], {"a": 1},
]

KEEN = {"variant", "clip", "take", "name", "root", "source", "hash", "id", "pricing",
        "version", "cost_usd", "rate_usd", "max_cost_usd", "max_seconds", "request", "args",
        "model", "duration", "format", "generations", "budget"}


@pytest.fixture(scope="module")
def field() -> Iterator[tuple[Path, dict[str, Any], Sandbox]]:
    """outer/project/ with the launch storyboard and its saved plan; a quick sandbox."""
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        outer = Path(scratch) / "pad" / "pad" / "outer"
        project = outer / "project"
        project.mkdir(parents=True)
        shutil.copy(REPO / "examples" / "launch.yaml", project / "launch.yaml")
        plan = json.loads(plan_as_json(plan_file(project / "launch.yaml"), base=project))
        server = start_sandbox(latency=0.0)
        try:
            yield project, plan, server
        finally:
            server.stop()


def _paths(value: Any, here: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield here
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*here, key))
    elif isinstance(value, list):
        for n, item in enumerate(value[:3]):  # the first generations stand for all
            yield from _paths(item, (*here, n))


@st.composite
def mutated(draw: st.DrawFn, plan: dict[str, Any], outer: Path) -> dict[str, Any]:
    data = copy.deepcopy(plan)
    spots = [p for p in _paths(data) if p]
    # most of a plan is request text; the names, paths, amounts and types matter most
    keen = [p for p in spots if p[-1] in KEEN or (len(p) == 1)]
    # absolute paths only ever point into outer/: a broken build must not write to /etc
    attacks = [*ATTACKS, str(outer), str(outer / "abs"), str(outer / "project" / ".."),
               str(outer / "project" / "renders")]
    for _ in range(draw(st.integers(1, 4))):
        where = draw(st.sampled_from(keen) | st.sampled_from(spots))
        parent: Any = data
        try:
            for key in where[:-1]:
                parent = parent[key]
            old = parent[where[-1]]
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation replaced what held it
        how = draw(st.sampled_from(["attack", "delete", "duplicate"]))
        if how == "delete" and isinstance(parent, dict):
            del parent[where[-1]]
        elif how == "duplicate" and isinstance(parent, list):
            parent.append(copy.deepcopy(old))
        else:
            parent[where[-1]] = draw(st.sampled_from(attacks))
    return data


def _listing(outer: Path) -> set[Path]:
    """Everything in scratch/ but the project."""
    project = outer / "project"
    return {p for p in outer.parents[2].rglob("*") if project not in p.parents
            and p != project and p not in project.parents}


def run_mutated(project: Path, sandbox: Sandbox, data: dict[str, Any],
                monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    plan = project / "plan.json"
    plan.write_text(json.dumps(data), encoding="utf-8")
    monkeypatch.setenv("SHORTAPI_KEY", FAKE_KEY)
    result = CliRunner().invoke(cli, ["run", str(plan), "--yes", "--api-base",
                                      sandbox.base_url, *FAST])
    text = result.stdout + result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        return 70, f"{type(result.exception).__name__}: {result.exception}"
    return result.exit_code, text


FUZZ = settings(max_examples=120, derandomize=True, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


@FUZZ
@given(data=st.data())
def test_mutated_saved_plans_never_crash_and_never_write_outside_the_project(
        field: tuple[Path, dict[str, Any], Sandbox], data: st.DataObject,
        monkeypatch: pytest.MonkeyPatch) -> None:
    project, plan, sandbox = field
    outer = project.parent
    before = _listing(outer)
    code, text = run_mutated(project, sandbox, data.draw(mutated(plan, outer)), monkeypatch)
    assert code != 70 and "Traceback" not in text and "internal error" not in text, text
    assert code in (0, 1, 2), text
    assert _listing(outer) == before, "the plan wrote outside its project"

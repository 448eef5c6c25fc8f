"""The precompiled schema validators are current, and agree with jsonschema on every
document: the storyboards of the cases and examples, mutated storyboards, and mutated
requests. A document they accept never reaches jsonschema, so agreement is the point."""

from __future__ import annotations

import hashlib
import importlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from test_fuzz import FUZZ, mutated

from storyboard import precompiled
from storyboard.compile import compile_file
from storyboard.compile.load import load_text
from storyboard.compile.validate import _validator
from storyboard.errors import LoadError
from storyboard.resources import REQUEST_SCHEMA, STORYBOARD_SCHEMA, load_schema, schema_path

REPO = Path(__file__).resolve().parents[2]
STORYBOARDS = sorted([*REPO.glob("examples/*.yaml"), *REPO.glob("tests/cases/*/*/*.yaml")])


@pytest.mark.parametrize("schema", sorted(precompiled.MODULES))
def test_each_module_was_generated_from_the_schema_as_it_is(schema: str) -> None:
    module = importlib.import_module(f"storyboard.precompiled.{precompiled.MODULES[schema]}")
    current = hashlib.sha256(schema_path(schema).read_bytes()).hexdigest()
    assert current == module.SCHEMA_SHA256, (
        f"schemas/{schema} changed: run `python -m storyboard.precompiled.generate`")
    assert precompiled.validator(schema) is module.validate


@pytest.mark.parametrize("schema", sorted(precompiled.MODULES))
def test_regenerating_gives_the_checked_in_code(schema: str) -> None:
    from storyboard.precompiled.generate import HERE, generate

    def code(text: str) -> list[str]:  # the fastjsonschema version aside
        return [line for line in text.splitlines() if "fastjsonschema" not in line
                and not line.startswith("VERSION = ")]

    checked_in = (HERE / f"{precompiled.MODULES[schema]}.py").read_text(encoding="utf-8")
    assert code(generate(schema)) == code(checked_in), (
        "run `python -m storyboard.precompiled.generate`")


def agree_on_storyboard(data: Any) -> None:
    assert precompiled.check(STORYBOARD_SCHEMA, data) == _validator().is_valid(data), data


def test_agrees_with_jsonschema_on_every_case_and_example() -> None:
    verdicts = []
    for path in STORYBOARDS:
        try:
            data = load_text(path.read_text(encoding="utf-8"), str(path)).data
        except LoadError:
            continue
        agree_on_storyboard(data)
        verdicts.append(_validator().is_valid(data))
    assert True in verdicts and False in verdicts  # both sides are exercised


@FUZZ
@given(text=mutated())
def test_agrees_with_jsonschema_on_mutated_storyboards(text: str) -> None:
    try:
        data = load_text(text, "fuzz.yaml").data
    except LoadError:
        return
    agree_on_storyboard(data)


def test_ecma_end_of_text_is_kept() -> None:  # Python's $ would also match before a "\n"
    document = {"storyboard": 1, "name": "aurora\n", "clips": [{"id": "a", "prompt": "x"}]}
    assert precompiled.check(STORYBOARD_SCHEMA, document) is False
    assert precompiled.check(STORYBOARD_SCHEMA, {**document, "name": "aurora"}) is True


REQUESTS = [{"model": g.model, "args": dict(g.args)}
            for path in sorted(REPO.glob("examples/*.yaml"))
            for g in compile_file(path).generations]
ODD_VALUES = [None, "", "x", "on", "pro", "16:9", "intelligence", "customize", 0, 1, 3, 15, 16,
              -1, 5.0, 5.5, True, False, [], {}, "p" * 2501, "s" * 513,
              [{"prompt": "a", "duration": 1}], [{"prompt": "", "duration": 1}],
              [{"duration": 3}], [{"prompt": "a", "duration": 2.0}] * 7]
KEYS = ["prompt", "mode", "duration", "aspect_ratio", "sound", "multi_shot", "shot_type",
        "multi_prompt", "negative_prompt"]


@st.composite
def mutated_request(draw: st.DrawFn) -> dict[str, Any]:
    request = draw(st.sampled_from(REQUESTS))
    args = dict(request["args"])
    for _ in range(draw(st.integers(0, 3))):
        key = draw(st.sampled_from(KEYS))
        if draw(st.booleans()):
            args.pop(key, None)
        else:
            args[key] = draw(st.sampled_from(ODD_VALUES))
    model = draw(st.sampled_from([request["model"], "kling-v2"]))
    return {"model": model, "args": args}


@FUZZ
@given(request=mutated_request())
def test_agrees_with_jsonschema_on_mutated_requests(request: dict[str, Any]) -> None:
    full = Draft202012Validator(load_schema(REQUEST_SCHEMA))
    assert precompiled.check(REQUEST_SCHEMA, request) == full.is_valid(request), request


def test_a_stale_module_is_not_used(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    edited = tmp_path / REQUEST_SCHEMA
    edited.write_bytes(schema_path(REQUEST_SCHEMA).read_bytes() + b"\n")
    monkeypatch.setattr(precompiled, "schema_path", lambda name: tmp_path / name)
    precompiled.validator.cache_clear()
    try:
        assert precompiled.check(REQUEST_SCHEMA, REQUESTS[0]) is None
    finally:
        precompiled.validator.cache_clear()

"""The published schemas: valid 2020-12, documented, and in step with the code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

REPO = Path(__file__).resolve().parents[2]
SKIP = ("if", "then", "else", "not")  # conditions, not property definitions
SCHEMAS = sorted((REPO / "schemas").glob("*.json"))


def _property_maps(node: Any, under: str = "") -> list[tuple[str, dict[str, Any]]]:
    found = []
    if isinstance(node, dict):
        if isinstance(node.get("properties"), dict) and under not in SKIP:
            found.append((under, node["properties"]))
        for key, value in node.items():
            if key not in SKIP:
                found += _property_maps(value, key)
    elif isinstance(node, list):
        for value in node:
            found += _property_maps(value, under)
    return found


@pytest.mark.parametrize("path", SCHEMAS, ids=lambda p: p.name)
def test_schema_is_valid_2020_12_with_an_id(path: Path) -> None:
    schema = json.loads(path.read_text())
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"].endswith(path.name)


@pytest.mark.parametrize("path", SCHEMAS, ids=lambda p: p.name)
def test_every_property_has_a_description(path: Path) -> None:
    schema = json.loads(path.read_text())
    missing = [name for _, props in _property_maps(schema) for name, spec in props.items()
               if "description" not in spec]
    assert missing == []


def test_storyboard_objects_are_closed() -> None:
    schema = json.loads((REPO / "schemas" / "storyboard.schema.json").read_text())
    objects = [schema, *(d for d in schema["$defs"].values() if d.get("type") == "object")]
    assert all(o.get("additionalProperties") is False for o in objects if "properties" in o)


def test_every_example_carries_the_modeline() -> None:
    for example in (REPO / "examples").glob("*.yaml"):
        first = example.read_text().splitlines()[0]
        assert first == "# yaml-language-server: $schema=../schemas/storyboard.schema.json"

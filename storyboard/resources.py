"""Files shipped with the package: the JSON Schemas and the price table.

The schemas live in the repository's top-level ``schemas/`` folder (published for
editors, the single source of truth); a wheel carries them as ``storyboard/_schemas``.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

_PACKAGE = Path(__file__).resolve().parent

STORYBOARD_SCHEMA = "storyboard.schema.json"
REQUEST_SCHEMA = "kling-o3.request.schema.json"


def schema_dir() -> Path:
    for candidate in (_PACKAGE / "_schemas", _PACKAGE.parent / "schemas"):
        if (candidate / STORYBOARD_SCHEMA).is_file():
            return candidate
    raise FileNotFoundError("storyboard's schemas are missing from this installation")


def schema_path(name: str) -> Path:
    return schema_dir() / name


@cache
def load_schema(name: str) -> dict[str, Any]:
    with schema_path(name).open(encoding="utf-8") as f:
        schema: dict[str, Any] = json.load(f)
    return schema


def data_path(name: str) -> Path:
    return _PACKAGE / "data" / name

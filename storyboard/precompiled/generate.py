"""Regenerate the precompiled schema validators: ``python -m storyboard.precompiled.generate``.

Run it after changing a schema in ``schemas/`` (tests/unit/test_precompiled.py fails
until then). Needs fastjsonschema, a development dependency only.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
from pathlib import Path
from typing import Any

from storyboard.precompiled import MODULES
from storyboard.resources import schema_path

HERE = Path(__file__).resolve().parent
# Keywords that describe and never constrain: dropped, so the code stays small.
ANNOTATIONS = frozenset({"title", "description", "examples", "default", "defaultSnippets",
                         "$comment", "deprecated", "readOnly", "writeOnly"})
MAPS_OF_SCHEMAS = frozenset({"properties", "patternProperties", "$defs", "definitions",
                             "dependentSchemas"})
DATA = frozenset({"enum", "const"})  # values, not schemas: kept exactly


def without_annotations(schema: Any) -> Any:
    if isinstance(schema, list):
        return [without_annotations(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in ANNOTATIONS:
            continue
        if key in DATA:
            out[key] = value
        elif key in MAPS_OF_SCHEMAS and isinstance(value, dict):
            out[key] = {name: without_annotations(s) for name, s in value.items()}
        else:
            out[key] = without_annotations(value)
    return out


def without_details(code: str) -> str:
    """Each ``raise`` with its message alone. The modules say whether a document is valid
    and jsonschema says why, so the value, name and schema fragment fastjsonschema writes
    into every raise are never read: they were half of each module, which
    ``storyboard validate`` loads on every commit. (``detailed_exceptions=False`` would
    drop them too, but fastjsonschema 2.22 then fails on ``const``.)"""
    lines = code.splitlines(keepends=True)
    for node in ast.walk(ast.parse(code)):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id == "JsonSchemaValueException" and node.keywords):
            # fastjsonschema writes each raise on one line; offsets count UTF-8 bytes
            assert node.lineno == node.end_lineno and node.end_col_offset is not None
            line = lines[node.lineno - 1].encode("utf-8")
            message_end = node.args[-1].end_col_offset
            lines[node.lineno - 1] = (line[:message_end] + line[node.end_col_offset - 1:]
                                      ).decode("utf-8")
    return "".join(lines)


def generate(schema: str) -> str:
    """The module for ``schema`` (a file name in ``schemas/``)."""
    import fastjsonschema

    raw = schema_path(schema).read_bytes()
    code = without_details(fastjsonschema.compile_to_code(without_annotations(json.loads(raw))))
    imports = "from fastjsonschema import JsonSchemaValueException, JsonSchemaValuesException"
    if imports not in code:
        raise SystemExit(f"fastjsonschema {fastjsonschema.VERSION} generates code this "
                         "generator does not know; update storyboard/precompiled/generate.py")
    code = code.replace(imports, "from storyboard.precompiled import JsonSchemaValueException, "
                                 "JsonSchemaValuesException  # noqa: F401")
    header = (f"# Generated from schemas/{schema} by `python -m storyboard.precompiled."
              f"generate`\n# (fastjsonschema {fastjsonschema.VERSION}). Do not edit.\n"
              f"# ruff: noqa\n# mypy: ignore-errors\n"
              f'SCHEMA_SHA256 = "{hashlib.sha256(raw).hexdigest()}"\n')
    root = re.search(r"^def (validate_\w+)\(", code, re.MULTILINE)
    if root is None:
        raise SystemExit("fastjsonschema generated no validate_ function")
    return f"{header}{code.rstrip()}\n\n\nvalidate = {root.group(1)}\n"


def main() -> None:
    for schema, module in MODULES.items():
        path = HERE / f"{module}.py"
        path.write_text(generate(schema), encoding="utf-8")
        print(f"wrote {path.relative_to(HERE.parents[1])}")


if __name__ == "__main__":
    main()

"""The JSON Schemas as Python code, compiled ahead of time: a valid document costs no
schema library at all.

``storyboard validate`` runs on every commit. jsonschema takes longer to import than
the whole of yamllint, and compiling a schema with fastjsonschema at run time costs as
much again; the modules here are fastjsonschema's output for each schema, generated
once (``python -m storyboard.precompiled.generate``) and checked in. A document they
accept is valid; one they reject goes to jsonschema for the messages a person reads
(``validate.py``, ``emit.py``), so they decide validity and never wording.

Each module records the sha256 of the schema it was made from. If the schema in this
installation differs (someone edited ``schemas/``), ``check`` says so by returning
None and the caller uses jsonschema alone: a stale module is slow, never wrong.
tests/unit/test_precompiled.py keeps them current and in agreement with jsonschema.
"""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Callable
from functools import cache
from typing import Any

from storyboard.resources import REQUEST_SCHEMA, STORYBOARD_SCHEMA, schema_path

MODULES = {STORYBOARD_SCHEMA: "storyboard_schema", REQUEST_SCHEMA: "request_schema"}


class JsonSchemaValueException(ValueError):  # the name the generated code raises
    """A document breaks its schema (only whether, never why: jsonschema says why)."""

    def __init__(self, message: str, value: Any = None, name: str | None = None,
                 definition: Any = None, rule: str | None = None) -> None:
        super().__init__(message)
        self.rule = rule


JsonSchemaValuesException = JsonSchemaValueException


@cache
def validator(schema: str) -> Callable[[Any], Any] | None:
    """The compiled validator of ``schema`` (a file name in ``schemas/``), or None when
    the module was made from another version of the schema."""
    module = importlib.import_module(f"{__name__}.{MODULES[schema]}")
    current = hashlib.sha256(schema_path(schema).read_bytes()).hexdigest()
    if current != module.SCHEMA_SHA256:
        return None
    check: Callable[[Any], Any] = module.validate
    return check


def check(schema: str, instance: Any) -> bool | None:
    """Whether ``instance`` keeps ``schema``; None when only jsonschema can say."""
    validate = validator(schema)
    if validate is None:
        return None
    try:
        validate(instance)
    except JsonSchemaValueException:
        return False
    return True

"""jsonschema's errors in storyboard terms: each placed where a person would fix it, with
a suggestion for a misspelt key. Loaded only for a document that is not valid."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from storyboard.source import JsonPath

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

Explained = tuple[JsonPath, str, bool]  # (path, message, locate at the key)


def explain(error: ValidationError) -> Iterable[Explained]:
    """(path, message, locate-at-key) for one jsonschema error, in storyboard terms."""
    path: JsonPath = tuple(error.absolute_path)
    field = field_name(path)
    special = _SPECIAL.get(str(error.validator))
    if special is not None:
        yield from special(error, path, field)
        return
    yield path, _message(error, path, field), False


def _unknown_keys(error: ValidationError, path: JsonPath, field: str) -> Iterable[Explained]:
    instance = error.instance
    if not isinstance(instance, dict):
        yield path, f"{field}: {error.message}", False
        return
    schema = error.schema if isinstance(error.schema, dict) else {}
    allowed = sorted(schema.get("properties", {}))
    for key in instance:
        if key in allowed:
            continue
        message = f"unknown key '{key}'"
        close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
        if close:
            message += f"; did you mean '{close[0]}'?"
        elif allowed:
            message += f"; allowed keys here: {', '.join(allowed)}"
        yield (*path, key), message, True


def _prompt_with_shots(error: ValidationError, path: JsonPath,
                       field: str) -> Iterable[Explained]:
    if _is_prompt_with_shots(error):
        yield (*path, "prompt"), ("'prompt' is not used with a list of shots (the model "
                                  "ignores it); put the text in each shot's prompt"), True
    else:
        yield path, f"{field}: {error.message}", False


_SPECIAL: dict[str, Callable[[ValidationError, JsonPath, str], Iterable[Explained]]] = {
    "additionalProperties": _unknown_keys,
    "not": _prompt_with_shots,
}

_BOUNDS = {"minimum": "at least", "exclusiveMinimum": "more than",
           "maximum": "at most", "exclusiveMaximum": "less than"}


def _message(error: ValidationError, path: JsonPath, field: str) -> str:
    """The one message of an error that is placed at its value."""
    validator, instance, value = str(error.validator), error.instance, error.validator_value
    if validator == "required":
        missing = missing_key(error)
        return f"missing required key '{missing}'{_required_hint(path, missing)}"
    if validator == "const":
        return f"{field} must be {_show(value)}, got {_show(instance)}"
    if validator == "enum":
        return _enum_message(field, value, instance)
    if validator == "anyOf" and path and path[-1] == "variants":
        return "variants needs a 'matrix', 'rows' (a list or a CSV/JSON/YAML file), or both"
    if validator == "anyOf":
        return _any_of_message(field, error)
    if validator == "pattern":
        return _pattern_message(field, path, instance, value)
    if validator == "type":
        names = value if isinstance(value, list) else [value]
        return (f"{field} must be {' or '.join(_article(str(n)) for n in names)}, "
                f"got {_describe(instance)}")
    if validator in _BOUNDS:
        return f"{field} must be {_BOUNDS[validator]} {value}, got {_show(instance)}"
    if validator in ("minItems", "minProperties", "minLength"):
        return f"{field} must not be empty"
    if validator == "maxLength":
        return f"{field} is longer than {value} characters"
    return f"{field}: {error.message}"


def missing_key(error: ValidationError) -> str:
    return str(error.message).split("'")[1] if "'" in error.message else "?"


def suggested_keys(errors: Iterable[ValidationError]) -> set[tuple[JsonPath, str]]:
    """(object path, key) pairs that an unknown-key suggestion will already name."""
    found = set()
    for error in errors:
        if (error.validator == "additionalProperties" and isinstance(error.instance, dict)
                and isinstance(error.schema, dict)):
            allowed = list(error.schema.get("properties", {}))
            for key in error.instance:
                if key not in allowed:
                    close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
                    if close:
                        found.add((tuple(error.absolute_path), close[0]))
    return found


def _required_hint(path: JsonPath, missing: str) -> str:
    if missing == "prompt" and len(path) == 2 and path[0] == "clips":
        return " (a clip needs a prompt, or a list of shots)"
    if not path and missing == "storyboard":
        return " (the format version: add 'storyboard: 1')"
    return ""


def _is_prompt_with_shots(error: ValidationError) -> bool:
    schema = error.validator_value
    return isinstance(schema, dict) and schema.get("required") == ["prompt"]


def _enum_message(field: str, allowed: Any, instance: Any, *, template: bool = False) -> str:
    choices = ", ".join(str(v) for v in allowed)
    tail = " (or a template that renders to one)" if template else ""
    return f"{field} must be one of: {choices}{tail}; got {_show(instance)}"


def _any_of_message(field: str, error: ValidationError) -> str:
    """``anyOf`` errors: say what was accepted, in the words of the allowed branches."""
    branches = error.validator_value if isinstance(error.validator_value, list) else []
    is_template = any(isinstance(b, dict) and b.get("$ref") == "#/$defs/template" for b in branches)
    enums = [v for b in branches if isinstance(b, dict) for v in b.get("enum", [])]
    consts = [b["const"] for b in branches if isinstance(b, dict) and "const" in b]
    if enums or consts:
        allowed = [*enums, *consts]
        if any(isinstance(b, dict) and b.get("type") == "boolean" for b in branches):
            allowed += ["true", "false"]
        if consts and any(isinstance(b, dict) and b.get("type") == "array" for b in branches):
            return f"{field} must be {_show(consts[0])} or a list, got {_describe(error.instance)}"
        return _enum_message(field, allowed, error.instance, template=is_template)
    if is_template:
        return (f"{field} must be a whole number of seconds (at least 1) or a template, "
                f"got {_show(error.instance)}")
    if isinstance(error.instance, str) and field == "rows":
        return "rows must be a list of mappings or a .csv, .json, .yaml or .yml file"
    return f"{field}: {error.message}"


def _pattern_message(field: str, path: JsonPath, instance: Any, pattern: Any) -> str:
    if field in ("id", "name") or (path and path[-1] == "id"):
        return (f"{field} {_show(instance)} must be lowercase letters, digits, '-' and '_', "
                "starting with a letter or digit")
    return f"{field} {_show(instance)} does not match {pattern}"


def field_name(path: JsonPath) -> str:
    for part in reversed(path):
        if isinstance(part, str):
            return part
    return "the storyboard"


EMPTY = "an empty value"  # what YAML reads `key:` (or `~`, `null`) as: never "NoneType"


def _show(value: Any) -> str:
    if value is None:
        return EMPTY
    return repr(value) if isinstance(value, str) else str(value).lower() if isinstance(
        value, bool) else str(value)


def kind(value: Any) -> str:
    return {dict: "mapping", list: "list", str: "string", bool: "boolean", int: "integer",
            float: "number"}.get(type(value), "value")


def _describe(value: Any) -> str:
    if value is None:
        return EMPTY
    if isinstance(value, dict | list):
        return f"a {kind(value)}"
    return f"{kind(value)} {_show(value)}"


def _article(type_name: str) -> str:
    words = {"object": "a mapping", "array": "a list", "string": "a string",
             "integer": "an integer", "number": "a number", "boolean": "true or false",
             "null": "empty"}
    return words.get(type_name, type_name)

"""Validate a loaded storyboard against ``schemas/storyboard.schema.json``.

The schema is the single source of truth; this module only turns jsonschema's
errors into problems a person can act on: placed at ``file:line:col`` through the
source map, worded for the storyboard format, with a suggestion for misspelt keys.
Every problem is returned at once. A valid document never loads jsonschema: the
precompiled validator (``storyboard.precompiled``) says it is valid in microseconds.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Iterator
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from storyboard import precompiled
from storyboard.compile.load import LoadedDocument
from storyboard.compile.names import ecma_pattern
from storyboard.errors import Problem, SchemaError
from storyboard.model import (
    CUT,
    DEFAULT_MODEL,
    DEFAULT_MUSIC_DB,
    DEFAULT_TRANSITION_SECONDS,
    Budget,
    ClipSpec,
    CutSpec,
    Setting,
    ShotSpec,
    Storyboard,
    Text,
    TransitionSpec,
    Value,
    VariantsSpec,
    VarSpec,
)
from storyboard.resources import STORYBOARD_SCHEMA, load_schema
from storyboard.source import JsonPath

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

SETTINGS = ("mode", "aspect_ratio", "sound")


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[ValidationError]:
    from jsonschema.exceptions import ValidationError

    if isinstance(instance, str) and not ecma_pattern(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


@cache
def _validator() -> Draft202012Validator:
    """jsonschema, with ECMA patterns: for the problems of a document that is not valid."""
    from jsonschema import Draft202012Validator, validators

    extended = validators.extend(  # type: ignore[no-untyped-call]
        Draft202012Validator, {"pattern": _pattern})
    validator: Draft202012Validator = extended(load_schema(STORYBOARD_SCHEMA))
    return validator


def validate_document(doc: LoadedDocument, root: Path | None = None) -> Storyboard:
    """Every problem in ``doc`` as one ``SchemaError``, or the storyboard it describes.

    ``root`` is the folder includes and data files resolve in (default: the folder of
    ``doc.file``; a storyboard read from a git ref lives elsewhere than its name says).
    """
    problems = schema_problems(doc)
    if problems:
        raise SchemaError(problems)
    root = root or Path(doc.file).resolve().parent
    problems = list(cut_problems(doc, root))
    if problems:
        raise SchemaError(problems)
    return _read(doc, root)


def _read(doc: LoadedDocument, root: Path) -> Storyboard:
    """Typed view of a schema-valid document: every string keeps its location."""
    data: dict[str, Any] = doc.data
    where = doc.source_map.locate

    def setting(path: JsonPath) -> Setting:
        value = _get(data, path)
        return Text(value, where(path)) if isinstance(value, str) else Value(value, where(path))

    def settings(base: JsonPath, mapping: dict[str, Any]) -> dict[str, Setting]:
        return {k: setting((*base, k)) for k in SETTINGS if k in mapping}

    def caption(base: JsonPath, mapping: dict[str, Any]) -> Text | None:
        return Text(mapping["caption"], where((*base, "caption"))) if "caption" in mapping \
            else None

    cut = _cut_spec(data.get("cut") or {}, where)

    clips = []
    for index, raw in enumerate(data["clips"]):
        base: JsonPath = ("clips", index)
        shots_raw = raw.get("shots")
        kind = ("single" if shots_raw is None else
                "intelligence" if shots_raw == "auto" else "customize")
        shots = tuple(
            ShotSpec(
                prompt=Text(shot["prompt"], where((*base, "shots", n, "prompt"))),
                duration=setting((*base, "shots", n, "duration")) if "duration" in shot else None,
                weight=Decimal(str(shot.get("weight", 1))),
                location=where((*base, "shots", n)),
                caption=caption((*base, "shots", n), shot),
            )
            for n, shot in enumerate(shots_raw if isinstance(shots_raw, list) else [])
        )
        clips.append(ClipSpec(
            id=raw["id"], index=index, kind=kind,
            prompt=Text(raw["prompt"], where((*base, "prompt"))) if "prompt" in raw else None,
            duration=setting((*base, "duration")) if "duration" in raw else None,
            shots=shots, settings=settings(base, raw), location=where(base),
            caption=caption(base, raw), transition=_transition(raw, base, cut, where),
            candidates=raw.get("candidates"),
        ))

    variants = None
    if "variants" in data:
        v = data["variants"]
        rows = v.get("rows")
        variants = VariantsSpec(
            id=Text(v["id"], where(("variants", "id"))) if "id" in v else None,
            matrix={k: tuple(vals) for k, vals in v["matrix"].items()} if "matrix" in v else None,
            include=tuple(v.get("include", ())),
            exclude=tuple(v.get("exclude", ())),
            rows=rows if isinstance(rows, str) or rows is None else tuple(rows),
            location=where(("variants",)),
        )
    budget_raw = data.get("budget", {})
    cost = budget_raw.get("max_cost_usd")
    return Storyboard(
        file=doc.file,
        root=str(root),
        name=data["name"],
        model=data.get("model", DEFAULT_MODEL),
        vars=tuple(VarSpec(k, val, ("vars", k)) for k, val in (data.get("vars") or {}).items()),
        defaults=settings(("defaults",), data.get("defaults") or {}),
        variants=variants,
        budget=Budget(
            max_cost_usd=Decimal(str(cost)) if cost is not None else None,
            max_seconds=(int(budget_raw["max_seconds"])  # 1e3 is the integer 1000 here
                         if "max_seconds" in budget_raw else None),
            cost_location=where(("budget", "max_cost_usd")) if cost is not None else None,
            seconds_location=(where(("budget", "max_seconds"))
                              if "max_seconds" in budget_raw else None),
        ),
        clips=tuple(clips),
        source_map=doc.source_map,
        cut=cut,
        candidates=(data.get("defaults") or {}).get("candidates", 1),
    )


def _cut_spec(raw: dict[str, Any], where: Any) -> CutSpec:
    default = TransitionSpec()
    if "transition" in raw or "transition_seconds" in raw:
        kind = raw.get("transition", CUT)
        default = TransitionSpec(kind, _seconds(kind, raw.get("transition_seconds")),
                                 where(("cut", "transition" if "transition" in raw
                                        else "transition_seconds")))
    size = raw.get("size")
    return CutSpec(
        transition=default,
        music=raw.get("music"),
        music_location=where(("cut", "music")) if "music" in raw else None,
        music_db=Decimal(str(raw["music_db"])) if "music_db" in raw else DEFAULT_MUSIC_DB,
        burn_captions=bool(raw.get("burn_captions", False)),
        size=tuple(int(n) for n in size.split("x")) if size else None,  # type: ignore[arg-type]
        fps=raw.get("fps"),
    )


def _seconds(kind: str, given: Any) -> Decimal:
    if kind == CUT:
        return Decimal(0)
    return Decimal(str(given)) if given is not None else DEFAULT_TRANSITION_SECONDS


def _transition(raw: dict[str, Any], base: JsonPath, cut: CutSpec,
                where: Any) -> TransitionSpec | None:
    """A clip's own transition (either key overrides the cut section's), or None."""
    if "transition" not in raw and "transition_seconds" not in raw:
        return None
    kind = raw.get("transition", cut.transition.kind)
    seconds = raw.get("transition_seconds")
    if seconds is None and kind == cut.transition.kind and kind != CUT:
        seconds = cut.transition.seconds
    key = "transition" if "transition" in raw else "transition_seconds"
    return TransitionSpec(kind, _seconds(kind, seconds), where((*base, key)))


MUSIC_SUFFIXES = (".m4a", ".aac", ".mp3", ".wav", ".flac", ".ogg", ".opus", ".mp4", ".mov")


def cut_problems(doc: LoadedDocument, root: Path) -> Iterator[Problem]:
    """The cut section's rules beyond the schema: a music file inside the storyboard's
    folder that exists (checked before anything is paid, like a rows file), an even
    output size, and no transition into the first clip (nothing comes before it)."""
    data: dict[str, Any] = doc.data
    cut = data.get("cut") or {}
    music = cut.get("music")
    if isinstance(music, str):
        where = doc.source_map.locate(("cut", "music"))
        path = root / music
        if not path.resolve().is_relative_to(root.resolve()):
            yield Problem(f"music file '{music}' is outside the storyboard's folder; keep it "
                          "beside the storyboard or below it", where)
        elif not path.is_file():
            yield Problem(f"music file '{music}' not found; paths are relative to the "
                          f"storyboard's folder ({Path(doc.file).parent})", where)
        elif path.suffix.lower() not in MUSIC_SUFFIXES:
            yield Problem(f"music file '{music}' is not audio this tool reads; use one of "
                          f"{', '.join(MUSIC_SUFFIXES)}", where)
    size = cut.get("size")
    if isinstance(size, str) and any(int(n) % 2 for n in size.split("x")):
        yield Problem(f"size {size!r} must have an even width and height (video is stored "
                      "in 2x2 blocks of colour)", doc.source_map.locate(("cut", "size")))
    first = data["clips"][0]
    if first.get("transition", CUT) != CUT:
        yield Problem(f"clip '{first['id']}' is the first clip: there is nothing to "
                      f"{first['transition']} from; remove its transition",
                      doc.source_map.locate(("clips", 0, "transition")))


def _get(data: Any, path: JsonPath) -> Any:
    for part in path:
        data = data[part]
    return data


def schema_problems(doc: LoadedDocument) -> list[Problem]:
    if not isinstance(doc.data, dict):
        got = "an empty file" if doc.data is None else f"a {_kind(doc.data)}"
        where = doc.source_map.locate(())
        return [Problem(f"a storyboard is a mapping with 'storyboard: 1', 'name' and 'clips'; "
                        f"this is {got} (run `storyboard init` for a starter)", where)]
    problems: dict[tuple[int, int, str, str], Problem] = {}
    valid = precompiled.check(STORYBOARD_SCHEMA, doc.data)
    errors = [] if valid else list(_inside_the_shape_given(_validator().iter_errors(doc.data)))
    suggested = _suggested_keys(errors)
    for error in errors:
        if error.validator == "required" and (tuple(error.absolute_path),
                                              _missing(error)) in suggested:
            continue  # "did you mean 'prompt'?" already says it
        for path, message, at_key in _explain(error):
            loc = doc.source_map.locate_key(path) if at_key else doc.source_map.locate(path)
            problem = Problem(message, loc)
            problems.setdefault((loc.line, loc.column, loc.json_path, message), problem)
    problems_list = list(problems.values())
    problems_list.extend(_semantic_problems(doc))
    return sorted(problems_list, key=lambda p: (p.location.line, p.location.column)
                  if p.location else (0, 0))


def _inside_the_shape_given(errors: Iterable[ValidationError]) -> Iterator[ValidationError]:
    """An ``anyOf`` whose value has the shape of exactly one branch is that branch's errors.

    ``shots: [{promt: ...}]`` is a list, so the problem is inside the list (an unknown key
    in a shot), not "shots must be 'auto' or a list, got a list".
    """
    for error in errors:
        branches: dict[Any, list[ValidationError]] = {}
        if error.validator == "anyOf":
            for sub in error.context or ():
                branches.setdefault(sub.relative_schema_path[0], []).append(sub)
        # a branch the value itself satisfies, whose only problems are inside the value
        shaped = [subs for subs in branches.values() if all(sub.relative_path for sub in subs)]
        if len(shaped) == 1:
            yield from _inside_the_shape_given(shaped[0])
        else:
            yield error


def _semantic_problems(doc: LoadedDocument) -> Iterator[Problem]:
    """Rules the schema cannot state: unique clip ids, vars not shadowing variant keys,
    finite numbers (YAML's .inf and .nan are numbers to JSON Schema)."""
    data = doc.data
    yield from _non_finite(doc, data, ())
    clips = data.get("clips")
    if isinstance(clips, list):
        seen: dict[str, int] = {}
        for index, clip in enumerate(clips):
            clip_id = clip.get("id") if isinstance(clip, dict) else None
            if not isinstance(clip_id, str):
                continue
            if clip_id in seen:
                first = doc.source_map.locate(("clips", seen[clip_id], "id"))
                yield Problem(
                    f"duplicate clip id '{clip_id}' (first used at line {first.line}); "
                    "clip ids must be unique",
                    doc.source_map.locate(("clips", index, "id")),
                )
            else:
                seen[clip_id] = index
    variables = data.get("vars")
    variants = data.get("variants")
    if isinstance(variables, dict) and isinstance(variants, dict):
        keys: set[str] = set()
        matrix = variants.get("matrix")
        if isinstance(matrix, dict):
            keys.update(matrix)
        for entry in variants.get("include") or []:
            if isinstance(entry, dict):
                keys.update(entry)
        rows = variants.get("rows")
        if isinstance(rows, list):
            for row in rows:
                if isinstance(row, dict):
                    keys.update(row)
        for name in sorted(keys & set(variables)):
            yield Problem(
                f"var '{name}' has the same name as a variant key; rename one of them "
                "so templates know which value they get",
                doc.source_map.locate_key(("vars", name)),
            )


def _non_finite(doc: LoadedDocument, node: Any, path: JsonPath) -> Iterator[Problem]:
    if isinstance(node, float) and not math.isfinite(node):
        yield Problem(f"{_field_name(path)} must be a finite number, got {node}",
                      doc.source_map.locate(path))
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _non_finite(doc, value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _non_finite(doc, value, (*path, index))


def _explain(error: ValidationError) -> Iterable[tuple[JsonPath, str, bool]]:
    """(path, message, locate-at-key) for one jsonschema error, in storyboard terms."""
    path: JsonPath = tuple(error.absolute_path)
    validator = error.validator
    instance = error.instance
    schema = error.schema if isinstance(error.schema, dict) else {}
    field = _field_name(path)

    if validator == "additionalProperties" and isinstance(instance, dict):
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
        return
    if validator == "required":
        missing = _missing(error)
        yield path, f"missing required key '{missing}'{_required_hint(path, missing)}", False
        return
    if validator == "const":
        yield path, f"{field} must be {_show(error.validator_value)}, got {_show(instance)}", False
        return
    if validator == "enum":
        yield path, _enum_message(field, error.validator_value, instance), False
        return
    if validator == "anyOf" and path and path[-1] == "variants":
        yield path, ("variants needs a 'matrix', 'rows' (a list or a CSV/JSON/YAML file), "
                     "or both"), False
        return
    if validator == "anyOf":
        yield path, _any_of_message(field, error), False
        return
    if validator == "not" and _is_prompt_with_shots(error):
        yield (*path, "prompt"), ("'prompt' is not used with a list of shots (the model ignores "
                                  "it); put the text in each shot's prompt"), True
        return
    if validator == "pattern":
        yield path, _pattern_message(field, path, instance, error.validator_value), False
        return
    if validator == "type":
        expected = error.validator_value
        names = expected if isinstance(expected, list) else [expected]
        yield path, (f"{field} must be {' or '.join(_article(str(n)) for n in names)}, "
                     f"got {_describe(instance)}"), False
        return
    if validator in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"):
        bound = {"minimum": "at least", "exclusiveMinimum": "more than",
                 "maximum": "at most", "exclusiveMaximum": "less than"}[str(validator)]
        yield path, f"{field} must be {bound} {error.validator_value}, got {_show(instance)}", False
        return
    if validator in ("minItems", "minProperties", "minLength"):
        yield path, f"{field} must not be empty", False
        return
    if validator == "maxLength":
        yield path, f"{field} is longer than {error.validator_value} characters", False
        return
    yield path, f"{field}: {error.message}", False


def _missing(error: ValidationError) -> str:
    return str(error.message).split("'")[1] if "'" in error.message else "?"


def _suggested_keys(errors: Iterable[ValidationError]) -> set[tuple[JsonPath, str]]:
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


def _field_name(path: JsonPath) -> str:
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


def _kind(value: Any) -> str:
    return {dict: "mapping", list: "list", str: "string", bool: "boolean", int: "integer",
            float: "number"}.get(type(value), "value")


def _describe(value: Any) -> str:
    if value is None:
        return EMPTY
    if isinstance(value, dict | list):
        return f"a {_kind(value)}"
    return f"{_kind(value)} {_show(value)}"


def _article(type_name: str) -> str:
    words = {"object": "a mapping", "array": "a list", "string": "a string",
             "integer": "an integer", "number": "a number", "boolean": "true or false",
             "null": "empty"}
    return words.get(type_name, type_name)

"""Validate a loaded storyboard against ``schemas/storyboard.schema.json``.

The schema is the single source of truth; this module only turns jsonschema's
errors into problems a person can act on: placed at ``file:line:col`` through the
source map, worded for the storyboard format (``schema_messages``), with a suggestion
for misspelt keys. Every problem is returned at once. A valid document never loads
jsonschema: the precompiled validator (``storyboard.precompiled``) says it is valid in
microseconds; ``read`` then gives its typed view.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from storyboard import precompiled
from storyboard.compile.compose import LoadedDocument
from storyboard.compile.names import ecma_pattern
from storyboard.compile.read import read_storyboard
from storyboard.errors import Problem, SchemaError
from storyboard.model import CUT, Storyboard
from storyboard.resources import STORYBOARD_SCHEMA, load_schema
from storyboard.source import JsonPath

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError


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
    return read_storyboard(doc, root)


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


def schema_problems(doc: LoadedDocument) -> list[Problem]:
    if not isinstance(doc.data, dict):
        from storyboard.compile.schema_messages import kind

        got = "an empty file" if doc.data is None else f"a {kind(doc.data)}"
        where = doc.source_map.locate(())
        return [Problem(f"a storyboard is a mapping with 'storyboard: 1', 'name' and 'clips'; "
                        f"this is {got} (run `storyboard init` for a starter)", where)]
    problems: dict[tuple[int, int, str, str], Problem] = {}
    valid = precompiled.check(STORYBOARD_SCHEMA, doc.data)
    if not valid:
        for path, message, at_key in _explained(doc.data):
            loc = doc.source_map.locate_key(path) if at_key else doc.source_map.locate(path)
            problem = Problem(message, loc)
            problems.setdefault((loc.line, loc.column, loc.json_path, message), problem)
    problems_list = list(problems.values())
    problems_list.extend(_semantic_problems(doc))
    return sorted(problems_list, key=lambda p: (p.location.line, p.location.column)
                  if p.location else (0, 0))


def _explained(data: Any) -> Iterator[tuple[JsonPath, str, bool]]:
    """Each schema error of an invalid document, explained (path, message, at key)."""
    from storyboard.compile.schema_messages import explain, missing_key, suggested_keys

    errors = list(_inside_the_shape_given(_validator().iter_errors(data)))
    suggested = suggested_keys(errors)
    for error in errors:
        if error.validator == "required" and (tuple(error.absolute_path),
                                              missing_key(error)) in suggested:
            continue  # "did you mean 'prompt'?" already says it
        yield from explain(error)


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
        from storyboard.compile.schema_messages import field_name

        yield Problem(f"{field_name(path)} must be a finite number, got {node}",
                      doc.source_map.locate(path))
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _non_finite(doc, value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _non_finite(doc, value, (*path, index))

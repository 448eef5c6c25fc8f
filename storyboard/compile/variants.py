"""Expand a storyboard's ``variants`` into the list of variants a campaign renders.

A matrix is every combination of its values (in the order written; crossed with
``rows`` when both are given), minus ``exclude``
entries (a partial mapping removes every combination it matches), plus ``include``
entries (an entry that only adds new keys extends the combinations it matches, as in
GitHub Actions; otherwise it is a new variant). ``rows`` gives one variant per row,
inline or from a CSV/JSON/YAML file beside the storyboard. Each variant is named by
the ``id`` template (default: its values joined with ``-``, made safe); ids must be unique and
safe as folder names.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from storyboard.compile.load import load_file
from storyboard.compile.names import VARIANT_ID_MAX, VARIANT_RULE, is_safe
from storyboard.compile.render import TemplateEngine
from storyboard.errors import LoadError, Problem, SourceLocation, VariantError
from storyboard.files import TooLarge, Unreadable, describe_size, read_limited
from storyboard.model import Storyboard, Variant, VariantsSpec

KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
DEFAULT_VARIANT = "default"
MAX_ROWS_BYTES = 20 * 1024 * 1024
MAX_VARIANTS = 100_000  # a 9-line matrix of 8 keys × 20 values would be 25.6 billion


def expand_variants(storyboard: Storyboard, engine: TemplateEngine) -> tuple[Variant, ...]:
    spec = storyboard.variants
    if spec is None:
        return (Variant(DEFAULT_VARIANT, {}, None),)
    if spec.rows is not None:
        base = _rows(spec, storyboard)
    elif spec.matrix is not None:
        base = [({}, storyboard.source_map.locate(("variants", "matrix")))]
    else:
        base = []  # include-only: the include entries are the variants
    rows = _combine(base, spec, storyboard)
    if not rows:
        why = ("every combination is excluded; remove an exclude entry" if spec.exclude
               else "there are no rows")
        raise VariantError([Problem(f"variants expand to nothing ({why})", spec.location)])
    return _name(rows, spec, engine)


def _combine(base: list[tuple[dict[str, Any], SourceLocation]], spec: VariantsSpec,
             sb: Storyboard) -> list[tuple[dict[str, Any], SourceLocation]]:
    """Rows × matrix combinations, minus ``exclude``, plus ``include``."""
    matrix = spec.matrix or {}
    keys = list(matrix)
    clashes = sorted({k for values, _ in base for k in values} & set(keys))
    if clashes:
        raise VariantError([Problem(
            f"'{clashes[0]}' is both a rows column and a matrix key; rename one of them",
            sb.source_map.locate_key(("variants", "matrix", clashes[0])))])
    count = len(base) * math.prod(len(matrix[k]) for k in keys)
    if count > MAX_VARIANTS:
        raise VariantError([Problem(
            f"variants would expand to {count:,} combinations, over the limit of "
            f"{MAX_VARIANTS:,}; split the campaign into several storyboards",
            sb.source_map.locate(("variants",)))])
    known = {k for values, _ in base for k in values} | set(keys)
    problems = []
    for n, entry in enumerate(spec.exclude):
        unknown = sorted(set(entry) - known)
        if unknown:
            problems.append(Problem(
                f"exclude names '{unknown[0]}', which is not a matrix key or rows column "
                f"(those are: {', '.join(sorted(known))})",
                sb.source_map.locate_key(("variants", "exclude", n, unknown[0]))))
    if problems:
        raise VariantError(problems)
    used = [False] * len(spec.exclude)
    rows: list[tuple[dict[str, Any], SourceLocation]] = []
    for values, location in base:
        for combo in itertools.product(*(matrix[k] for k in keys)):
            merged = {**values, **dict(zip(keys, combo, strict=True))}
            hits = [n for n, ex in enumerate(spec.exclude) if _matches(merged, ex)]
            for n in hits:
                used[n] = True
            if not hits:
                rows.append((merged, location))
    for n, hit in enumerate(used):
        if not hit:  # a typo in a value would otherwise silently pay for what it meant
            problems.append(Problem(
                f"exclude entry {_show(spec.exclude[n])} matches no combination; check its "
                "values (they must match exactly, as written in the matrix or rows)",
                sb.source_map.locate(("variants", "exclude", n))))
    if problems:
        raise VariantError(problems)
    known = {k for values, _ in rows for k in values}
    for n, entry in enumerate(spec.include):
        where = sb.source_map.locate(("variants", "include", n))
        shared = {k: v for k, v in entry.items() if k in known}
        extra = {k: v for k, v in entry.items() if k not in known}
        targets = [values for values, _ in rows if extra and shared and _matches(values, shared)]
        if targets:
            for values in targets:
                values.update(extra)
        else:
            rows.append((dict(entry), where))
        known.update(entry)
    return rows


def _matches(values: Mapping[str, Any], pattern: Mapping[str, Any]) -> bool:
    """Every key of ``pattern`` has the same value, of the same type (1 is not true)."""
    return all(k in values and type(values[k]) is type(v) and values[k] == v
               for k, v in pattern.items())


def _rows(spec: VariantsSpec, sb: Storyboard) -> list[tuple[dict[str, Any], SourceLocation]]:
    if isinstance(spec.rows, tuple):
        return [(dict(row), sb.source_map.locate(("variants", "rows", n)))
                for n, row in enumerate(spec.rows)]
    assert isinstance(spec.rows, str)
    where = sb.source_map.locate(("variants", "rows"))
    path = Path(sb.root) / spec.rows
    display = _display(path, spec.rows, sb)
    if not path.resolve().is_relative_to(Path(sb.root).resolve()):
        # like includes: what a storyboard reads travels with it (and is in its git tree)
        raise VariantError([Problem(
            f"rows file '{spec.rows}' is outside the storyboard's folder; keep data files "
            "beside the storyboard or below it", where)])
    if not path.is_file():
        raise VariantError([Problem(
            f"rows file '{spec.rows}' not found; paths are relative to the storyboard's "
            f"folder ({Path(sb.file).parent})", where)])
    if path.suffix.lower() == ".csv":
        return _csv_rows(path, display, where)
    return _data_rows(path, display, where)


def _display(path: Path, given: str, sb: Storyboard) -> str:
    """The rows file as the user would name it: beside the storyboard's own name."""
    return str(Path(sb.file).parent / given)


def _csv_rows(path: Path, display: str,
              where: SourceLocation) -> list[tuple[dict[str, Any], SourceLocation]]:
    try:
        data = read_limited(path, MAX_ROWS_BYTES, kind="rows file")
    except TooLarge:
        raise VariantError([Problem(f"rows file {display} is over "
                                    f"{describe_size(MAX_ROWS_BYTES)}", where)]) from None
    except Unreadable as exc:
        raise VariantError([Problem(f"cannot read rows file {display}: {exc}", where)]) from None
    # newline="" keeps quoted line breaks inside their cell; strict rejects a stray quote;
    # decoded as it is read, so 20 MiB is never also held as text (4 bytes a character)
    lines = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="")
    reader = csv.reader(lines, strict=True)
    problems: list[Problem] = []
    try:
        header = next(reader, None)
        if not header:
            raise VariantError([Problem(f"rows file {display} is empty; it needs a header row "
                                        "naming the columns", where)])
        header = [h.strip() for h in header]
        for col, name in enumerate(header, 1):
            if not KEY.match(name):
                problems.append(Problem(
                    f"column name {name!r} is not usable in templates; use letters, digits "
                    "and '_'", SourceLocation(display, 1, col, "$")))
        if len(set(header)) != len(header):
            problems.append(Problem("duplicate column names in the header row",
                                    SourceLocation(display, 1, 1, "$")))
        rows = []
        line_no = reader.line_num + 1  # where the next record starts
        for index, record in enumerate(reader):
            start, line_no = line_no, reader.line_num + 1
            if index >= MAX_VARIANTS:  # 20 MiB of "1\n" would be 10 million dicts
                raise VariantError([Problem(
                    f"rows file {display} has over {MAX_VARIANTS:,} rows, the limit of "
                    "variants; split the campaign into several storyboards",
                    SourceLocation(display, start, 1, f"$[{index}]"))])
            if not any(cell.strip() for cell in record):
                continue
            loc = SourceLocation(display, start, 1, f"$[{index}]")
            if len(record) != len(header):
                problems.append(Problem(
                    f"row has {len(record)} cells but the header has {len(header)} columns",
                    loc))
                continue
            rows.append((dict(zip(header, record, strict=True)), loc))
    except csv.Error as exc:
        raise VariantError([Problem(
            f"{exc} (a quote that is never closed?)", SourceLocation(
                display, reader.line_num, 1, "$"))]) from None
    except UnicodeDecodeError as exc:
        raise VariantError([Problem(f"cannot read rows file {display}: {exc}", where)]) from None
    if problems:
        raise VariantError(problems)
    return rows


def _data_rows(path: Path, display: str,
               where: SourceLocation) -> list[tuple[dict[str, Any], SourceLocation]]:
    try:
        doc = load_file(path, display=display)
    except LoadError as exc:
        raise VariantError(exc.problems) from None
    if not isinstance(doc.data, list) or not doc.data:
        raise VariantError([Problem(
            f"rows file {display} must hold a non-empty list of mappings, one per variant",
            doc.source_map.locate(()))])
    problems: list[Problem] = []
    rows = []
    for n, row in enumerate(doc.data):
        loc = doc.source_map.locate((n,))
        if not isinstance(row, dict) or not row:
            problems.append(Problem("each row must be a non-empty mapping of column: value", loc))
            continue
        for key, value in row.items():
            if not isinstance(key, str) or not KEY.match(key):
                problems.append(Problem(f"key {key!r} is not usable in templates; use letters, "
                                        "digits and '_'", doc.source_map.locate_key((n, key))))
            elif value is None or isinstance(value, dict | list):
                problems.append(Problem(f"value of '{key}' must be a string, number or boolean",
                                        doc.source_map.locate((n, key))))
        rows.append((row, loc))
    if problems:
        raise VariantError(problems)
    return rows


def _name(rows: Iterable[tuple[dict[str, Any], SourceLocation]], spec: VariantsSpec,
          engine: TemplateEngine) -> tuple[Variant, ...]:
    problems: list[Problem] = []
    variants: list[Variant] = []
    makers: dict[str, list[tuple[Mapping[str, Any], SourceLocation]]] = {}
    for values, location in rows:
        if spec.id is not None:
            context = engine.context(values)
            context["variant"] = dict(values)
            vid = engine.render(spec.id, context).strip()
            where = spec.id.location
        else:
            vid = slug("-".join(str(v) for v in values.values()))
            where = location
        if not is_safe("variant", vid):
            first_key = next(iter(values), "value")
            long = f" in at most {VARIANT_ID_MAX} characters" if len(vid) > VARIANT_ID_MAX else ""
            problems.append(Problem(
                f"variant id {vid[:80]!r} (from {_show(values)}) is not safe as a file name; ids "
                f"must match {VARIANT_RULE}{long} — change the values or the 'id' template, e.g. "
                f"{{{{ {first_key} | lower | replace(' ', '-') }}}}", where))
        makers.setdefault(vid, []).append((values, where))
        variants.append(Variant(vid, values, location))
    for vid, made in makers.items():
        if len(made) > 1 and is_safe("variant", vid):
            shown = " and ".join(_show(values) for values, _ in made[:2])
            more = f" (and {len(made) - 2} more)" if len(made) > 2 else ""
            problems.append(Problem(
                f"duplicate variant id '{vid}': {len(made)} variants make it, e.g. "
                f"{shown}{more}; make the 'id' template use every value that differs",
                made[1][1]))
    if problems:
        raise VariantError(problems)
    return tuple(variants)


def slug(text: str) -> str:
    """A default variant id from values: lowercase ASCII, other runs of characters as '-'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9_.]+", "-", ascii_text.lower()).strip("-.") or "variant"


def _show(values: Mapping[str, Any]) -> str:
    return "{" + ", ".join(f"{k}: {v}" for k, v in values.items()) + "}"

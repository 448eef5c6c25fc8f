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

import itertools
import math
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from storyboard.compile.names import VARIANT_ID_MAX, VARIANT_RULE, is_safe, slug
from storyboard.errors import Problem, SourceLocation, VariantError
from storyboard.model import Storyboard, Variant, VariantsSpec

if TYPE_CHECKING:
    from storyboard.compile.engines import Engine

DEFAULT_VARIANT = "default"
MAX_VARIANTS = 100_000  # a 9-line matrix of 8 keys × 20 values would be 25.6 billion


def expand_variants(storyboard: Storyboard, engine: Engine) -> tuple[Variant, ...]:
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


Rows = list[tuple[dict[str, Any], SourceLocation]]


def _combine(base: Rows, spec: VariantsSpec, sb: Storyboard) -> Rows:
    """Rows × matrix combinations, minus ``exclude``, plus ``include``."""
    matrix = spec.matrix or {}
    _check_matrix(base, matrix, sb)
    rows = _without_excluded(base, matrix, spec, sb)
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


def _check_matrix(base: Rows, matrix: Mapping[str, tuple[Any, ...]], sb: Storyboard) -> None:
    """No key both a rows column and a matrix key; no more than ``MAX_VARIANTS``."""
    clashes = sorted({k for values, _ in base for k in values} & set(matrix))
    if clashes:
        raise VariantError([Problem(
            f"'{clashes[0]}' is both a rows column and a matrix key; rename one of them",
            sb.source_map.locate_key(("variants", "matrix", clashes[0])))])
    count = len(base) * math.prod(len(values) for values in matrix.values())
    if count > MAX_VARIANTS:
        raise VariantError([Problem(
            f"variants would expand to {count:,} combinations, over the limit of "
            f"{MAX_VARIANTS:,}; split the campaign into several storyboards",
            sb.source_map.locate(("variants",)))])


def _without_excluded(base: Rows, matrix: Mapping[str, tuple[Any, ...]], spec: VariantsSpec,
                      sb: Storyboard) -> Rows:
    """Every combination no ``exclude`` entry matches; an entry naming an unknown key, or
    matching nothing, is a problem (a typo would otherwise pay for what it meant)."""
    keys = list(matrix)
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
    rows: Rows = []
    for values, location in base:
        for combo in itertools.product(*(matrix[k] for k in keys)):
            merged = {**values, **dict(zip(keys, combo, strict=True))}
            hits = [n for n, ex in enumerate(spec.exclude) if _matches(merged, ex)]
            for n in hits:
                used[n] = True
            if not hits:
                rows.append((merged, location))
    problems = [Problem(
        f"exclude entry {_show(spec.exclude[n])} matches no combination; check its "
        "values (they must match exactly, as written in the matrix or rows)",
        sb.source_map.locate(("variants", "exclude", n))) for n, hit in enumerate(used) if not hit]
    if problems:
        raise VariantError(problems)
    return rows


def _matches(values: Mapping[str, Any], pattern: Mapping[str, Any]) -> bool:
    """Every key of ``pattern`` has the same value, of the same type (1 is not true)."""
    return all(k in values and type(values[k]) is type(v) and values[k] == v
               for k, v in pattern.items())


def _rows(spec: VariantsSpec, sb: Storyboard) -> Rows:
    if isinstance(spec.rows, tuple):
        return [(dict(row), sb.source_map.locate(("variants", "rows", n)))
                for n, row in enumerate(spec.rows)]
    from storyboard.compile.variant_rows import file_rows

    assert isinstance(spec.rows, str)
    return file_rows(spec.rows, sb)


def _name(rows: Iterable[tuple[dict[str, Any], SourceLocation]], spec: VariantsSpec,
          engine: Engine) -> tuple[Variant, ...]:
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
            vid = slug("-".join(str(v) for v in values.values()), "variant", "variant")
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


def _show(values: Mapping[str, Any]) -> str:
    return "{" + ", ".join(f"{k}: {v}" for k, v in values.items()) + "}"

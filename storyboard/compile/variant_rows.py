"""Variants from a rows file beside the storyboard: a CSV (one variant per row under a
header naming the columns) or a JSON/YAML list of mappings."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

from storyboard.compile.load import load_file
from storyboard.compile.variants import MAX_VARIANTS, Rows
from storyboard.errors import LoadError, Problem, SourceLocation, VariantError
from storyboard.files import TooLarge, Unreadable, describe_size, read_limited
from storyboard.model import Storyboard

KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
MAX_ROWS_BYTES = 20 * 1024 * 1024


def file_rows(given: str, sb: Storyboard) -> Rows:
    """The rows of the file ``given`` names, which must be inside the storyboard's folder."""
    where = sb.source_map.locate(("variants", "rows"))
    path = Path(sb.root) / given
    display = _display(path, given, sb)
    if not path.resolve().is_relative_to(Path(sb.root).resolve()):
        # like includes: what a storyboard reads travels with it (and is in its git tree)
        raise VariantError([Problem(
            f"rows file '{given}' is outside the storyboard's folder; keep data files "
            "beside the storyboard or below it", where)])
    if not path.is_file():
        raise VariantError([Problem(
            f"rows file '{given}' not found; paths are relative to the storyboard's "
            f"folder ({Path(sb.file).parent})", where)])
    if path.suffix.lower() == ".csv":
        return _csv_rows(path, display, where)
    return _data_rows(path, display, where)


def _display(path: Path, given: str, sb: Storyboard) -> str:
    """The rows file as the user would name it: beside the storyboard's own name."""
    return str(Path(sb.file).parent / given)


def _csv_rows(path: Path, display: str, where: SourceLocation) -> Rows:
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
        header = _csv_header(reader, display, where, problems)
        rows = _csv_records(reader, header, display, problems)
    except csv.Error as exc:
        raise VariantError([Problem(
            f"{exc} (a quote that is never closed?)", SourceLocation(
                display, reader.line_num, 1, "$"))]) from None
    except UnicodeDecodeError as exc:
        raise VariantError([Problem(f"cannot read rows file {display}: {exc}", where)]) from None
    if problems:
        raise VariantError(problems)
    return rows


def _csv_header(reader: Any, display: str, where: SourceLocation,
                problems: list[Problem]) -> list[str]:
    """The column names (appending to ``problems`` those templates cannot use)."""
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
    return header


def _csv_records(reader: Any, header: list[str], display: str,
                 problems: list[Problem]) -> Rows:
    """One row per record, at its line; blank records skipped, ragged ones problems."""
    rows: Rows = []
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
    return rows


def _data_rows(path: Path, display: str, where: SourceLocation) -> Rows:
    try:
        doc = load_file(path, display=display)
    except LoadError as exc:
        raise VariantError(exc.problems) from None
    if not isinstance(doc.data, list) or not doc.data:
        raise VariantError([Problem(
            f"rows file {display} must hold a non-empty list of mappings, one per variant",
            doc.source_map.locate(()))])
    problems: list[Problem] = []
    rows: Rows = []
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

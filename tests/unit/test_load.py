"""Stage 1: YAML 1.2 scalars, duplicate keys, bounds, error lines and the source map."""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storyboard.compile import load
from storyboard.compile.load import Limits, load_file, load_text
from storyboard.errors import LoadError, SourceLocation
from storyboard.source import SourceMap, format_json_path


@pytest.fixture(params=["libyaml", "python"], autouse=True)
def parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Every test runs on libyaml and on PyYAML's pure-Python parser (used without libyaml)."""
    if request.param == "python":
        monkeypatch.setattr(load, "_new_parser", load._python_parser)
    yield request.param


def data_of(text: str) -> Any:
    return load_text(text, "story.yaml").data


def error_lines(text: str, *, file: str = "story.yaml", limits: Limits | None = None) -> list[str]:
    with pytest.raises(LoadError) as caught:
        load_text(text, file, limits=limits or load.DEFAULT_LIMITS)
    return caught.value.lines()


# ------------------------------------------------------------------ YAML 1.2 scalars


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("16:9", "16:9"),
        ("1:30:00", "1:30:00"),
        ("on", "on"),
        ("off", "off"),
        ("yes", "yes"),
        ("no", "no"),
        ("y", "y"),
        ("n", "n"),
        ("Yes", "Yes"),
        ("true", True),
        ("True", True),
        ("TRUE", True),
        ("false", False),
        ("False", False),
        ("FALSE", False),
        ("tRue", "tRue"),
        ("null", None),
        ("Null", None),
        ("NULL", None),
        ("~", None),
        ("", None),
        ("nil", "nil"),
        ("0", 0),
        ("-12", -12),
        ("+12", 12),
        ("007", 7),
        ("0o17", 15),
        ("0x1F", 31),
        ("0xff", 255),
        ("0b101", "0b101"),
        ("-0x1F", "-0x1F"),
        ("1_000", "1_000"),
        ("1.5", 1.5),
        ("-.5", -0.5),
        ("1.", 1.0),
        ("1e3", 1000.0),
        ("2.5E-1", 0.25),
        (".inf", math.inf),
        ("-.Inf", -math.inf),
        ("+.INF", math.inf),
        ("2026-01-01", "2026-01-01"),
        ("2026-01-01T10:00:00Z", "2026-01-01T10:00:00Z"),
        ("1,000", "1,000"),
        ("5s", "5s"),
        ("'16:9'", "16:9"),
        ('"true"', "true"),
        ("'12'", "12"),
        ("'null'", "null"),
        ("''", ""),
        ("!!str 12", "12"),
        ("!!str", ""),
        ("! 12", "12"),
        ("!!int '7'", 7),
        ("!!float 1", 1.0),
        ("!!bool 'false'", False),
        ("!!null ''", None),
    ],
)
def test_scalars_follow_yaml_1_2_core(text: str, value: Any) -> None:
    loaded = data_of(f"x: {text}\n")["x"]
    assert loaded == value
    assert type(loaded) is type(value)


def test_nan_is_a_float() -> None:
    assert math.isnan(data_of("x: .NaN\n")["x"])


def test_a_storyboard_reads_as_a_user_wrote_it() -> None:
    text = (
        "version: 1\n"
        "defaults:\n"
        "  aspect_ratio: 16:9\n"
        "  sound: on\n"
        "clips:\n"
        "  - id: intro\n"
        "    prompt: >\n"
        "      A slow dolly in,\n"
        "      golden hour.\n"
        "    duration: 5\n"
    )
    assert data_of(text) == {
        "version": 1,
        "defaults": {"aspect_ratio": "16:9", "sound": "on"},
        "clips": [{"id": "intro", "prompt": "A slow dolly in, golden hour.\n", "duration": 5}],
    }


def test_merge_key_is_an_ordinary_key() -> None:
    assert data_of("base: &b {a: 1}\nclip:\n  <<: *b\n") == {
        "base": {"a": 1},
        "clip": {"<<": {"a": 1}},
    }


def test_aliases_become_independent_copies() -> None:
    data = data_of("base: &b {p: [1]}\nclip: *b\n")
    assert data["clip"] == {"p": [1]}
    assert data["clip"] is not data["base"]
    assert data["clip"]["p"] is not data["base"]["p"]


def test_anchored_scalar_keeps_its_tag_through_aliases() -> None:
    assert data_of("x: &a !!str 5\ny: *a\n") == {"x": "5", "y": "5"}


@pytest.mark.parametrize("text", ["", "# only a comment\n", "---\n", "---\n...\n"])
def test_empty_document_is_none(text: str) -> None:
    assert data_of(text) is None


def test_empty_file_locates_at_its_start() -> None:
    source_map = load_text("", "story.yaml").source_map
    assert source_map.locate(("clips",)) == SourceLocation("story.yaml", 1, 1, "$.clips")


def test_byte_order_mark_is_ignored() -> None:
    loaded = load_text("\ufeffa: 1\n", "story.yaml")
    assert loaded.data == {"a": 1}
    assert loaded.source_map.locate(("a",)) == SourceLocation("story.yaml", 1, 4, "$.a")


# ----------------------------------------------------------------------------- JSON


def test_json_dumps_output_loads() -> None:
    rows = [{"city": "Zürich 😀", "n": 3, "ratio": 0.5, "ok": True, "none": None, "tags": []}]
    assert data_of(json.dumps(rows, indent=2)) == rows  # ensure_ascii: "\ud83d\ude00"
    assert data_of(json.dumps(rows, indent=2, ensure_ascii=False)) == rows
    assert data_of(json.dumps(rows)) == rows
    assert data_of(json.dumps(rows, indent="\t")) == rows
    assert data_of('{"a":1,"b":"\\/"}') == {"a": 1, "b": "/"}


def test_json_source_positions() -> None:
    loaded = load_text(json.dumps({"rows": [{"a": 1}]}, indent=2), "rows.json")
    assert loaded.source_map.locate(("rows", 0, "a")) == SourceLocation(
        "rows.json", 4, 12, "$.rows[0].a"
    )


def test_unpaired_surrogate_escape_is_an_error() -> None:
    assert error_lines('{"a": "x \\ud83d"}', file="rows.json") == [
        "rows.json:1:7: error: a \\u escape is half of a UTF-16 surrogate pair with no other "
        "half; fix the escape or write the character itself (at $.a)"
    ]


# ---------------------------------------------------------------------- duplicate keys


def test_duplicate_keys_name_both_lines_and_all_are_reported() -> None:
    text = "clips:\n  - prompt: a\n    duration: 5\n    prompt: b\n  - {id: x, id: y}\nclips: []\n"
    assert error_lines(text) == [
        "story.yaml:4:5: error: duplicate key 'prompt' (first defined at line 2); "
        "remove one of them (at $.clips[0].prompt)",
        "story.yaml:5:13: error: duplicate key 'id' (first defined at line 5); "
        "remove one of them (at $.clips[1].id)",
        "story.yaml:6:1: error: duplicate key 'clips' (first defined at line 1); "
        "remove one of them (at $.clips)",
    ]


def test_same_key_in_different_mappings_is_fine() -> None:
    assert data_of("a: {x: 1}\nb: {x: 2}\n") == {"a": {"x": 1}, "b": {"x": 2}}


def test_keys_must_be_strings() -> None:
    assert error_lines("1: a\ntrue: b\n? [x]\n: c\n'2': ok\n") == [
        "story.yaml:1:1: error: the key 1 is read as a number, but keys are names; "
        'write it in quotes ("1") (at $)',
        "story.yaml:2:1: error: the key true is read as true/false, but keys are names; "
        'write it in quotes ("true") (at $)',
        "story.yaml:3:3: error: a key must be a name, not a list; "
        "write a plain name before ':' (at $)",
    ]


def test_empty_key() -> None:
    assert error_lines("a:\n  ? \n  : 1\n") == [
        "story.yaml:2:4: error: this mapping has an empty key; write a name before ':' (at $.a)"
    ]


# --------------------------------------------------------------------------- tags


def test_python_tags_are_rejected_not_run() -> None:
    text = "a: 1\nb: !!python/object/apply:os.system ['echo pwned']\nc: !custom x\n"
    assert error_lines(text) == [
        "story.yaml:2:4: error: unknown tag '!!python/object/apply:os.system'; storyboards use "
        "plain YAML values (text, numbers, true/false, null, lists, mappings) — remove the tag "
        "(at $.b)",
        "story.yaml:3:4: error: unknown tag '!custom'; storyboards use plain YAML values (text, "
        "numbers, true/false, null, lists, mappings) — remove the tag (at $.c)",
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x: !!timestamp 2026-01-01\n", "unknown tag '!!timestamp'"),
        ("x: !!binary aGk=\n", "unknown tag '!!binary'"),
        ("x: !!set {a: null}\n", "unknown tag '!!set'"),
        ("x: !!map [1]\n", "unknown tag '!!map'"),
        ("x: !!int abc\n", "'abc' is not a valid !!int value; fix the value or remove the tag"),
        ("x: !!bool yes\n", "'yes' is not a valid !!bool value"),
    ],
)
def test_other_tags_are_problems(text: str, message: str) -> None:
    [line] = error_lines(text)
    assert line.startswith(f"story.yaml:1:4: error: {message}")
    assert line.endswith("(at $.x)")


def test_huge_integer_is_a_problem_not_a_crash() -> None:
    [line] = error_lines("x: " + "9" * 5000 + "\n")
    assert line.startswith("story.yaml:1:4: error: the number 99999999999999999999... has 5000 ")


# ------------------------------------------------------------------------- aliases


def _laughs(levels: int, width: int) -> str:
    names = [f"l{i}" for i in range(levels)]
    lines = [f"{names[0]}: &{names[0]} [{', '.join(['lol'] * width)}]"]
    for previous, name in itertools.pairwise(names):
        lines.append(f"{name}: &{name} [{', '.join(['*' + previous] * width)}]")
    return "\n".join(lines) + "\n"


def test_billion_laughs_is_rejected_without_expanding() -> None:
    bomb = _laughs(levels=10, width=10)  # 10**10 values if expanded
    # l3 stands for 11111 values, so the eighth *l3 in l4 goes over the budget
    assert error_lines(bomb, file="bomb.yaml") == [
        "bomb.yaml:5:45: error: aliases expand to more than 100000 values; storyboards do not "
        "need this many aliases — expand them by hand (at $.l4[7])"
    ]


def test_wide_alias_fan_out_is_bounded() -> None:
    text = f"a: &a [{', '.join(['x'] * 1000)}]\nb: [{', '.join(['*a'] * 1000)}]\n"
    [line] = error_lines(text)
    assert "aliases expand to more than 100000 values" in line


def test_mapping_bomb_is_rejected() -> None:
    lines = ["a: &a {k0: lol, k1: lol, k2: lol, k3: lol}"]
    for previous, name in zip("abcdefghijklmnop", "bcdefghijklmnopq", strict=True):
        keys = ", ".join(f"k{i}: *{previous}" for i in range(4))
        lines.append(f"{name}: &{name} {{{keys}}}")
    [line] = error_lines("\n".join(lines) + "\n")  # 4**17 values if expanded
    assert "aliases expand to more than 100000 values" in line


def test_aliases_within_the_budget_load() -> None:
    data = data_of(_laughs(levels=3, width=10))
    assert len(data["l2"]) == 10
    assert data["l2"][9][9] == ["lol"] * 10


def test_node_budget_counts_plain_values_too() -> None:
    assert error_lines("[1, 2, 3, 4]\n", limits=Limits(max_nodes=4)) == [
        "story.yaml:1:11: error: the file holds more than 4 values; that is far more than a "
        "storyboard or data file needs — split it into smaller files (at $[3])"
    ]
    assert data_of("[1, 2, 3]\n") == [1, 2, 3]


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("a: &a [1, *a]\n", "story.yaml:1:11: error: alias *a is inside the value anchored as &a"),
        ("a: &a\n  b:\n    c: *a\n", "story.yaml:3:8: error: alias *a is inside the value "),
    ],
)
def test_recursive_alias_is_an_error(text: str, line: str) -> None:
    [got] = error_lines(text)
    assert got.startswith(line)
    assert "copy the values you need instead" in got


def test_undefined_alias() -> None:
    assert error_lines("a: *nowhere\n") == [
        "story.yaml:1:4: error: alias *nowhere has no anchor; define '&nowhere' on a value "
        "above this line (at $.a)"
    ]


# --------------------------------------------------------------------------- bounds


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_depth_limit() -> None:
    assert data_of(_nested(64)) is not None
    [line] = error_lines(_nested(65))
    assert line.startswith(
        "story.yaml:1:65: error: lists and mappings nest more than 64 levels deep; "
        "a storyboard does not need this — flatten the structure (at $[0][0]"
    )


def test_block_depth_limit() -> None:
    text = "".join("  " * i + f"k{i}:\n" for i in range(70))
    [line] = error_lines(text, limits=Limits(max_depth=10))
    assert line.startswith("story.yaml:11:21: error: lists and mappings nest more than 10 levels")
    assert line.endswith("(at $.k0.k1.k2.k3.k4.k5.k6.k7.k8.k9)")


DEPTH_LINE = ("story.yaml:1:65: error: lists and mappings nest more than 64 levels deep; "
              "a storyboard does not need this — flatten the structure (at $")


def test_very_deep_nesting_does_not_crash() -> None:
    # Old libyaml recursed in C here and took the interpreter down; libyaml 0.2.5 (PyYAML
    # 6.0.4) stops at 1,000 levels with its own words. Either way the user reads our bound,
    # at the place it is crossed.
    [line] = error_lines(_nested(300_000))
    assert line.startswith(DEPTH_LINE)


class _RefusesDeepLines:
    """A parser that, like some libyaml builds, refuses a deep line with words of its own."""

    def __init__(self, text: str) -> None:
        import yaml

        self.error = yaml.scanner.ScannerError(
            None, None, "words storyboard has never seen",
            yaml.Mark("<unicode string>", 5, 0, 5, None, None))

    def get_event(self) -> None:
        raise self.error


def test_the_depth_bound_speaks_whatever_the_parser_says(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(load, "_new_parser", _RefusesDeepLines)
    [line] = error_lines(_nested(1_000))
    assert line.startswith(DEPTH_LINE)
    # a shallow file that the parser refuses keeps the parser's own reason
    [line] = error_lines("a: [1, 2]\n")
    assert line.startswith("story.yaml:1:6: error: invalid YAML: words storyboard has never seen")


def test_aliases_cannot_build_depth() -> None:
    levels = ["a0: &a0 " + _nested(30)]
    levels += [f"a{i}: &a{i} {'[' * 30}*a{i - 1}{']' * 30}" for i in range(1, 4)]
    [line] = error_lines("\n".join(levels) + "\n")
    assert line.startswith(
        "story.yaml:3:39: error: alias *a1 nests lists and mappings more than 64 levels deep"
    )


def test_size_limit_text() -> None:
    assert error_lines("a: 1234\n", limits=Limits(max_bytes=4)) == [
        "story.yaml:1:1: error: the file is larger than 4 bytes; a storyboard is a small text "
        "file — check that this is the right file"
    ]
    # counted in UTF-8 bytes, not characters
    assert error_lines("é" * 3, limits=Limits(max_bytes=5))[0].startswith("story.yaml:1:1")


def test_size_limit_file(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_bytes(b"a: " + b"x" * (5 * 1024 * 1024))
    with pytest.raises(LoadError) as caught:
        load_file(big, display="big.yaml")
    assert caught.value.lines() == [
        "big.yaml:1:1: error: the file is larger than 5 MiB; a storyboard is a small text "
        "file — check that this is the right file"
    ]


# -------------------------------------------------------------------- syntax errors


@pytest.mark.parametrize(
    ("text", "start", "hint"),
    [
        (
            "clips:\n  - prompt: a: b\n",
            "story.yaml:2:14: error: invalid YAML: mapping values are not allowed",
            "a value containing ': ' must be put in quotes",
        ),
        (
            "a: 1\nb: 'open\n",
            "story.yaml:3:1: error: invalid YAML: found unexpected end of stream (while "
            "scanning a quoted scalar that starts at line 2)",
            "a quote or bracket is not closed",
        ),
        (
            "a:\n\t- b\n",
            "story.yaml:2:1: error: invalid YAML: found character",
            "indent with spaces, YAML does not allow tabs here",
        ),
        (
            "a: @mention\n",
            "story.yaml:1:4: error: invalid YAML: found character",
            "a value starting with '@' or '`' must be put in quotes",
        ),
        (
            "a:\n  - b\n c: d\n",
            "story.yaml:3:2: error: invalid YAML:",
            "the items of one mapping or list must line up; check the indentation",
        ),
    ],
)
def test_syntax_error_has_line_column_and_hint(text: str, start: str, hint: str) -> None:
    [line] = error_lines(text)
    assert line.startswith(start)
    assert line.endswith(f"; {hint}")


def test_duplicates_before_a_syntax_error_are_kept() -> None:
    lines = error_lines("a: 1\na: 2\nb: [\n")
    assert len(lines) == 2
    assert lines[0].startswith("story.yaml:2:1: error: duplicate key 'a'")
    assert lines[1].startswith("story.yaml:4:1: error: invalid YAML:")


def test_multiple_documents_are_an_error() -> None:
    assert error_lines("a: 1\n---\nb: 2\n") == [
        "story.yaml:2:1: error: a second YAML document starts here; one storyboard per file — "
        "remove this '---' or move what follows into its own file"
    ]


def test_control_character_is_located() -> None:
    assert error_lines("a: 1\nb: x\x07y\n") == [
        "story.yaml:2:5: error: the character U+0007 is not allowed in YAML; remove it (write "
        'it as an escape like "\\x00" inside double quotes if needed)'
    ]


# ------------------------------------------------------------------------ files


def test_load_file_uses_display_name(tmp_path: Path) -> None:
    path = tmp_path / "story.yaml"
    path.write_text("a: 1\n", encoding="utf-8")
    loaded = load_file(path, display="campaign/story.yaml")
    assert loaded.file == "campaign/story.yaml"
    assert loaded.data == {"a": 1}
    assert loaded.source_map.locate(("a",)) == SourceLocation("campaign/story.yaml", 1, 4, "$.a")
    assert load_file(str(path)).file == str(path)


def test_non_utf8_file(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("a: 1\nb: café\n".encode("latin-1"))
    with pytest.raises(LoadError) as caught:
        load_file(path, display="latin1.yaml")
    assert caught.value.lines() == [
        "latin1.yaml:2:7: error: the file is not valid UTF-8 (byte 0xe9); "
        "save it with UTF-8 encoding"
    ]


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(LoadError) as caught:
        load_file(tmp_path / "nope.yaml", display="nope.yaml")
    assert caught.value.lines() == [
        "error: nope.yaml: no such file; check the path and the current directory"
    ]
    assert caught.value.problems[0].location is None


def test_directory_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(LoadError) as caught:
        load_file(tmp_path, display="clips/")
    assert caught.value.lines() == ["error: clips/: is a directory; give the path of a YAML file"]


# ------------------------------------------------------------------------ source map

STORY = """\
version: 1
clips:
  - id: intro
    prompt: "A dolly in"
    shots:
      - {prompt: close, duration: 3}
  - id: outro
    'my key': x
"""


@pytest.mark.parametrize(
    ("path", "line", "column", "json_path"),
    [
        ((), 1, 1, "$"),
        (("version",), 1, 10, "$.version"),
        (("clips",), 3, 3, "$.clips"),
        (("clips", 0), 3, 5, "$.clips[0]"),
        (("clips", 0, "prompt"), 4, 13, "$.clips[0].prompt"),
        (("clips", 0, "shots", 0), 6, 9, "$.clips[0].shots[0]"),
        (("clips", 0, "shots", 0, "duration"), 6, 35, "$.clips[0].shots[0].duration"),
        (("clips", 1, "my key"), 8, 15, "$.clips[1]['my key']"),
        # unknown paths fall back to the nearest known ancestor
        (("clips", 1, "prompt"), 7, 5, "$.clips[1].prompt"),
        (("clips", 0, "shots", 0, "weight"), 6, 9, "$.clips[0].shots[0].weight"),
        (("nothing", 3), 1, 1, "$.nothing[3]"),
    ],
)
def test_locate(path: tuple[str | int, ...], line: int, column: int, json_path: str) -> None:
    source_map = load_text(STORY, "story.yaml").source_map
    assert source_map.locate(path) == SourceLocation("story.yaml", line, column, json_path)


@pytest.mark.parametrize(
    ("path", "line", "column"),
    [
        (("version",), 1, 1),
        (("clips", 0, "prompt"), 4, 5),
        (("clips", 0, "shots", 0, "duration"), 6, 25),
        (("clips", 1, "my key"), 8, 5),
        (("clips", 0), 3, 5),  # not a key: the value's position
        (("clips", 1, "prompt"), 7, 5),  # unknown: the ancestor's position
    ],
)
def test_locate_key(path: tuple[str | int, ...], line: int, column: int) -> None:
    source_map = load_text(STORY, "story.yaml").source_map
    assert source_map.locate_key(path) == SourceLocation(
        "story.yaml", line, column, format_json_path(path)
    )


def test_locate_accepts_any_path_sequence() -> None:
    from collections import deque

    source_map = load_text(STORY, "story.yaml").source_map
    assert source_map.locate(deque(["clips", 0, "id"])) == SourceLocation(
        "story.yaml", 3, 9, "$.clips[0].id"
    )


def test_contains() -> None:
    source_map = load_text(STORY, "story.yaml").source_map
    assert ("clips", 0, "shots", 0, "prompt") in source_map
    assert ("clips", 0, "missing") not in source_map
    assert ["clips"] not in source_map


def test_alias_value_is_placed_at_the_alias_and_its_inside_at_the_anchor() -> None:
    source_map = load_text("base: &b\n  p: 1\nclip: *b\n", "story.yaml").source_map
    assert source_map.locate(("clip",)) == SourceLocation("story.yaml", 3, 7, "$.clip")
    assert source_map.locate(("clip", "p")) == SourceLocation("story.yaml", 2, 6, "$.clip.p")
    assert source_map.locate_key(("clip", "p")) == SourceLocation("story.yaml", 2, 3, "$.clip.p")


def test_source_map_positions_count_characters_not_bytes() -> None:
    source_map = load_text("é: [ü, x]\n", "story.yaml").source_map
    assert source_map.locate(("é", 1)) == SourceLocation("story.yaml", 1, 8, "$['é'][1]")


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ((), "$"),
        (("clips", 0, "prompt"), "$.clips[0].prompt"),
        (("aspect-ratio", "_x1"), "$.aspect-ratio._x1"),
        (("my key",), "$['my key']"),
        (("1a",), "$['1a']"),
        (("",), "$['']"),
        (("it's",), "$['it\\'s']"),
        (("back\\slash",), "$['back\\\\slash']"),
        (("line\nbreak",), "$['line\\nbreak']"),
        (("bell\x07",), "$['bell\\u0007']"),
        ((0, 1), "$[0][1]"),
    ],
)
def test_format_json_path(path: tuple[str | int, ...], text: str) -> None:
    assert format_json_path(path) == text


def test_source_map_is_read_only() -> None:
    source_map = load_text("a: 1\n", "story.yaml").source_map
    assert isinstance(source_map, SourceMap)
    with pytest.raises(TypeError):
        source_map.values[("b",)] = (1, 1)  # type: ignore[index]


# ---------------------------------------------------------------------------- fuzz

VALID = """\
version: 1
vars: {brand: Acme, tone: "warm"}
defaults: &d
  aspect_ratio: 16:9
  sound: on
clips:
  - id: intro
    <<: *d
    prompt: |
      A wide shot, {{ brand }}.
    shots:
      - [close, 3]
      - {prompt: 'far', weight: 1.5}
"""

YAML_CHARACTERS = list(":-[]{}&*!|>'\"#%@`,?~\n\t .0aé\\\x00\ufeff\ud800")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.sampled_from(YAML_CHARACTERS) | st.characters(), max_size=200))
def test_random_text_only_ever_raises_load_error(text: str) -> None:
    try:
        load_text(text, "fuzz.yaml", limits=Limits(max_nodes=500, max_depth=8))
    except LoadError as exc:
        assert exc.problems


mutation = st.tuples(
    st.sampled_from(["insert", "delete", "replace"]),
    st.integers(min_value=0, max_value=len(VALID)),
    st.sampled_from(YAML_CHARACTERS) | st.characters(),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(mutation, min_size=1, max_size=8))
def test_mutated_storyboard_only_ever_raises_load_error(
    mutations: list[tuple[str, int, str]],
) -> None:
    text = VALID
    for operation, position, character in mutations:
        position = min(position, len(text))
        if operation == "insert":
            text = text[:position] + character + text[position:]
        elif operation == "delete":
            text = text[:position] + text[position + 1 :]
        else:
            text = text[:position] + character + text[position + 1 :]
    try:
        loaded = load_text(text, "fuzz.yaml")
    except LoadError as exc:
        assert all(p.format().startswith("fuzz.yaml:") for p in exc.problems)
    else:
        assert () in loaded.source_map or loaded.data is None

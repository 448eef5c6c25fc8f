"""Stage 1: read a storyboard (or a YAML/JSON data file) into plain data and a source map.

PyYAML is used only as a tokenizer: its event stream is composed here, iteratively, and
scalars are resolved by the YAML 1.2 core schema rather than PyYAML's YAML 1.1 defaults
(which would read ``on`` as ``True`` and ``16:9`` as the base-60 integer 969).

Composing events ourselves, instead of calling ``yaml.compose``, is what makes the
bounds hold: nesting depth is checked before a collection is opened (libyaml's own
composer recurses in C and segfaults on a few hundred thousand ``[``), and the number of
values that aliases expand to is computed from memoized subtree sizes, so a
billion-laughs document is rejected after reading it once, without expanding anything.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, NoReturn, Protocol, TypeAlias

import yaml
from yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    Event,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)

from storyboard.errors import LoadError, Problem, SourceLocation
from storyboard.files import TooLarge, Unreadable, describe_size, read_limited
from storyboard.source import JsonPath, Position, SourceMap, format_json_path

__all__ = [
    "DEFAULT_LIMITS",
    "Limits",
    "LoadedDocument",
    "load_file",
    "load_text",
]


_MIB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Bounds on untrusted input; a storyboard is far below all of them."""

    max_bytes: int = 5 * _MIB
    max_depth: int = 64
    max_nodes: int = 100_000


DEFAULT_LIMITS = Limits()



@dataclass(frozen=True)
class LoadedDocument:
    file: str
    data: Any
    source_map: SourceMap


# ----------------------------------------------------------------- YAML 1.2 scalars

_CORE = "tag:yaml.org,2002:"
_STR, _INT, _FLOAT, _BOOL, _NULL = (_CORE + t for t in ("str", "int", "float", "bool", "null"))
_SEQ, _MAP = _CORE + "seq", _CORE + "map"

_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_DECIMAL = re.compile(r"[-+]?[0-9]+")
_OCTAL = re.compile(r"0o[0-7]+")
_HEX = re.compile(r"0x[0-9a-fA-F]+")
_FLOAT_NUMBER = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_INFINITY = re.compile(r"[-+]?\.(?:inf|Inf|INF)")
_NAN = re.compile(r"\.(?:nan|NaN|NAN)")
# Only these first characters can start a non-string plain scalar; most prompts skip all regexes.
_NON_STRING_START = frozenset("0123456789+-.~nNtTfF")


class _ScalarProblem(Exception):
    """A scalar that cannot become the value its tag (or its looks) asks for."""


def _to_int(text: str) -> int | None:
    try:
        if _DECIMAL.fullmatch(text):
            return int(text, 10)
        if _OCTAL.fullmatch(text):
            return int(text[2:], 8)
        if _HEX.fullmatch(text):
            return int(text[2:], 16)
    except ValueError as exc:  # more digits than int() converts (CVE-2020-10735 guard)
        raise _ScalarProblem(
            f"the number {text[:20]}... has {len(text)} digits, too many to read; "
            "put it in quotes if it is meant as text"
        ) from exc
    return None


def _to_float(text: str) -> float | None:
    if _FLOAT_NUMBER.fullmatch(text):
        return float(text)
    if _INFINITY.fullmatch(text):
        return -math.inf if text.startswith("-") else math.inf
    if _NAN.fullmatch(text):
        return math.nan
    return None


def _resolve_plain(text: str) -> Any:
    """YAML 1.2 core schema: what an untagged plain scalar means."""
    if not text:
        return None
    if text[0] not in _NON_STRING_START:
        return text
    if text in _NULLS:
        return None
    if text in _BOOLS:
        return _BOOLS[text]
    number: int | float | None = _to_int(text)
    if number is None:
        number = _to_float(text)
    return text if number is None else number


def _tag_name(tag: str) -> str:
    return "!!" + tag[len(_CORE) :] if tag.startswith(_CORE) else tag


def _unknown_tag(tag: str) -> _ScalarProblem:
    return _ScalarProblem(
        f"unknown tag {_tag_name(tag)!r}; storyboards use plain YAML values "
        "(text, numbers, true/false, null, lists, mappings) — remove the tag"
    )


def _resolve_tagged(tag: str, text: str) -> Any:
    """An explicitly tagged scalar: only the core schema's own tags are understood."""
    if tag == _STR:
        return text
    if tag == _NULL and text in _NULLS:
        return None
    if tag == _BOOL and text in _BOOLS:
        return _BOOLS[text]
    if tag == _INT:
        number = _to_int(text)
        if number is not None:
            return number
    if tag == _FLOAT:
        whole = _to_int(text)
        value = float(whole) if whole is not None else _to_float(text)
        if value is not None:
            return value
    if tag in (_NULL, _BOOL, _INT, _FLOAT):
        raise _ScalarProblem(
            f"{text!r} is not a valid {_tag_name(tag)} value; fix the value or remove the tag"
        )
    raise _unknown_tag(tag)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _join_surrogates(text: str) -> str:
    """JSON writes characters outside the BMP as escaped UTF-16 pairs; make them one."""
    try:
        return text.encode("utf-16", "surrogatepass").decode("utf-16")
    except UnicodeDecodeError as exc:
        raise _ScalarProblem(
            "a \\u escape is half of a UTF-16 surrogate pair with no other half; "
            "fix the escape or write the character itself"
        ) from exc


# -------------------------------------------------------------------------- nodes


class _Scalar:
    __slots__ = ("column", "line", "raw", "value")

    def __init__(self, value: Any, raw: str, line: int, column: int) -> None:
        self.value = value
        self.raw = raw
        self.line = line
        self.column = column


class _Collection:
    """A list or mapping; ``size`` is None while its events are still being read."""

    __slots__ = ("column", "height", "line", "size")

    def __init__(self, line: int, column: int) -> None:
        self.line = line
        self.column = column
        self.size: int | None = None
        self.height = 1


class _Seq(_Collection):
    __slots__ = ("items",)

    def __init__(self, line: int, column: int) -> None:
        super().__init__(line, column)
        self.items: list[_Node] = []


class _Map(_Collection):
    __slots__ = ("entries",)

    def __init__(self, line: int, column: int) -> None:
        super().__init__(line, column)
        self.entries: list[tuple[str, Position, _Node]] = []


class _Alias:
    __slots__ = ("column", "line", "target")

    def __init__(self, target: _Scalar | _Collection, line: int, column: int) -> None:
        self.target = target
        self.line = line
        self.column = column


_Node: TypeAlias = _Scalar | _Collection | _Alias


def _size(node: _Node) -> int:
    """Values this node stands for once every alias in it is expanded."""
    if isinstance(node, _Alias):
        node = node.target
    if isinstance(node, _Scalar):
        return 1
    assert node.size is not None
    return node.size


def _height(node: _Node) -> int:
    """Collection levels this node adds once every alias in it is expanded."""
    if isinstance(node, _Alias):
        node = node.target
    return 0 if isinstance(node, _Scalar) else node.height


class _Frame:
    """An open collection, and for a mapping the key waiting for its value."""

    __slots__ = ("key", "key_position", "node", "path", "seen")

    def __init__(self, node: _Seq | _Map, path: JsonPath) -> None:
        self.node = node
        self.path = path
        self.key: str | None = None
        self.key_position: Position = (0, 0)
        self.seen: dict[str, int] = {}


class _Parser(Protocol):
    def get_event(self) -> Event | None: ...


class _Stop(Exception):
    """A problem after which reading on would be pointless or unsafe."""


def _position(event: Event) -> Position:
    mark = event.start_mark
    return (1, 1) if mark is None else (mark.line + 1, mark.column + 1)


def _describe(node: _Node) -> str:
    if isinstance(node, _Alias):
        node = node.target
    return "a list" if isinstance(node, _Seq) else "a mapping"


class _Composer:
    """Turns one parser's events into nodes, checking bounds as each event arrives."""

    def __init__(self, file: str, limits: Limits) -> None:
        self.file = file
        self.limits = limits
        self.problems: list[Problem] = []
        self.anchors: dict[str, _Scalar | _Collection] = {}
        self.stack: list[_Frame] = []
        self.values = 0
        self.root: _Node | None = None

    # -- problems

    def _add(self, message: str, position: Position, path: JsonPath | None) -> None:
        json_path = "" if path is None else format_json_path(path)
        self.problems.append(Problem(message, SourceLocation(self.file, *position, json_path)))

    def _stop(self, message: str, position: Position, path: JsonPath) -> NoReturn:
        self._add(message, position, path)
        raise _Stop

    # -- the event loop

    def compose(self, parser: _Parser) -> _Node | None:
        get_event = parser.get_event
        get_event()  # StreamStartEvent
        event = get_event()
        if isinstance(event, StreamEndEvent) or event is None:
            return None
        assert isinstance(event, DocumentStartEvent)
        while True:
            event = get_event()
            kind = type(event)
            if kind is ScalarEvent:
                assert isinstance(event, ScalarEvent)
                self._attach(self._scalar(event))
            elif kind is MappingStartEvent or kind is SequenceStartEvent:
                assert isinstance(event, MappingStartEvent | SequenceStartEvent)
                self._open(event)
            elif kind is MappingEndEvent or kind is SequenceEndEvent:
                self._attach(self._close())
            elif kind is AliasEvent:
                assert isinstance(event, AliasEvent)
                self._attach(self._alias(event))
            else:  # DocumentEndEvent: nothing else can come inside a document
                break
        event = get_event()
        if isinstance(event, DocumentStartEvent):
            self._add(
                "a second YAML document starts here; one storyboard per file — "
                "remove this '---' or move what follows into its own file",
                _position(event),
                None,
            )
        return self.root

    def _child_path(self) -> JsonPath:
        if not self.stack:
            return ()
        frame = self.stack[-1]
        if isinstance(frame.node, _Seq):
            return (*frame.path, len(frame.node.items))
        if frame.key is None:
            return frame.path
        return (*frame.path, frame.key)

    def _at_key(self) -> bool:
        """Keys are not counted: a mapping's size is its values, as ``_close`` adds it up."""
        return (
            bool(self.stack)
            and isinstance(self.stack[-1].node, _Map)
            and (self.stack[-1].key is None)
        )

    def _count(self, amount: int, position: Position, path: JsonPath, *, alias: bool) -> None:
        self.values += amount
        if self.values <= self.limits.max_nodes:
            return
        limit = self.limits.max_nodes
        if alias:
            self._stop(
                f"aliases expand to more than {limit} values; storyboards do not need this "
                "many aliases — expand them by hand",
                position,
                path,
            )
        self._stop(
            f"the file holds more than {limit} values; that is far more than a storyboard "
            "or data file needs — split it into smaller files",
            position,
            path,
        )

    def _scalar(self, event: ScalarEvent) -> _Scalar:
        position = _position(event)
        path = self._child_path()
        if not self._at_key():
            self._count(1, position, path, alias=False)
        text = event.value
        try:
            if event.style == '"' and _SURROGATE.search(text):
                text = _join_surrogates(text)
            tag = event.tag
            if tag is None or tag == "!":
                plain = tag is None and event.implicit[0]
                value = _resolve_plain(text) if plain else text
            else:
                value = _resolve_tagged(tag, text)
        except _ScalarProblem as exc:
            self._add(str(exc), position, path)
            value = text
        node = _Scalar(value, text, *position)
        if event.anchor is not None:
            self.anchors[event.anchor] = node
        return node

    def _open(self, event: MappingStartEvent | SequenceStartEvent) -> None:
        position = _position(event)
        path = self._child_path()
        if len(self.stack) >= self.limits.max_depth:
            self._stop(
                f"lists and mappings nest more than {self.limits.max_depth} levels deep; "
                "a storyboard does not need this — flatten the structure",
                position,
                path,
            )
        self._count(1, position, path, alias=False)
        is_map = isinstance(event, MappingStartEvent)
        node: _Seq | _Map = _Map(*position) if is_map else _Seq(*position)
        if event.tag not in (None, "!", _MAP if is_map else _SEQ):
            assert event.tag is not None
            self._add(str(_unknown_tag(event.tag)), position, path)
        if event.anchor is not None:
            self.anchors[event.anchor] = node
        self.stack.append(_Frame(node, path))

    def _close(self) -> _Seq | _Map:
        frame = self.stack.pop()
        node = frame.node
        if isinstance(node, _Seq):
            children: Iterable[_Node] = node.items
        else:
            children = (value for _, _, value in node.entries)
        size = 1
        height = 0
        for child in children:
            size += _size(child)
            height = max(height, _height(child))
        node.size = size
        node.height = height + 1
        return node

    def _alias(self, event: AliasEvent) -> _Node:
        position = _position(event)
        path = self._child_path()
        name = event.anchor
        target = self.anchors.get(name) if name is not None else None
        if target is None:
            self._add(
                f"alias *{name} has no anchor; define '&{name}' on a value above this line",
                position,
                path,
            )
            return _Scalar(None, "", *position)
        if isinstance(target, _Collection) and target.size is None:
            self._add(
                f"alias *{name} is inside the value anchored as &{name}, so it would contain "
                "itself forever; copy the values you need instead",
                position,
                path,
            )
            return _Scalar(None, "", *position)
        self._count(_size(target), position, path, alias=True)
        if len(self.stack) + _height(target) > self.limits.max_depth:
            self._stop(
                f"alias *{name} nests lists and mappings more than {self.limits.max_depth} "
                "levels deep; a storyboard does not need this — flatten the structure",
                position,
                path,
            )
        return _Alias(target, *position)

    def _attach(self, node: _Node) -> None:
        if not self.stack:
            self.root = node
            return
        frame = self.stack[-1]
        if isinstance(frame.node, _Seq):
            frame.node.items.append(node)
        elif frame.key is None:
            frame.key = self._key_name(node, frame)
            frame.key_position = (node.line, node.column)
        else:
            frame.node.entries.append((frame.key, frame.key_position, node))
            frame.key = None

    def _key_name(self, node: _Node, frame: _Frame) -> str:
        """The key as a string; anything else is reported, then stood in for by its text."""
        position = (node.line, node.column)
        target = node.target if isinstance(node, _Alias) else node
        if not isinstance(target, _Scalar):
            self._add(
                f"a key must be a name, not {_describe(node)}; write a plain name before ':'",
                position,
                frame.path,
            )
            return f"<key at line {node.line}>"
        key, raw = target.value, target.raw
        if key is None:
            self._add(
                "this mapping has an empty key; write a name before ':'", position, frame.path
            )
            return raw
        if not isinstance(key, str):
            kind = "true/false" if isinstance(key, bool) else "a number"
            self._add(
                f"the key {raw} is read as {kind}, but keys are names; "
                f'write it in quotes ("{raw}")',
                position,
                frame.path,
            )
            return raw
        first_line = frame.seen.get(key)
        if first_line is None:
            frame.seen[key] = node.line
        else:
            self._add(
                f"duplicate key {key!r} (first defined at line {first_line}); remove one of them",
                position,
                (*frame.path, key),
            )
        return key


# ---------------------------------------------------------------------- building


def _build(root: _Node | None, file: str) -> LoadedDocument:
    """Plain data plus positions; every alias becomes its own copy, within the node budget."""
    values: dict[JsonPath, Position] = {}
    keys: dict[JsonPath, Position] = {}

    def build(node: _Node, path: JsonPath) -> Any:
        values[path] = (node.line, node.column)
        if isinstance(node, _Alias):
            node = node.target
        if isinstance(node, _Scalar):
            return node.value
        if isinstance(node, _Seq):
            return [build(item, (*path, index)) for index, item in enumerate(node.items)]
        assert isinstance(node, _Map)
        mapping: dict[str, Any] = {}
        for key, key_position, value in node.entries:
            child = (*path, key)
            keys[child] = key_position
            mapping[key] = build(value, child)
        return mapping

    if root is None:
        values[()] = (1, 1)
        data = None
    else:
        data = build(root, ())
    source_map = SourceMap(file, MappingProxyType(values), MappingProxyType(keys))
    return LoadedDocument(file=file, data=data, source_map=source_map)


# ------------------------------------------------------------------------ parsing

_NON_PRINTABLE = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)

_TABS = "indent with spaces, YAML does not allow tabs here"
_RESERVED = "a value starting with '@' or '`' must be put in quotes"
_LINE_UP = "the items of one mapping or list must line up; check the indentation"
# Looked up in this order in the parser's message (PyYAML's and libyaml's wordings differ).
_SYNTAX_HINTS: tuple[tuple[str, str], ...] = (
    ("tab", _TABS),
    ("mapping values are not allowed", "a value containing ': ' must be put in quotes"),
    ("could not find expected ':'", "write 'key: value', or close the quote that is open"),
    ("end of stream", "a quote or bracket is not closed"),
    ("block end", _LINE_UP),
    ("expected key", _LINE_UP),
    ("expected <document start>", _LINE_UP),
)
_CHARACTER_HINTS = {"\t": _TABS, "@": _RESERVED, "`": _RESERVED}
_DEFAULT_HINT = "check the indentation and quoting here and on the line above"


def _syntax_problem(exc: yaml.MarkedYAMLError, text: str, file: str) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    problem = (exc.problem or exc.context or "the YAML cannot be read").strip()
    message = f"invalid YAML: {problem}"
    context_mark = exc.context_mark
    if (
        exc.context
        and context_mark is not None
        and mark is not None
        and (context_mark.line != mark.line)
    ):
        message += f" ({exc.context.strip()} that starts at line {context_mark.line + 1})"
    hint = next((h for needle, h in _SYNTAX_HINTS if needle in problem), None)
    if mark is None:
        return _file_problem(file, f"{message}; {hint or _DEFAULT_HINT}")
    if hint is None:
        lines = text.splitlines()
        line = lines[mark.line] if mark.line < len(lines) else ""
        hint = _CHARACTER_HINTS.get(line[mark.column : mark.column + 1], _DEFAULT_HINT)
    return _file_problem(file, f"{message}; {hint}", (mark.line + 1, mark.column + 1))


def _offset_position(text: str, offset: int) -> Position:
    line_start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset) + 1, offset - line_start + 1


def _file_problem(file: str, message: str, position: Position = (1, 1)) -> Problem:
    """A problem with the file as a whole (or its raw text), so no JSON path is shown."""
    return Problem(message, SourceLocation(file, *position, ""))


def _too_big(file: str, limits: Limits) -> LoadError:
    size = describe_size(limits.max_bytes)
    return LoadError(
        [
            _file_problem(
                file,
                (
                    f"the file is larger than {size}; a storyboard is a small text file — "
                    "check that this is the right file"
                ),
            )
        ]
    )


class _PythonParser(yaml.SafeLoader):
    """PyYAML's own parser, skipping tabs between tokens where libyaml does too.

    Without this, tab-indented JSON (``json.dumps(indent="\\t")``) would load only when
    libyaml is present. Only the event stream is used; the loader's constructor never runs.
    """

    def scan_to_next_token(self) -> None:
        if self.index == 0 and self.peek() == "\ufeff":
            self.forward()
        while True:
            while self.peek() == " " or (
                self.peek() == "\t" and (self.flow_level or not self.allow_simple_key)
            ):
                self.forward()
            if self.peek() == "#":
                while self.peek() not in "\0\r\n\x85\u2028\u2029":
                    self.forward()
            if not self.scan_line_break():  # type: ignore[no-untyped-call]
                return
            if not self.flow_level:
                self.allow_simple_key = True


def _python_parser(text: str) -> _Parser:
    return _PythonParser(text)


def _fastest_parser() -> Callable[[str], _Parser]:
    try:
        from yaml._yaml import CParser
    except ImportError:  # PyYAML built without libyaml
        return _python_parser
    return CParser


_new_parser = _fastest_parser()


def _opens_past_bound(text: str, exc: yaml.MarkedYAMLError, limits: Limits) -> bool:
    """Whether the line the parser refused opens more lists and mappings than we allow.

    libyaml's scanner reads a line ahead of the composer (any ``[`` may start a key), and
    newer libyaml (PyYAML 6.0.4) refuses 1,000 open levels with words of its own before the
    composer has seen the 65th. Such a file is read again by the pure-Python parser, whose
    events reach the composer in time, so the user reads our bound and our message
    whatever limit (and wording) the installed libyaml has.
    """
    mark = exc.problem_mark or exc.context_mark
    if mark is None:
        return False
    lines = text.splitlines()
    line = lines[mark.line] if mark.line < len(lines) else ""
    return line.count("[") + line.count("{") > limits.max_depth


def _compose(
    text: str, file: str, limits: Limits, parser: Callable[[str], _Parser]
) -> _Node | None:
    composer = _Composer(file, limits)
    try:
        root = composer.compose(parser(text))
    except _Stop:
        raise LoadError(composer.problems) from None
    except yaml.MarkedYAMLError as exc:
        if parser is not _python_parser and _opens_past_bound(text, exc, limits):
            return _compose(text, file, limits, _python_parser)
        raise LoadError([*composer.problems, _syntax_problem(exc, text, file)]) from exc
    except yaml.YAMLError as exc:  # ReaderError and friends carry no line of their own
        message = f"invalid YAML: {exc}; save the file as plain UTF-8 text"
        raise LoadError([*composer.problems, _file_problem(file, message)]) from exc
    if composer.problems:
        raise LoadError(composer.problems)
    return root


def _load(text: str, file: str, limits: Limits) -> LoadedDocument:
    if text.startswith("\ufeff"):
        text = text[1:]
    bad = _NON_PRINTABLE.search(text)
    if bad is not None:
        message = (
            f"the character U+{ord(bad.group()):04X} is not allowed in YAML; remove it "
            '(write it as an escape like "\\x00" inside double quotes if needed)'
        )
        raise LoadError([_file_problem(file, message, _offset_position(text, bad.start()))])
    try:
        try:
            root = _compose(text, file, limits, _new_parser)
        except LoadError as exc:
            # libyaml rejects the escaped surrogate pairs json.dumps writes for emoji;
            # PyYAML's own scanner accepts them, and they are joined again afterwards.
            if _new_parser is _python_parser or not any(
                "invalid Unicode character escape" in p.message for p in exc.problems
            ):
                raise
            root = _compose(text, file, limits, _python_parser)
        return _build(root, file)
    except RecursionError as exc:
        message = "the file nests too deeply to read; flatten the structure"
        raise LoadError([_file_problem(file, message)]) from exc


# ------------------------------------------------------------------------ public


def load_text(text: str, file: str, *, limits: Limits = DEFAULT_LIMITS) -> LoadedDocument:
    """Load YAML (or JSON) text; ``file`` is only the name shown in messages."""
    if len(text) > limits.max_bytes or (
        len(text) * 4 > limits.max_bytes
        and len(text.encode("utf-8", "surrogatepass")) > limits.max_bytes
    ):
        raise _too_big(file, limits)
    return _load(text, file, limits)


def load_file(
    path: str | os.PathLike[str],
    *,
    display: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> LoadedDocument:
    """Load a YAML or JSON file; never reads more than ``limits.max_bytes`` + 1 bytes."""
    name = os.fspath(path) if display is None else display
    try:
        raw = read_limited(path, limits.max_bytes, kind="YAML file")
    except TooLarge:
        raise _too_big(name, limits) from None
    except Unreadable as exc:
        raise LoadError([Problem(f"{name}: {exc}")]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        prefix = raw[: exc.start].decode("utf-8", "replace")
        message = (
            f"the file is not valid UTF-8 (byte 0x{raw[exc.start]:02x}); "
            "save it with UTF-8 encoding"
        )
        position = _offset_position(prefix, len(prefix))
        raise LoadError([_file_problem(name, message, position)]) from None
    return _load(text, name, limits)

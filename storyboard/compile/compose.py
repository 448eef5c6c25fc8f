"""Composing PyYAML's event stream into values and a source map, within bounds.

Depth is checked before a collection is opened (libyaml's own composer recurses in C),
and the values aliases expand to are counted from memoized subtree sizes, so a
billion-laughs document is refused after one read, without expanding anything.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NoReturn, Protocol

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

from storyboard.compile.yaml_nodes import (
    DEFAULT_LIMITS,
    Alias,
    Collection,
    Limits,
    LoadedDocument,
    Map,
    Node,
    Scalar,
    Seq,
    build_document,
    describe,
    height,
    size,
)
from storyboard.compile.yaml_scalars import (
    _MAP,
    _SEQ,
    _SURROGATE,
    _join_surrogates,
    _resolve_plain,
    _resolve_tagged,
    _ScalarProblem,
    _unknown_tag,
)
from storyboard.errors import Problem, SourceLocation
from storyboard.source import JsonPath, Position, format_json_path


class _Frame:
    """An open collection, and for a mapping the key waiting for its value."""

    __slots__ = ("key", "key_position", "node", "path", "seen")

    def __init__(self, node: Seq | Map, path: JsonPath) -> None:
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


class _Composer:
    """Turns one parser's events into nodes, checking bounds as each event arrives."""

    def __init__(self, file: str, limits: Limits) -> None:
        self.file = file
        self.limits = limits
        self.problems: list[Problem] = []
        self.anchors: dict[str, Scalar | Collection] = {}
        self.stack: list[_Frame] = []
        self.values = 0
        self.root: Node | None = None

    # -- problems

    def _add(self, message: str, position: Position, path: JsonPath | None) -> None:
        json_path = "" if path is None else format_json_path(path)
        self.problems.append(Problem(message, SourceLocation(self.file, *position, json_path)))

    def _stop(self, message: str, position: Position, path: JsonPath) -> NoReturn:
        self._add(message, position, path)
        raise _Stop

    # -- the event loop

    def compose(self, parser: _Parser) -> Node | None:
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
        if isinstance(frame.node, Seq):
            return (*frame.path, len(frame.node.items))
        if frame.key is None:
            return frame.path
        return (*frame.path, frame.key)

    def _at_key(self) -> bool:
        """Keys are not counted: a mapping's size is its values, as ``_close`` adds it up."""
        return (
            bool(self.stack)
            and isinstance(self.stack[-1].node, Map)
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

    def _scalar(self, event: ScalarEvent) -> Scalar:
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
        node = Scalar(value, text, *position)
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
        node: Seq | Map = Map(*position) if is_map else Seq(*position)
        if event.tag not in (None, "!", _MAP if is_map else _SEQ):
            assert event.tag is not None
            self._add(str(_unknown_tag(event.tag)), position, path)
        if event.anchor is not None:
            self.anchors[event.anchor] = node
        self.stack.append(_Frame(node, path))

    def _close(self) -> Seq | Map:
        frame = self.stack.pop()
        node = frame.node
        if isinstance(node, Seq):
            children: Iterable[Node] = node.items
        else:
            children = (value for _, _, value in node.entries)
        total = 1
        tallest = 0
        for child in children:
            total += size(child)
            tallest = max(tallest, height(child))
        node.size = total
        node.height = tallest + 1
        return node

    def _alias(self, event: AliasEvent) -> Node:
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
            return Scalar(None, "", *position)
        if isinstance(target, Collection) and target.size is None:
            self._add(
                f"alias *{name} is inside the value anchored as &{name}, so it would contain "
                "itself forever; copy the values you need instead",
                position,
                path,
            )
            return Scalar(None, "", *position)
        self._count(size(target), position, path, alias=True)
        if len(self.stack) + height(target) > self.limits.max_depth:
            self._stop(
                f"alias *{name} nests lists and mappings more than {self.limits.max_depth} "
                "levels deep; a storyboard does not need this — flatten the structure",
                position,
                path,
            )
        return Alias(target, *position)

    def _attach(self, node: Node) -> None:
        if not self.stack:
            self.root = node
            return
        frame = self.stack[-1]
        if isinstance(frame.node, Seq):
            frame.node.items.append(node)
        elif frame.key is None:
            frame.key = self._key_name(node, frame)
            frame.key_position = (node.line, node.column)
        else:
            frame.node.entries.append((frame.key, frame.key_position, node))
            frame.key = None

    def _key_name(self, node: Node, frame: _Frame) -> str:
        """The key as a string; anything else is reported, then stood in for by its text."""
        position = (node.line, node.column)
        target = node.target if isinstance(node, Alias) else node
        if not isinstance(target, Scalar):
            self._add(
                f"a key must be a name, not {describe(node)}; write a plain name before ':'",
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


__all__ = ["DEFAULT_LIMITS", "Limits", "LoadedDocument", "Node", "build_document"]

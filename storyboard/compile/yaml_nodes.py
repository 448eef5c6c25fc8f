"""What composing a YAML document makes: bounded limits, the nodes (with the sizes and
heights aliases expand to), and the plain data with its source map built from them."""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, TypeAlias

from storyboard.source import JsonPath, Position, SourceMap

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
    """A YAML file's plain data, with where each value and key was written."""

    file: str
    data: Any
    source_map: SourceMap


class Scalar:
    __slots__ = ("column", "line", "raw", "value")

    def __init__(self, value: Any, raw: str, line: int, column: int) -> None:
        self.value = value
        self.raw = raw
        self.line = line
        self.column = column


class Collection:
    """A list or mapping; ``size`` is None while its events are still being read."""

    __slots__ = ("column", "height", "line", "size")

    def __init__(self, line: int, column: int) -> None:
        self.line = line
        self.column = column
        self.size: int | None = None
        self.height = 1


class Seq(Collection):
    __slots__ = ("items",)

    def __init__(self, line: int, column: int) -> None:
        super().__init__(line, column)
        self.items: list[Node] = []


class Map(Collection):
    __slots__ = ("entries",)

    def __init__(self, line: int, column: int) -> None:
        super().__init__(line, column)
        self.entries: list[tuple[str, Position, Node]] = []


class Alias:
    __slots__ = ("column", "line", "target")

    def __init__(self, target: Scalar | Collection, line: int, column: int) -> None:
        self.target = target
        self.line = line
        self.column = column


Node: TypeAlias = Scalar | Collection | Alias


def size(node: Node) -> int:
    """Values this node stands for once every alias in it is expanded."""
    if isinstance(node, Alias):
        node = node.target
    if isinstance(node, Scalar):
        return 1
    assert node.size is not None
    return node.size


def height(node: Node) -> int:
    """Collection levels this node adds once every alias in it is expanded."""
    if isinstance(node, Alias):
        node = node.target
    return 0 if isinstance(node, Scalar) else node.height


def describe(node: Node) -> str:
    if isinstance(node, Alias):
        node = node.target
    return "a list" if isinstance(node, Seq) else "a mapping"


def build_document(root: Node | None, file: str) -> LoadedDocument:
    """Plain data plus positions; every alias becomes its own copy, within the node budget."""
    values: dict[JsonPath, Position] = {}
    keys: dict[JsonPath, Position] = {}

    def build(node: Node, path: JsonPath) -> Any:
        values[path] = (node.line, node.column)
        if isinstance(node, Alias):
            node = node.target
        if isinstance(node, Scalar):
            return node.value
        if isinstance(node, Seq):
            return [build(item, (*path, index)) for index, item in enumerate(node.items)]
        assert isinstance(node, Map)
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

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

import os
import re
from collections.abc import Callable

import yaml

from storyboard.compile.compose import (
    DEFAULT_LIMITS,
    Limits,
    LoadedDocument,
    Node,
    _Composer,
    _Parser,
    _Stop,
    build_document,
)
from storyboard.errors import LoadError, Problem, SourceLocation
from storyboard.files import TooLarge, Unreadable, describe_size, read_limited
from storyboard.source import Position

__all__ = [
    "DEFAULT_LIMITS",
    "Limits",
    "LoadedDocument",
    "load_file",
    "load_text",
]


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
) -> Node | None:
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
        return build_document(root, file)
    except RecursionError as exc:
        message = "the file nests too deeply to read; flatten the structure"
        raise LoadError([_file_problem(file, message)]) from exc


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

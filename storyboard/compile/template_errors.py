"""A template's failure as a problem a person can act on: at the line of the storyboard
where the template went wrong, in words rather than Python's names for things."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from functools import lru_cache
from types import TracebackType
from typing import Any

import jinja2
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from storyboard.compile.template_bounds import TemplateRenderError
from storyboard.errors import Problem, SourceLocation
from storyboard.model import Text

TEMPLATE_NAME = "<template>"  # the filename Jinja2 gives templates made from strings
_JINJA_GLOBALS = frozenset(SandboxedEnvironment().globals)
_UNDEFINED = re.compile(r"'([^']+)' is undefined")


def compile_problem(exc: Exception, text: Text) -> Problem:
    """A template that cannot be compiled, at its line when Jinja2 knows it."""
    if isinstance(exc, jinja2.TemplateSyntaxError):
        return Problem(f"template syntax error: {exc.message}",
                       _line_in(text.location, exc.lineno or 1))
    if isinstance(exc, SecurityError):
        return Problem(f"template blocked by the sandbox: {str(exc).rstrip('.')}",
                       text.location)
    if isinstance(exc, RecursionError):
        return Problem("the template nests too deeply to compile; flatten it", text.location)
    return Problem(f"template cannot be compiled: {_in_words(exc)}; simplify it",
                   text.location)


def render_problem(exc: BaseException, text: Text, context: Mapping[str, Any]) -> Problem:
    """The problem, without the variant: ``ProblemCollector`` names the variants."""
    lineno = _template_lineno(exc.__traceback__)
    location = _line_in(text.location, lineno)
    names = ", ".join(sorted(k for k in context
                             if not k.startswith("_") and k not in _JINJA_GLOBALS))
    if isinstance(exc, jinja2.UndefinedError):
        message = str(exc.message or exc)
        if "unsafe" in message:
            return Problem(f"template blocked by the sandbox: {message.rstrip('.')}", location)
        found = _UNDEFINED.search(message)
        if found:
            return Problem(
                f"undefined variable '{found.group(1)}'; defined names: {names}", location)
        return Problem(f"{message}; defined names: {names}", location)
    if isinstance(exc, TemplateRenderError):
        return Problem(str(exc), location)
    if isinstance(exc, SecurityError):
        return Problem(f"template blocked by the sandbox: {str(exc).rstrip('.')}", location)
    if isinstance(exc, jinja2.TemplateNotFound):
        return Problem(f"template include not found: {exc.message}; paths are relative to "
                       "the storyboard's folder", location)
    if isinstance(exc, jinja2.TemplateSyntaxError):
        where = f" in {exc.name}" if exc.name else ""
        return Problem(f"template syntax error{where}: {exc.message}", location)
    if isinstance(exc, RecursionError):
        return Problem("the template calls itself too deeply (a macro or include that "
                       "calls itself?); give the recursion an end", location)
    return Problem(f"template failed: {_in_words(exc)}", location)


def _in_words(exc: BaseException) -> str:
    """Why an expression failed, without Python's names for it."""
    if isinstance(exc, TypeError):  # its text names Python types: 'int' and 'str'
        return ("an operation on values of the wrong kind (text where a number is needed, "
                "or the reverse)")
    if isinstance(exc, OverflowError):
        return "a number too large to compute"
    return str(exc).strip() or "the expression cannot be computed"


def _template_lineno(tb: TracebackType | None) -> int:
    """The line inside the template text where rendering failed (Jinja2 rewrites frames)."""
    line = 1
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == TEMPLATE_NAME:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _line_in(location: SourceLocation, lineno: int) -> SourceLocation:
    """The file line of the template's ``lineno``-th line (block scalars start a line later)."""
    if lineno <= 1:
        return location
    block = _starts_block_scalar(location)
    return SourceLocation(location.file, location.line + lineno - (0 if block else 1),
                          1, location.json_path)


def _starts_block_scalar(location: SourceLocation) -> bool:
    lines = _lines(location.file)
    if 0 < location.line <= len(lines):
        return lines[location.line - 1][location.column - 1:].lstrip()[:1] in ("|", ">")
    return False


def _lines(file: str) -> tuple[str, ...]:
    """A storyboard's lines, read once however many template errors it has."""
    try:
        stat = os.stat(file)
    except OSError:
        return ()
    return _read_lines(os.path.abspath(file), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=8)
def _read_lines(path: str, mtime_ns: int, size: int) -> tuple[str, ...]:
    try:
        with open(path, encoding="utf-8") as f:
            return tuple(f)
    except (OSError, UnicodeDecodeError):
        return ()

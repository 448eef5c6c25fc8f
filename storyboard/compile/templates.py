"""The template engine: each distinct template text compiled once (Jinja2's sandbox,
``StrictUndefined``, bounded by ``template_bounds``) and rendered with clear errors."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import meta, nodes
from jinja2.loaders import split_template_path
from jinja2.sandbox import SandboxedEnvironment

from storyboard.compile.engines import is_template
from storyboard.compile.template_bounds import MAX_SOURCE, BoundedEnvironment, Budget, Exhausted
from storyboard.compile.template_errors import compile_problem, render_problem
from storyboard.errors import Problem, TemplateError
from storyboard.files import Unreadable, read_limited
from storyboard.model import Text


class _RootedLoader(jinja2.BaseLoader):
    """Includes and imports: files inside the storyboard's folder (symlinks resolved),
    each at most ``MAX_SOURCE`` bytes."""

    def __init__(self, root: Path) -> None:
        self._root = root.resolve()

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        path = self._root.joinpath(*split_template_path(template))
        resolved = path.resolve()
        if not resolved.is_relative_to(self._root):
            raise jinja2.TemplateNotFound(
                f"{template} (includes and imports must stay inside {self._root})")
        if not resolved.is_file():
            raise jinja2.TemplateNotFound(template)
        try:
            data = read_limited(resolved, MAX_SOURCE, kind="template include")
            source = data.decode("utf-8")
        except Unreadable as exc:
            raise Exhausted(f"include '{template}': {exc}") from None
        except UnicodeDecodeError:
            raise Exhausted(f"include '{template}' is not UTF-8 text; save it as UTF-8") \
                from None
        return source, str(path), lambda: True


@dataclass(frozen=True, slots=True)
class _Compiled:
    """A compiled template, and the variables it reads (when it can be memoised)."""

    template: jinja2.Template
    names: tuple[str, ...] | None  # the variables it reads, when its output depends on
    #                                nothing else (no include/import), so it can be memoised


_UNMEMOISABLE = (nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends)
_MISSING = object()
MAX_MEMO = 200_000  # rendered strings kept per storyboard
MAX_MEMO_CHARS = 20_000_000  # and their characters


@dataclass
class TemplateEngine:
    """Compiles each distinct template text once and renders it with clear errors.

    Templates are pure functions of the variables they read (the sandbox is immutable and
    the non-deterministic ``random`` filter and ``lipsum`` are removed — a storyboard
    compiles to the same requests every time), so a template that reads only ``format``
    and ``product`` renders once per distinct pair, not once per variant. For the same
    reason a template that ran past a bound fails the same way for every variant, so it
    runs once. All renders share one ``Budget`` (see ``template_bounds``).
    """

    root: Path
    budget: Budget = field(default_factory=Budget)
    _env: SandboxedEnvironment = field(init=False)
    _compiled: dict[str, _Compiled | Problem | None] = field(default_factory=dict,
                                                             init=False)
    _globals: dict[str, Any] = field(default_factory=dict, init=False)
    _memo: dict[tuple[Any, ...], str | Problem] = field(default_factory=dict, init=False)
    _memo_chars: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self._env = BoundedEnvironment(
            self.budget,
            undefined=jinja2.StrictUndefined,
            autoescape=False,
            loader=_RootedLoader(self.root),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._globals = dict(self._env.globals)

    def compile(self, text: Text) -> _Compiled | None:
        """The compiled template, or ``None`` for a plain string with no template syntax."""
        source = text.source
        found = self._compiled.get(source, _MISSING)
        if isinstance(found, Problem):
            raise TemplateError([found])
        if found is not _MISSING:
            return found  # type: ignore[return-value]
        compiled: _Compiled | None = None
        if is_template(source):
            try:
                self.budget.start()
                tree = self._env.parse(source)
                names = (None if any(True for _ in tree.find_all(_UNMEMOISABLE))
                         else tuple(sorted(_undeclared(tree))))
                compiled = _Compiled(self._env.from_string(tree), names)
            except Exception as exc:
                problem = compile_problem(exc, text)
                self._compiled[source] = problem
                raise TemplateError([problem]) from None
        self._compiled[source] = compiled
        return compiled

    def context(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """A render context: Jinja2's globals (range, dict, …) and then ``values``."""
        return {**self._globals, **values}

    def render(self, text: Text, context: dict[str, Any]) -> str:
        """Render ``text`` with a context made by ``context()``."""
        compiled = self.compile(text)
        if compiled is None:
            return text.source
        key = None
        if compiled.names is not None:
            try:
                key = (text.source, *(_frozen(context.get(n, _MISSING)) for n in compiled.names))
                hit = self._memo.get(key)
            except TypeError:  # a value that cannot be a key: render it every time
                key = hit = None
            if isinstance(hit, Problem):
                raise TemplateError([hit])
            if hit is not None:
                return hit
        template = compiled.template
        try:
            try:
                self.budget.start()
                # Template.render() copies the environment's globals (a ChainMap) into a
                # fresh context on every call; contexts made by context() already hold
                # them, so a shared context is the same render at a third less cost.
                ctx = template.new_context(context, shared=True)
                rendered: str = self._env.concat(template.root_render_func(ctx))
            except Exception:
                self._env.handle_exception()  # re-raises with template line numbers
                raise
        except Exception as exc:  # jinja2 and user-code errors all become one problem
            problem = render_problem(exc, text, context)
            if key is not None and isinstance(exc, Exhausted):
                self._memo[key] = problem
            raise TemplateError([problem]) from None
        if key is not None and len(self._memo) < MAX_MEMO \
                and self._memo_chars + len(rendered) <= MAX_MEMO_CHARS:
            self._memo[key] = rendered
            self._memo_chars += len(rendered)
        return rendered


def _undeclared(tree: nodes.Template) -> set[str]:
    """``meta.find_undeclared_variables`` without its constant folding: no expression is
    evaluated before it is rendered, under the bounds (``{{ (1.5)[0] or 1 }}`` would
    otherwise fail inside the compiler)."""
    codegen = meta.TrackingCodeGenerator(tree.environment)  # type: ignore[arg-type]
    codegen.optimizer = None
    codegen.visit(tree)
    return codegen.undeclared_identifiers


def _frozen(value: Any) -> Any:
    """A hashable stand-in for a context value (variant and clip objects are dicts); the
    type goes into it so 1, 1.0 and True stay different keys."""
    if isinstance(value, dict):
        return (dict, tuple((k, _frozen(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return (type(value), tuple(_frozen(v) for v in value))
    return (type(value), value)

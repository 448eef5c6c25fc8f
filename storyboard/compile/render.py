"""Render every template of a storyboard for each variant.

Templates run in Jinja2's ``SandboxedEnvironment`` with ``StrictUndefined``: an
unknown name is an error at the template's line, never an empty string in a paid
prompt. Each distinct template text is compiled once per storyboard and rendered
per variant. Values that come from data (matrix values, CSV cells) enter only as
context, so they are never rendered as templates themselves. ``{% include %}`` and
``{% import %}`` resolve inside the storyboard's folder and cannot leave it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import TracebackType
from typing import Any

import jinja2
from jinja2 import meta, nodes
from jinja2.exceptions import SecurityError
from jinja2.loaders import split_template_path
from jinja2.sandbox import SandboxedEnvironment

from storyboard.compile.template_bounds import (
    MAX_SOURCE,
    BoundedEnvironment,
    Budget,
    Exhausted,
    TemplateRenderError,
)
from storyboard.compile.template_sizes import weight
from storyboard.errors import Problem, ProblemCollector, SourceLocation, TemplateError
from storyboard.files import Unreadable, read_limited
from storyboard.model import (
    ClipSpec,
    RenderedClip,
    Setting,
    Shot,
    Storyboard,
    Text,
    Value,
    Variant,
)

TEMPLATE_MARKERS = ("{{", "{%", "{#")
TEMPLATE_NAME = "<template>"  # the filename Jinja2 gives templates made from strings
DEFAULT_SETTINGS = {"mode": "pro", "aspect_ratio": "16:9", "sound": "off"}
_JINJA_GLOBALS = frozenset(SandboxedEnvironment().globals)
_UNDEFINED = re.compile(r"'([^']+)' is undefined")
_PARAGRAPHS = re.compile(r"\n[ \t]*\n\s*")


def fold(text: str) -> str:
    """One clean line per paragraph: block scalars and template whitespace folded."""
    return "\n".join(" ".join(p.split()) for p in _PARAGRAPHS.split(text) if p.strip())


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
    template: jinja2.Template
    names: tuple[str, ...] | None  # the variables it reads, when its output depends on
    #                                nothing else (no include/import), so it can be memoised


_UNMEMOISABLE = (nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends)
_MISSING = object()
MAX_MEMO = 200_000  # rendered strings kept per storyboard
MAX_MEMO_CHARS = 20_000_000  # and their characters
MAX_VARS_HELD = 2_000_000  # characters all vars of one variant render to


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
        if any(marker in source for marker in TEMPLATE_MARKERS):
            try:
                self.budget.start()
                tree = self._env.parse(source)
                names = (None if any(True for _ in tree.find_all(_UNMEMOISABLE))
                         else tuple(sorted(_undeclared(tree))))
                compiled = _Compiled(self._env.from_string(tree), names)
            except Exception as exc:
                problem = _compile_problem(exc, text)
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
            problem = _problem(exc, text, context)
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


def _compile_problem(exc: Exception, text: Text) -> Problem:
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


def _frozen(value: Any) -> Any:
    """A hashable stand-in for a context value (variant and clip objects are dicts); the
    type goes into it so 1, 1.0 and True stay different keys."""
    if isinstance(value, dict):
        return (dict, tuple((k, _frozen(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return (type(value), tuple(_frozen(v) for v in value))
    return (type(value), value)


def _problem(exc: BaseException, text: Text, context: Mapping[str, Any]) -> Problem:
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


# ----------------------------------------------------------------------------------------


class Renderer:
    """Renders one storyboard's clips for a variant; shares compiled templates across variants."""

    def __init__(self, storyboard: Storyboard, engine: TemplateEngine | None = None) -> None:
        self.storyboard = storyboard
        self.engine = engine or TemplateEngine(Path(storyboard.root))
        self._texts: dict[tuple[str | int, ...], Text] = {}  # var strings, located once
        self._clip_origins: dict[int, Mapping[str, SourceLocation]] = {}

    def render_variant(self, variant: Variant) -> tuple[RenderedClip, ...]:
        sb = self.storyboard
        context = self.engine.context(variant.values)
        context["variant"] = {**variant.values, "id": variant.id}
        held = 0
        for var in sb.vars:
            value = context[var.name] = self._render_value(var.value, var.path, context)
            held += weight(value)
            if held > MAX_VARS_HELD:  # each is bounded; a thousand of them must be too
                raise TemplateError([Problem(
                    f"the vars of one variant render to over {MAX_VARS_HELD:,} characters "
                    "in all; shorten them", sb.source_map.locate(var.path))])
        defaults = {name: self._setting(s, context) for name, s in sb.defaults.items()}
        clips: list[RenderedClip] = []
        problems: list[Problem] = []
        for clip in sb.clips:  # every clip's problems, not only the first clip's
            try:
                clips.append(self._clip(clip, context, defaults, variant.id))
            except TemplateError as exc:
                problems.extend(exc.problems)
        if problems:
            raise TemplateError(problems)
        return tuple(clips)

    def _render_value(self, value: Any, path: tuple[str | int, ...],
                      context: dict[str, Any]) -> Any:
        if isinstance(value, str):
            text = self._texts.get(path)
            if text is None:
                text = self._texts[path] = Text(value, self.storyboard.source_map.locate(path))
            return self.engine.render(text, context)
        if isinstance(value, list):
            return [self._render_value(v, (*path, i), context)
                    for i, v in enumerate(value)]
        if isinstance(value, dict):
            return {k: self._render_value(v, (*path, k), context)
                    for k, v in value.items()}
        return value

    def _setting(self, setting: Setting, context: dict[str, Any]) -> Any:
        if isinstance(setting, Value):
            value = setting.value
            if isinstance(value, bool):  # sound: true/false
                value = "on" if value else "off"
            return value
        return self.engine.render(setting, context).strip()

    def _origins(self, clip: ClipSpec) -> Mapping[str, SourceLocation]:
        """Where each API setting of a clip comes from: the same for every variant."""
        found = self._clip_origins.get(clip.index)
        if found is None:
            found = {name: (clip.settings[name].location if name in clip.settings
                            else self.storyboard.defaults[name].location
                            if name in self.storyboard.defaults else clip.location)
                     for name in DEFAULT_SETTINGS}
            if clip.duration is not None:
                found["duration"] = clip.duration.location
            self._clip_origins[clip.index] = found
        return found

    def _clip(self, clip: ClipSpec, context: dict[str, Any],
              defaults: Mapping[str, Any], variant: str) -> RenderedClip:
        # the variant's context is reused for each clip and shot (templates cannot change
        # it): "clip" and "shot" are set here and removed again before returning
        context["clip"] = {"id": clip.id, "index": clip.index, "number": clip.index + 1}
        context.pop("shot", None)
        values = [self._setting(clip.settings[name], context) if name in clip.settings
                  else defaults.get(name, fallback)
                  for name, fallback in DEFAULT_SETTINGS.items()]
        duration = None
        if clip.duration is not None:
            duration = self._seconds(clip.duration, context)
        shots = []
        for number, spec in enumerate(clip.shots):
            context["shot"] = {"index": number, "number": number + 1, "count": len(clip.shots)}
            shots.append(Shot(
                prompt=fold(self.engine.render(spec.prompt, context)),
                duration=(self._seconds(spec.duration, context)
                          if spec.duration is not None else None),
                weight=spec.weight,
                location=spec.location,
                caption=self._caption(spec.caption, context),
            ))
        context.pop("shot", None)
        prompt = ""
        prompt_location = clip.location
        if clip.prompt is not None:
            prompt = fold(self.engine.render(clip.prompt, context))
            prompt_location = clip.prompt.location
        mode, aspect_ratio, sound = values
        return RenderedClip(
            variant=variant, clip=clip.id, kind=clip.kind, prompt=prompt, duration=duration,
            mode=mode, aspect_ratio=aspect_ratio, sound=sound,
            shots=tuple(shots), location=clip.location, prompt_location=prompt_location,
            origins=self._origins(clip), caption=self._caption(clip.caption, context),
            candidates=(clip.candidates if clip.candidates is not None
                        else self.storyboard.candidates),
        )

    def _caption(self, caption: Text | None, context: dict[str, Any]) -> str | None:
        """A caption as it will read on screen: folded like prompts; empty is none."""
        if caption is None:
            return None
        return fold(self.engine.render(caption, context)) or None

    def _seconds(self, setting: Setting, context: dict[str, Any]) -> int:
        if isinstance(setting, Value):
            return int(setting.value)
        rendered = self.engine.render(setting, context).strip()
        if not (rendered.isascii() and rendered.isdigit()):  # int() takes "1_0", other digits
            raise TemplateError([Problem(
                f"duration rendered to {rendered!r}; it must be a whole number of seconds",
                setting.location)])
        seconds = int(rendered)
        if seconds < 1:
            raise TemplateError([Problem(
                f"duration rendered to {seconds}; it must be at least 1",
                setting.location)])
        return seconds


def render_all(storyboard: Storyboard, variants: tuple[Variant, ...],
               engine: TemplateEngine | None = None) -> Iterator[RenderedClip]:
    """Rendered clips in storyboard order, variant by variant; all problems at once
    (until the templates' shared deadline passes: then the problems so far)."""
    renderer = Renderer(storyboard, engine)
    collector = ProblemCollector()
    for variant in variants:
        try:
            clips = renderer.render_variant(variant)
        except TemplateError as exc:
            collector.extend(exc.problems, variant.id if storyboard.variants else None)
            if renderer.engine.budget.expired:
                break
            continue
        if not collector:
            yield from clips
    if collector:
        raise TemplateError(collector.problems())


__all__ = ["Renderer", "TemplateEngine", "fold", "render_all"]

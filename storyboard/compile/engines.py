"""Which engine renders a storyboard's strings.

Most storyboards use templates, and get ``templates.TemplateEngine`` (Jinja2, sandboxed
and bounded). One with no template syntax anywhere gets ``PlainStrings``, which gives
each string back as written, exactly as the template engine does for such a string,
without loading Jinja2: ``storyboard validate`` runs on every commit (issue 9).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from storyboard.model import Storyboard, Text

if TYPE_CHECKING:
    from storyboard.compile.templates import TemplateEngine

TEMPLATE_MARKERS = ("{{", "{%", "{#")


class Budgeted(Protocol):
    @property
    def expired(self) -> bool: ...


class Engine(Protocol):
    """What the variant expander and the renderer ask of an engine."""

    @property
    def budget(self) -> Budgeted: ...

    def context(self, values: Mapping[str, Any]) -> dict[str, Any]: ...

    def render(self, text: Text, context: dict[str, Any]) -> str: ...


class _NoDeadline:
    expired = False  # nothing is rendered, so nothing runs out of time


class PlainStrings:
    """The engine of a storyboard without templates: every string renders to itself."""

    budget = _NoDeadline()

    def context(self, values: Mapping[str, Any]) -> dict[str, Any]:
        return dict(values)

    def render(self, text: Text, context: dict[str, Any]) -> str:
        return text.source


def engine_for(storyboard: Storyboard) -> Engine:
    """The template engine, unless no string of the storyboard is a template."""
    if not any(is_template(s) for s in _strings(storyboard)):
        return PlainStrings()
    from storyboard.compile.templates import TemplateEngine

    engine: TemplateEngine = TemplateEngine(Path(storyboard.root))
    return engine


def is_template(text: str) -> bool:
    return any(marker in text for marker in TEMPLATE_MARKERS)


def _strings(sb: Storyboard) -> Iterator[str]:
    """Every string the engine may be asked to render: vars (strings nested anywhere in
    them), defaults, the variant id, and each clip's and shot's texts and settings."""
    for var in sb.vars:
        yield from _nested(var.value)
    yield from _settings(sb.defaults.values())
    if sb.variants is not None and sb.variants.id is not None:
        yield sb.variants.id.source
    for clip in sb.clips:
        yield from _settings([clip.prompt, clip.duration, clip.caption,
                              *clip.settings.values()])
        for shot in clip.shots:
            yield from _settings([shot.prompt, shot.duration, shot.caption])


def _settings(settings: Any) -> Iterator[str]:
    for setting in settings:
        if isinstance(setting, Text):
            yield setting.source


def _nested(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _nested(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _nested(item)

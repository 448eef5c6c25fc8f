"""Render every template of a storyboard for each variant.

Templates run in Jinja2's ``SandboxedEnvironment`` with ``StrictUndefined``: an
unknown name is an error at the template's line, never an empty string in a paid
prompt. Each distinct template text is compiled once per storyboard and rendered
per variant. Values that come from data (matrix values, CSV cells) enter only as
context, so they are never rendered as templates themselves. ``{% include %}`` and
``{% import %}`` resolve inside the storyboard's folder and cannot leave it.
The engine is in ``templates`` (or ``engines.PlainStrings`` for a storyboard without any
template); the wording of its failures in ``template_errors``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from storyboard.compile.engines import Engine
from storyboard.compile.sizes import weight
from storyboard.errors import Problem, ProblemCollector, SourceLocation, TemplateError
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

DEFAULT_SETTINGS = {"mode": "pro", "aspect_ratio": "16:9", "sound": "off"}
MAX_VARS_HELD = 2_000_000  # characters all vars of one variant render to
_PARAGRAPHS = re.compile(r"\n[ \t]*\n\s*")


def fold(text: str) -> str:
    """One clean line per paragraph: block scalars and template whitespace folded."""
    return "\n".join(" ".join(p.split()) for p in _PARAGRAPHS.split(text) if p.strip())


class Renderer:
    """Renders one storyboard's clips for a variant; shares compiled templates across variants."""

    def __init__(self, storyboard: Storyboard, engine: Engine | None = None) -> None:
        self.storyboard = storyboard
        if engine is None:
            from storyboard.compile.templates import TemplateEngine

            engine = TemplateEngine(Path(storyboard.root))
        self.engine: Engine = engine
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
               engine: Engine | None = None) -> Iterator[RenderedClip]:
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


def __getattr__(name: str) -> Any:
    """``TemplateEngine`` stays importable from here, loaded (with Jinja2) on first use."""
    if name == "TemplateEngine":
        from storyboard.compile.templates import TemplateEngine

        return TemplateEngine
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Renderer", "fold", "render_all"]

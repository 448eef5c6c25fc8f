"""A variant's final cut as a plan: which renders, in what order, for how long, joined how.

Pure and compile-side: it needs no video library and no file, so ``plan`` can show a
variant's runtime before anything is paid, and the assembler, the review page and
the candidates' picks all read the same figures from one place.

Times are exact fractions of a second. ``layout`` is the one function that turns clip
lengths and transitions into start times and a runtime; the plan calls it with the
requested seconds, the assembler with the lengths it measured in the files.

* A **crossfade** of *d* seconds overlaps the two clips by *d*: the cut gets *d* shorter.
* A **fade** of *d* seconds fades the first clip to black over its last *d*/2 and the
  next one in over its first *d*/2: no overlap.
* **Takes** of one clip follow each other with plain cuts (they are one clip the
  model's limits split).
* A caption lasts from the **boundary** before its clip to the one after it: a plain
  cut's frame, the middle of a crossfade, the black point of a fade. A shot's caption
  lasts for its shot, within those boundaries.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from fractions import Fraction
from typing import Any

from storyboard.errors import BudgetError, Problem, ProblemCollector
from storyboard.model import (
    CROSSFADE,
    CUT,
    FADE,
    CutSpec,
    Generation,
    RenderedClip,
    Storyboard,
    TransitionSpec,
)


@dataclass(frozen=True, slots=True)
class Transition:
    """How a clip begins: a plain cut, or a crossfade of ``seconds`` from the one before.
    (A docstring also spares dataclass() making one from the signature at import.)"""

    kind: str = CUT
    seconds: Fraction = Fraction(0)

    @property
    def overlap(self) -> Fraction:
        """Seconds the two clips share on screen (only a crossfade has any)."""
        return self.seconds if self.kind == CROSSFADE else Fraction(0)


@dataclass(frozen=True, slots=True)
class Part:
    """One generation's render: a take of a clip (or the whole clip)."""

    generation: str  # its id, e.g. us-wide/hero.2
    hash: str  # the request hash: the cache key of its file
    seconds: Fraction  # requested (or, once measured, the file's)
    sound: bool  # requested with sound


@dataclass(frozen=True, slots=True)
class ShotCaption:
    """One shot's caption, placed within its clip."""

    offset: Fraction  # from the clip's start
    seconds: Fraction
    text: str


@dataclass(frozen=True, slots=True)
class Span:
    """One clip on the timeline."""

    clip: str
    parts: tuple[Part, ...]
    transition: Transition  # into this clip; a plain cut for the first
    start: Fraction
    caption: str | None = None
    shot_captions: tuple[ShotCaption, ...] = ()

    @property
    def seconds(self) -> Fraction:
        return sum((p.seconds for p in self.parts), Fraction(0))

    @property
    def end(self) -> Fraction:
        return self.start + self.seconds


@dataclass(frozen=True, slots=True)
class Cue:
    """One subtitle: its text on screen from ``start`` to ``end`` (seconds into the cut)."""

    start: Fraction
    end: Fraction
    text: str


@dataclass(frozen=True, slots=True)
class Timeline:
    """One variant's final cut as planned: its clips in order, where each starts, and
    how long the whole runs."""

    variant: str
    spans: tuple[Span, ...]
    runtime: Fraction
    cut: CutSpec

    @property
    def parts(self) -> tuple[Part, ...]:
        return tuple(p for s in self.spans for p in s.parts)

    @property
    def plain(self) -> bool:
        """Every join is a plain cut (the precondition for copying the video as is)."""
        return all(s.transition.kind == CUT for s in self.spans)

    def cues(self) -> tuple[Cue, ...]:
        """Caption cues in time order, each within its clip's boundaries."""
        if not any(s.caption or s.shot_captions for s in self.spans):
            return ()
        bounds = boundaries(self)
        found: list[Cue] = []
        for span, (lo, hi) in zip(self.spans, pairs(bounds), strict=True):
            if span.caption:
                found.append(Cue(lo, hi, span.caption))
            for shot in span.shot_captions:
                start = max(lo, span.start + shot.offset)
                end = min(hi, span.start + shot.offset + shot.seconds)
                if end > start:
                    found.append(Cue(start, end, shot.text))
        return tuple(sorted(found, key=lambda c: (c.start, c.end)))

    def measured(self, part_seconds: Mapping[str, Fraction]) -> Timeline:
        """The same timeline laid out with each part's length as measured in its file
        (by generation id); parts not given keep their planned length."""
        spans = [replace(s, parts=tuple(replace(p, seconds=part_seconds.get(p.generation,
                                                                             p.seconds))
                                        for p in s.parts)) for s in self.spans]
        starts, runtime = layout([s.seconds for s in spans], [s.transition for s in spans])
        return replace(self, spans=tuple(replace(s, start=t) for s, t in zip(spans, starts,
                                                                            strict=True)),
                       runtime=runtime)


def layout(lengths: Sequence[Fraction], transitions: Sequence[Transition]
           ) -> tuple[list[Fraction], Fraction]:
    """Start times of clips of these lengths joined by these transitions, and the runtime:
    the sum of the lengths minus the crossfades' overlaps."""
    starts: list[Fraction] = []
    t = Fraction(0)
    for length, transition in zip(lengths, transitions, strict=True):
        if starts:
            t -= transition.overlap
        starts.append(t)
        t += length
    return starts, t


def boundaries(timeline: Timeline) -> list[Fraction]:
    """0, the boundary between each pair of clips, and the runtime."""
    inner = [s.start + s.transition.overlap / 2 for s in timeline.spans[1:]]
    return [Fraction(0), *inner, timeline.runtime]


def pairs(values: Sequence[Fraction]) -> Iterable[tuple[Fraction, Fraction]]:
    return itertools.pairwise(values)


def seconds_text(value: Fraction | Decimal | int) -> str:
    """``12``, ``0.5``, ``26.5``: seconds as a person writes them (at most 3 decimals)."""
    text = f"{float(value):.3f}".rstrip("0").rstrip(".")
    return text or "0"


def seconds_json(value: Fraction) -> int | float:
    return value.numerator if value.denominator == 1 else round(float(value), 6)


# ------------------------------------------------------------------------- building


@dataclass(frozen=True, slots=True)
class Captions:
    """The rendered captions of one clip of one variant."""

    clip: str | None
    shots: tuple[str | None, ...]


class CaptionBook:
    """Keeps the rendered captions of the clips flowing from render to emit, so the
    timeline can time them without holding on to every rendered prompt."""

    def __init__(self) -> None:
        self.captions: dict[tuple[str, str], Captions] = {}

    def collect(self, clips: Iterable[RenderedClip]) -> Iterable[RenderedClip]:
        for clip in clips:
            shots = tuple(s.caption for s in clip.shots)
            if clip.caption is not None or any(shots):
                self.captions[(clip.variant, clip.clip)] = Captions(clip.caption, shots)
            yield clip


def build_timelines(storyboard: Storyboard, generations: Sequence[Generation],
                    captions: CaptionBook | None = None) -> tuple[Timeline, ...]:
    """One timeline per variant, in variant order; transitions that do not fit in the
    clips they join are ``BudgetError`` problems at the transition.

    Variants of a campaign mostly share their timeline's shape (take lengths and
    transitions), so each shape is laid out and checked once.
    """
    specs = {c.id: c for c in storyboard.clips}
    transitions = {c.id: _transition(c.transition or storyboard.cut.transition)
                   for c in storyboard.clips}
    book = captions.captions if captions is not None else {}
    by_variant: dict[str, dict[str, list[Generation]]] = {}
    for g in generations:
        by_variant.setdefault(g.variant, {}).setdefault(g.clip, []).append(g)
    shapes: dict[tuple[Any, ...], tuple[list[Fraction], Fraction, list[Problem]]] = {}
    seconds: dict[int, Fraction] = {}
    problems = ProblemCollector()
    timelines = []
    for variant, clips in by_variant.items():
        shape = tuple((clip, tuple(g.seconds for g in takes)) for clip, takes in clips.items())
        if shape not in shapes:
            shapes[shape] = _laid_out(shape, transitions, specs, storyboard)
        starts, runtime, misfits = shapes[shape]
        spans = []
        for n, (clip, takes) in enumerate(clips.items()):
            found = book.get((variant, clip))
            spans.append(Span(
                clip=clip,
                parts=tuple(Part(g.id, g.hash, seconds.setdefault(g.seconds,
                                                                  Fraction(g.seconds)),
                                 g.sound == "on") for g in takes),
                transition=transitions[clip] if n else _PLAIN, start=starts[n],
                caption=found.clip if found else None,
                shot_captions=_shot_captions(takes, found.shots if found else ()),
            ))
        for problem in misfits:
            problems.add(problem.message, problem.location,
                         variant if storyboard.variants is not None else None)
        timelines.append(Timeline(variant, tuple(spans), runtime, storyboard.cut))
    if problems:
        raise BudgetError(problems.problems())
    return tuple(timelines)


_PLAIN = Transition()


def _laid_out(shape: tuple[tuple[str, tuple[int, ...]], ...],
              transitions: Mapping[str, Transition], specs: Mapping[str, Any],
              storyboard: Storyboard) -> tuple[list[Fraction], Fraction, list[Problem]]:
    """Start times, runtime and misfit problems of one timeline shape."""
    spans = [Span(clip, tuple(Part("", "", Fraction(t), False) for t in takes),
                  transitions[clip] if n else _PLAIN, Fraction(0))
             for n, (clip, takes) in enumerate(shape)]
    starts, runtime = layout([s.seconds for s in spans], [s.transition for s in spans])
    spans = [replace(s, start=t) for s, t in zip(spans, starts, strict=True)]
    return starts, runtime, list(_misfits(spans, storyboard))


def _transition(spec: TransitionSpec) -> Transition:
    return Transition(spec.kind, Fraction(spec.seconds) if spec.kind != CUT else Fraction(0))


def _shot_captions(takes: Sequence[Generation],
                   captions: Sequence[str | None]) -> tuple[ShotCaption, ...]:
    """Each captioned shot's place in its clip, from the shot durations of its takes."""
    if not any(captions):
        return ()
    durations = [int(s["duration"]) for g in takes for s in _shots(g.args)]
    found = []
    offset = Fraction(0)
    for seconds, text in zip(durations, captions, strict=False):
        if text:
            found.append(ShotCaption(offset, Fraction(seconds), text))
        offset += seconds
    return tuple(found)


def _shots(args: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    shots = args.get("multi_prompt")
    return list(shots) if isinstance(shots, list) else []


def _misfits(spans: Sequence[Span], storyboard: Storyboard) -> Iterable[Problem]:
    """A clip must hold the transitions at both of its ends."""
    specs = {c.id: c for c in storyboard.clips}
    for n, span in enumerate(spans):
        into = span.transition
        out = spans[n + 1].transition if n + 1 < len(spans) else Transition()
        used = _share(into) + _share(out)
        if used > span.seconds:
            culprit = into if _share(into) >= _share(out) else out
            owner = span if culprit is into else spans[n + 1]
            spec = specs[owner.clip]
            location = ((spec.transition or storyboard.cut.transition).location
                        or spec.location)
            yield Problem(
                f"clip '{span.clip}' is {seconds_text(span.seconds)} s but its transitions "
                f"take {seconds_text(used)} s of it; shorten the {culprit.kind} "
                f"(transition_seconds)", location)


def _share(transition: Transition) -> Fraction:
    """Seconds of each of the two clips a transition uses."""
    if transition.kind == CROSSFADE:
        return transition.seconds
    if transition.kind == FADE:
        return transition.seconds / 2
    return Fraction(0)


def timeline_json(timeline: Timeline) -> dict[str, Any]:
    """A timeline as ``plan --format json`` shows it."""
    return {
        "variant": timeline.variant,
        "runtime_seconds": seconds_json(timeline.runtime),
        "clips": [{
            "clip": s.clip,
            "start_seconds": seconds_json(s.start),
            "seconds": seconds_json(s.seconds),
            "transition": {"type": s.transition.kind,
                           "seconds": seconds_json(s.transition.seconds)},
            "takes": [p.generation for p in s.parts],
            "caption": s.caption,
        } for s in timeline.spans],
        "captions": [{"start_seconds": seconds_json(c.start),
                      "end_seconds": seconds_json(c.end), "text": c.text}
                     for c in timeline.cues()],
    }


def timeline_text(timeline: Timeline) -> str:
    """``hero 12 s | crossfade 0.5 s | teaser 5 s (2 takes) … = 26.5 s``: one line."""
    pieces = []
    for n, span in enumerate(timeline.spans):
        if n:
            t = span.transition
            pieces.append("cut" if t.kind == CUT else f"{t.kind} {seconds_text(t.seconds)} s")
        takes = f" ({len(span.parts)} takes)" if len(span.parts) > 1 else ""
        pieces.append(f"{span.clip} {seconds_text(span.seconds)} s{takes}")
    return " | ".join(pieces) + f" = {seconds_text(timeline.runtime)} s"

"""The data that flows between stages: frozen dataclasses, passed forward, never mutated."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from storyboard.errors import SourceLocation
from storyboard.source import SourceMap

DEFAULT_MODEL = "kwaivgi/kling-o3/text-to-video"


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, UTF-8 as is: the form a generation's identity is hashed over."""
    return _CANONICAL.encode(value)


def request_hash(model: str, args: Mapping[str, Any]) -> str:
    """sha256 of canonical ``{model, args}``; ``callback_url`` is deliberately not part of it."""
    payload = canonical_json({"model": model, "args": args}).encode("utf-8")
    return hashlib.sha256(payload).hexdigest()


def shots_sum(args: Mapping[str, Any]) -> int | None:
    """What a request's shot durations add up to when that is not its ``duration`` (the
    API refuses such a create), else None: the one statement of the rule, for the
    compiler's request check and the sandbox's alike."""
    shots = args.get("multi_prompt")
    if not isinstance(shots, list) or not shots:
        return None
    total: int = sum(shot["duration"] for shot in shots)
    return None if total == args["duration"] else total


CANDIDATE_MARK = "~"  # ``us-wide/hero~2``: candidate 2 (``.2`` is already a take's)
MAX_CANDIDATES = 10  # what a storyboard may ask for per generation
MAX_TRIES = 100  # with re-rolls: what a lock file or a saved plan may hold


def candidate_key(request_hash: str, candidate: int) -> str:
    """A candidate's identity in the journal, the cache and the plan.

    Candidate 1 is the request hash itself, so journals, caches and renders made before
    candidates existed stay valid and nothing already paid for is rendered again;
    candidate n ≥ 2 is ``<request hash>.<n>``. The number is never sent to the API: every
    candidate's request body is byte-identical.
    """
    return request_hash if candidate == 1 else f"{request_hash}.{candidate}"


def candidate_id(generation_id: str, candidate: int) -> str:
    """``us-wide/hero`` for candidate 1 (as before candidates), ``us-wide/hero~2`` after."""
    return generation_id if candidate == 1 else f"{generation_id}{CANDIDATE_MARK}{candidate}"


@dataclass(frozen=True, slots=True)
class Budget:
    """The storyboard's ``budget:`` section: what all its runs may spend, in dollars and
    in seconds of video, with where each bound was written."""

    max_cost_usd: Decimal | None = None
    max_seconds: int | None = None
    cost_location: SourceLocation | None = None
    seconds_location: SourceLocation | None = None


@dataclass(frozen=True, slots=True)
class Variant:
    """One expansion of the campaign: its id and the data values it was made from."""

    id: str
    values: Mapping[str, Any]
    location: SourceLocation | None = None


@dataclass(frozen=True, slots=True)
class Shot:
    """A shot after rendering: its prompt and its (fixed or budgeted) duration."""

    prompt: str
    duration: int | None
    weight: Decimal
    location: SourceLocation
    caption: str | None = None  # rendered; None when the shot has no caption


@dataclass(frozen=True, slots=True)
class RenderedClip:
    """A clip of one variant with every template rendered, before budgeting.

    ``kind`` is ``single`` (one prompt), ``customize`` (given shots) or
    ``intelligence`` (``shots: auto``: the model cuts the shots).
    """

    variant: str
    clip: str
    kind: str
    prompt: str
    duration: int | None
    mode: str
    aspect_ratio: str
    sound: str
    shots: tuple[Shot, ...]
    location: SourceLocation
    prompt_location: SourceLocation
    # where each API setting (mode, aspect_ratio, sound, duration) came from
    origins: Mapping[str, SourceLocation] = field(default_factory=dict)
    caption: str | None = None  # rendered; None when the clip has no caption
    candidates: int = 1  # tries of each of its generations


@dataclass(frozen=True, slots=True)
class Take:
    """One generation's share of a clip: consecutive shots summing to ``duration``."""

    index: int | None  # None when the clip fits one generation
    duration: int
    shot_durations: tuple[int, ...]  # empty for single-shot and model-cut clips
    first_shot: int = 0


@dataclass(frozen=True, slots=True)
class Generation:
    """One try of one API request: ``(variant, clip, take, candidate)`` -> ``{model, args}``.

    ``hash`` is the try's identity (``candidate_key``): the request hash for candidate 1,
    ``<request hash>.<n>`` for candidate n. ``candidates`` is how many tries the plan
    holds of this generation (the storyboard's ``candidates`` plus re-rolls).
    """

    variant: str
    clip: str
    take: int | None
    model: str
    args: Mapping[str, Any]
    hash: str
    location: SourceLocation
    candidate: int = 1
    candidates: int = 1

    @property
    def base_id(self) -> str:
        """``variant/clip[.take]``: the generation all its candidates are tries of, what
        picks and re-rolls name."""
        suffix = "" if self.take is None else f".{self.take}"
        return f"{self.variant}/{self.clip}{suffix}"

    @property
    def id(self) -> str:
        return candidate_id(self.base_id, self.candidate)

    @property
    def request_hash(self) -> str:
        """The sha256 of the request itself, the same for every candidate."""
        return self.hash.partition(".")[0]

    @property
    def seconds(self) -> int:
        seconds: int = self.args["duration"]
        return seconds

    @property
    def mode(self) -> str:
        return str(self.args["mode"])

    @property
    def sound(self) -> str:
        return str(self.args["sound"])

    def request(self) -> dict[str, Any]:
        return {"model": self.model, "args": dict(self.args)}


# --- the validated storyboard, before variants are expanded and templates rendered ---


@dataclass(frozen=True, slots=True)
class Text:
    """A string from the storyboard: a Jinja2 template, with where it was written."""

    source: str
    location: SourceLocation


@dataclass(frozen=True, slots=True)
class Value:
    """A non-string scalar from the storyboard (a fixed duration, a boolean sound)."""

    value: Any
    location: SourceLocation


Setting = Text | Value


@dataclass(frozen=True, slots=True)
class ShotSpec:
    """One shot of a clip as written: its prompt and duration templates, and weight."""

    prompt: Text
    duration: Setting | None
    weight: Decimal
    location: SourceLocation
    caption: Text | None = None


@dataclass(frozen=True, slots=True)
class ClipSpec:
    """One clip as written, before variants are expanded and templates rendered."""

    id: str
    index: int
    kind: str  # single | customize | intelligence
    prompt: Text | None
    duration: Setting | None
    shots: tuple[ShotSpec, ...]
    settings: Mapping[str, Setting]  # mode, aspect_ratio, sound set on the clip itself
    location: SourceLocation
    caption: Text | None = None
    transition: TransitionSpec | None = None  # into this clip; None: the cut section's
    candidates: int | None = None  # None: defaults.candidates


@dataclass(frozen=True, slots=True)
class VariantsSpec:
    """The ``variants:`` section as written: the id template, matrix, rows and edits."""

    id: Text | None
    matrix: Mapping[str, tuple[Any, ...]] | None
    include: tuple[Mapping[str, Any], ...]
    exclude: tuple[Mapping[str, Any], ...]
    rows: str | tuple[Mapping[str, Any], ...] | None
    location: SourceLocation


@dataclass(frozen=True, slots=True)
class VarSpec:
    """A template variable; strings nested anywhere in ``value`` are templates."""

    name: str
    value: Any
    path: tuple[str | int, ...]


CUT = "cut"
CROSSFADE = "crossfade"
FADE = "fade"
TRANSITIONS = (CUT, CROSSFADE, FADE)
DEFAULT_TRANSITION_SECONDS = Decimal("0.5")
DEFAULT_MUSIC_DB = Decimal(-18)


@dataclass(frozen=True, slots=True)
class TransitionSpec:
    """How a clip begins after the one before it; ``seconds`` is 0 for a plain cut."""

    kind: str = CUT
    seconds: Decimal = Decimal(0)
    location: SourceLocation | None = None


@dataclass(frozen=True, slots=True)
class CutSpec:
    """The storyboard's ``cut:`` section: how each variant's final cut is assembled."""

    transition: TransitionSpec = TransitionSpec()
    music: str | None = None  # a path inside the storyboard's folder, as written
    music_location: SourceLocation | None = None
    music_db: Decimal = DEFAULT_MUSIC_DB
    burn_captions: bool = False
    size: tuple[int, int] | None = None  # (width, height); None: the largest clip's
    fps: int | None = None  # None: the clips' own, or the highest when they differ


@dataclass(frozen=True, slots=True)
class Storyboard:
    """A validated storyboard: every part typed, every string with where it was written."""

    file: str  # as the user named it, for messages
    root: str  # the storyboard's folder: includes and data files resolve here
    name: str
    model: str
    vars: tuple[VarSpec, ...]
    defaults: Mapping[str, Setting]
    variants: VariantsSpec | None
    budget: Budget
    clips: tuple[ClipSpec, ...]
    source_map: SourceMap  # where every JSON path of the storyboard was written
    cut: CutSpec = CutSpec()
    candidates: int = 1  # defaults.candidates: tries of each generation


# The plan's data lives in ``storyboard.plan.model``; these names stay importable from
# here, loaded on first use: ``storyboard validate`` never builds a plan, and does not
# pay for defining its classes (issue 9's fast start).
_PLAN_NAMES = frozenset({"NEW", "REUSED", "IN_FLIGHT", "UNKNOWN", "SHARED", "PlanItem",
                         "Totals", "totals", "Spent", "Plan"})

if TYPE_CHECKING:
    from storyboard.plan.model import IN_FLIGHT as IN_FLIGHT
    from storyboard.plan.model import NEW as NEW
    from storyboard.plan.model import REUSED as REUSED
    from storyboard.plan.model import SHARED as SHARED
    from storyboard.plan.model import UNKNOWN as UNKNOWN
    from storyboard.plan.model import Plan as Plan
    from storyboard.plan.model import PlanItem as PlanItem
    from storyboard.plan.model import Spent as Spent
    from storyboard.plan.model import Totals as Totals
    from storyboard.plan.model import totals as totals
else:
    def __getattr__(name: str) -> Any:
        if name in _PLAN_NAMES:
            from storyboard.plan import model

            return getattr(model, name)
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

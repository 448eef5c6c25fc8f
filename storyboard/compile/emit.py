"""Turn budgeted clips into generations: the exact ``{model, args}`` of each API request.

Every argument is written out (no reliance on the API's defaults, which may change),
durations are ints, and every request is checked against the API's input contract
(``schemas/kling-o3.request.schema.json``) plus the multi-shot rule the schema cannot
state. A failure points back at the storyboard line and names the variant.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator, Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

from storyboard import precompiled
from storyboard.compile.budget import budget_clip
from storyboard.errors import BudgetError, Problem, ProblemCollector, RequestError
from storyboard.model import (
    Generation,
    RenderedClip,
    Take,
    candidate_key,
    request_hash,
    shots_sum,
)
from storyboard.resources import REQUEST_SCHEMA, load_schema

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator

MAX_PROMPT = 2500
MAX_SHOT_PROMPT = 512


_LENGTH_ONLY = frozenset({"type", "description", "minLength", "maxLength"})


@cache
def _prompt_bounds() -> tuple[int, ...] | None:
    """Every prompt length the request schema draws a line at, or None.

    When the schema constrains prompts by type and length only, a request's verdict
    depends on its other arguments and on which side of those lines each prompt
    falls — so requests of the same *shape* share one verdict, and a 50k-variant
    campaign is checked with a handful of schema evaluations instead of 50k. Any
    other prompt constraint (a pattern, an enum) turns the shortcut off.
    """
    bounds: set[int] = set()

    def walk(node: Any) -> bool:
        if isinstance(node, dict):
            prompt = node.get("properties", {}).get("prompt") if isinstance(
                node.get("properties"), dict) else None
            if prompt is not None:
                if not isinstance(prompt, dict) or not set(prompt) <= _LENGTH_ONLY:
                    return False
                bounds.update(int(prompt[k]) + (1 if k == "maxLength" else 0)
                              for k in ("minLength", "maxLength") if k in prompt)
            return all(walk(v) for v in node.values())
        if isinstance(node, list):
            return all(walk(v) for v in node)
        return True

    return tuple(sorted(bounds)) if walk(load_schema(REQUEST_SCHEMA)) else None


def _shape(args: Mapping[str, Any], bounds: tuple[int, ...]) -> tuple[Any, ...]:
    """The request with each prompt replaced by its type and length class.

    Every other value is kept with its type (so ``True`` and ``1`` differ), and keys in
    their order: two requests of one shape have one verdict.
    """

    def cls(value: Any) -> Any:
        if isinstance(value, str):
            return bisect.bisect_right(bounds, len(value))
        return (type(value), value)

    key: list[Any] = []
    for name, value in args.items():
        if name == "prompt":
            key.append((name, cls(value)))
        elif name == "multi_prompt" and isinstance(value, list):
            key.append((name, tuple(
                tuple((k, cls(v) if k == "prompt" else (type(v), v)) for k, v in shot.items())
                if isinstance(shot, dict) else (type(shot), repr(shot)) for shot in value)))
        else:
            key.append((name, (type(value), value)))
    return tuple(key)


_verdicts: dict[tuple[str, tuple[Any, ...]], bool] = {}


def _schema_valid(request: dict[str, Any]) -> bool:
    bounds = _prompt_bounds()
    key = None
    if bounds is not None:
        try:
            key = (request["model"], _shape(request["args"], bounds))
            hash(key)
        except TypeError:  # an unhashable value: check this one request directly
            key = None
        if key is not None and key in _verdicts:
            return _verdicts[key]
    # compiled ahead of time: ~5 µs a request, so checking 50k requests stays cheap
    valid = precompiled.check(REQUEST_SCHEMA, request)
    if valid is None:  # the schema changed since that code was generated
        valid = _full_check().is_valid(request)
    if key is not None:
        _verdicts[key] = valid
    return valid


def request_is_valid(model: str, args: Mapping[str, Any]) -> bool:
    """Whether ``{model, args}`` keeps the API's input contract, shot sums included."""
    if not _schema_valid({"model": model, "args": args}):
        return False
    return shots_sum(args) is None  # valid by the schema: shots are dicts with int durations


@cache
def _full_check() -> Draft202012Validator:
    """jsonschema, for the detailed messages of requests the fast check rejected."""
    from jsonschema import Draft202012Validator

    return Draft202012Validator(load_schema(REQUEST_SCHEMA))


def emit(clips: Iterable[RenderedClip], model: str, *,
         name_variants: bool = True) -> Iterator[Generation]:
    """Generations in storyboard order; every problem is collected before raising.

    ``name_variants`` is false for a storyboard without ``variants:``, whose one variant
    (``default``) would only be noise in a message.
    """
    budget_problems = ProblemCollector()
    request_problems = ProblemCollector()
    for clip in clips:
        try:
            takes = budget_clip(clip)
        except BudgetError as exc:
            budget_problems.extend(exc.problems, clip.variant if name_variants else None)
            continue
        for take in takes:
            args = _args(clip, take)
            found = check_request(model, args, clip)
            if found:
                request_problems.extend(found, clip.variant if name_variants else None)
            elif not (budget_problems or request_problems):
                digest = request_hash(model, args)
                for n in range(1, clip.candidates + 1):  # tries of one request, in order
                    yield Generation(clip.variant, clip.clip, take.index, model, args,
                                     candidate_key(digest, n), clip.location, n,
                                     clip.candidates)
    if budget_problems:
        raise BudgetError(budget_problems.problems() + request_problems.problems())
    if request_problems:
        raise RequestError(request_problems.problems())


def _args(clip: RenderedClip, take: Take) -> dict[str, Any]:
    args: dict[str, Any] = {
        "prompt": clip.prompt,
        "mode": clip.mode,
        "duration": take.duration,
        "aspect_ratio": clip.aspect_ratio,
        "sound": clip.sound,
        "multi_shot": clip.kind != "single",
    }
    if clip.kind == "intelligence":
        args["shot_type"] = "intelligence"
    elif clip.kind == "customize":
        args["shot_type"] = "customize"
        shots = clip.shots[take.first_shot:take.first_shot + len(take.shot_durations)]
        args["multi_prompt"] = [
            {"prompt": shot.prompt, "duration": seconds}
            for shot, seconds in zip(shots, take.shot_durations, strict=True)
        ]
    return args


def check_request(model: str, args: Mapping[str, Any], clip: RenderedClip) -> list[Problem]:
    """Problems with one request, located in the storyboard; empty when it is valid."""
    problems = []
    if len(clip.prompt) > MAX_PROMPT:
        problems.append(Problem(
            f"rendered prompt of clip '{clip.clip}' is {len(clip.prompt):,} characters; "
            f"the model takes at most {MAX_PROMPT:,} — shorten it",
            clip.prompt_location))
    for n, shot in enumerate(clip.shots, 1):
        if not shot.prompt:
            problems.append(Problem(
                f"shot {n} of clip '{clip.clip}' renders to an empty prompt; the model needs "
                "text for every shot", shot.location))
        if len(shot.prompt) > MAX_SHOT_PROMPT:
            problems.append(Problem(
                f"rendered prompt of shot {n} of clip '{clip.clip}' is {len(shot.prompt):,} "
                f"characters; a shot takes at most {MAX_SHOT_PROMPT} — shorten it",
                shot.location))
    if problems:
        return problems
    request = {"model": model, "args": args}
    if not _schema_valid(request):
        for error in _full_check().iter_errors(request):
            problems.append(_request_problem(list(error.absolute_path), error.message,
                                             error.instance, clip))
    total = shots_sum(args)
    if total is not None:
        problems.append(Problem(
            f"shot durations of clip '{clip.clip}' sum to {total} "
            f"but the take is {args['duration']} s", clip.location))
    return problems


def _request_problem(path: list[Any], message: str, instance: Any,
                     clip: RenderedClip) -> Problem:
    field = path[1] if len(path) > 1 and path[0] == "args" else None
    location = clip.location
    if isinstance(field, str):
        location = clip.origins.get(field, clip.prompt_location if field == "prompt"
                                    else clip.location)
        if field == "prompt" and instance == "":
            message = "the rendered prompt is empty"
        elif isinstance(instance, str | int | bool) and field in (
                "mode", "aspect_ratio", "sound", "duration"):
            allowed = _allowed(field)
            message = (f"{field} of clip '{clip.clip}' rendered to {instance!r}" +
                       (f"; allowed: {', '.join(allowed)}" if allowed else f": {message}"))
            return Problem(message, location)
    elif path[:1] == ["model"]:
        message = f"model: {message}"
    return Problem(f"{message} in clip '{clip.clip}'", location)


def _allowed(field: str) -> list[str]:
    spec = load_schema(REQUEST_SCHEMA)["properties"]["args"]["properties"][field]
    if "enum" in spec:
        return [str(v) for v in spec["enum"]]
    if "minimum" in spec:
        return [f"{spec['minimum']}–{spec['maximum']}"]
    return []

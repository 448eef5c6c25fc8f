"""Budget durations: turn a rendered clip into the takes (generations) it needs.

Everything is whole seconds, because the API's ``duration`` is an integer. A clip
whose shots fit one generation (3 to 15 s, 1 to 6 shots) is one take; a longer clip of
given shots is split at shot boundaries into numbered takes. Where the format says
nothing the rules below decide, so the same storyboard always compiles to the same
requests (a different split would be a different request, and cost money again):

* **Shares.** The seconds a clip has left after its fixed shots are shared among
  its other shots by weight with the largest-remainder (Hamilton) method, computed
  exactly with fractions. Every shot gets at least 1 s by *water-filling*: a shot
  whose quota is under 1 s is pinned at 1 s and the others share what is left by
  the same weights, repeated until no quota is under 1 s; the unpinned quotas are
  then rounded by largest remainder, ties going to the earlier shot. So the floor
  takes seconds from the shots in proportion to their weights, instead of moving
  whole seconds to whoever happens to be largest, and when no quota is under 1 s
  the result is plain Hamilton.
* **Takes.** The fewest takes that are all valid, then the most even split (the
  smallest sum of squared take durations), then the split whose take durations are
  lexicographically largest (longer takes first). Take durations determine the cut
  points (every shot is at least 1 s), so this is a total order and the choice is
  unique.
* Model-cut clips (``shots: auto``) are never split: the model chooses the cuts, so
  two takes would be two unrelated videos.

Many variants share the same numbers, so the two searches are memoised on them;
the common case (a clip that fits one generation) never searches at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from itertools import pairwise

from storyboard.errors import BudgetError, Problem, SourceLocation
from storyboard.model import RenderedClip, Take

DEFAULT_DURATION = 5  # the model's default when a single-shot clip gives none
MIN_TAKE_SECONDS = 3
MAX_TAKE_SECONDS = 15
MAX_TAKE_SHOTS = 6
MIN_SHOT_SECONDS = 1

# an en dash between the bounds, written as an escape (ruff flags the character itself)
_TAKE_SECONDS = f"{MIN_TAKE_SECONDS}–{MAX_TAKE_SECONDS} s"
_TAKE_SHAPE = f"{_TAKE_SECONDS} with at most {MAX_TAKE_SHOTS} shots"

# how a split ranks, smaller is better: (takes, sum of squared seconds, seconds negated)
_SplitKey = tuple[int, int, tuple[int, ...]]


def budget_clip(clip: RenderedClip) -> tuple[Take, ...]:
    """The takes one rendered clip compiles to, or ``BudgetError`` with every problem."""
    if clip.kind in ("single", "intelligence"):
        return _budget_one_prompt(clip)
    if clip.kind == "customize":
        return _budget_shots(clip)
    raise ValueError(f"unknown clip kind {clip.kind!r}")


def _budget_one_prompt(clip: RenderedClip) -> tuple[Take, ...]:
    seconds = DEFAULT_DURATION if clip.duration is None else clip.duration
    if MIN_TAKE_SECONDS <= seconds <= MAX_TAKE_SECONDS:
        return (Take(index=None, duration=seconds, shot_durations=()),)
    if seconds < MIN_TAKE_SECONDS:
        message = _too_short(clip.clip, seconds)
    elif clip.kind == "single":
        message = (
            f"clip '{clip.clip}' is {seconds} s but a single-shot generation holds "
            f"{_TAKE_SECONDS}; shorten it or give it shots so it "
            "can be split into takes"
        )
    else:
        message = (
            f"clip '{clip.clip}' is {seconds} s but a model-cut clip (shots: auto) is one "
            f"generation of {_TAKE_SECONDS}; shorten it or list its "
            "shots so it can be split into takes"
        )
    raise BudgetError([Problem(message, _duration_location(clip))])


def _duration_location(clip: RenderedClip) -> SourceLocation:
    """A clip's total is the value to change: point at its ``duration:`` when it has one."""
    return clip.origins.get("duration", clip.location)


def _too_short(clip: str, seconds: int) -> str:
    return (
        f"clip '{clip}' is {seconds} s but one generation needs at least "
        f"{MIN_TAKE_SECONDS} s; make it at least {MIN_TAKE_SECONDS} s long"
    )


def _budget_shots(clip: RenderedClip) -> tuple[Take, ...]:
    if not clip.shots:
        raise BudgetError([Problem(f"clip '{clip.clip}' has no shots; give it at least one",
                                   clip.location)])
    problems, fixed_seconds, budgeted = _fixed_shots(clip)
    durations = _shared_durations(clip, fixed_seconds, budgeted, problems)
    if problems:
        raise BudgetError(problems)
    return _takes(clip, tuple(d for d in durations if d is not None))


def _fixed_shots(clip: RenderedClip) -> tuple[list[Problem], int, list[int]]:
    """The problems of the shots as written, the seconds of those with a duration, and the
    indexes of those without one (which share what the clip's total leaves)."""
    name = clip.clip
    problems: list[Problem] = []
    fixed_seconds = 0
    budgeted: list[int] = []  # indexes of the shots without a duration
    for number, shot in enumerate(clip.shots, start=1):
        if not (shot.weight.is_finite() and shot.weight > 0):
            problems.append(Problem(
                f"shot {number} of clip '{name}' has weight {shot.weight}; "
                "a weight must be a positive number", shot.location))
        if shot.duration is None:
            budgeted.append(number - 1)
            if clip.duration is None:
                problems.append(Problem(
                    f"shot {number} of clip '{name}' has no duration and the clip has no "
                    "total to share among its shots; give the shot a duration or give the "
                    "clip one", shot.location))
            continue
        fixed_seconds += shot.duration
        if shot.duration > MAX_TAKE_SECONDS:
            problems.append(_shot_too_long(name, number, shot.duration, budgeted=False,
                                           location=shot.location))
        elif shot.duration < MIN_SHOT_SECONDS:
            problems.append(Problem(
                f"shot {number} of clip '{name}' is {shot.duration} s; a shot needs at "
                f"least {MIN_SHOT_SECONDS} s", shot.location))
    return problems, fixed_seconds, budgeted


def _shared_durations(clip: RenderedClip, fixed_seconds: int, budgeted: list[int],
                      problems: list[Problem]) -> list[int | None]:
    """Each shot's seconds: its own, or its weighted share of what the clip's total
    leaves (appending to ``problems`` what keeps the total from being shared)."""
    durations = [shot.duration for shot in clip.shots]
    if clip.duration is None:
        return durations
    shortfall = _shortfall(clip.clip, clip.duration, fixed_seconds, len(budgeted))
    if shortfall is not None:
        problems.append(Problem(shortfall, _duration_location(clip)))
    elif budgeted and not problems:  # shares need valid weights and fixed shots
        shares = _apportion(clip.duration - fixed_seconds,
                            tuple(clip.shots[i].weight for i in budgeted))
        for i, share in zip(budgeted, shares, strict=True):
            durations[i] = share
            if share > MAX_TAKE_SECONDS:
                problems.append(_shot_too_long(clip.clip, i + 1, share, budgeted=True,
                                               location=clip.shots[i].location))
    return durations


def _takes(clip: RenderedClip, seconds: tuple[int, ...]) -> tuple[Take, ...]:
    """The shots, in as few takes (generations) as hold them."""
    total = sum(seconds)
    if total < MIN_TAKE_SECONDS:
        raise BudgetError([Problem(_too_short(clip.clip, total), _duration_location(clip))])
    if total <= MAX_TAKE_SECONDS and len(seconds) <= MAX_TAKE_SHOTS:  # the common case
        return (Take(index=None, duration=total, shot_durations=seconds),)
    cuts = _split(seconds)
    if cuts is None:
        raise BudgetError(_split_problems(clip, seconds))
    return tuple(
        Take(index=number, duration=sum(seconds[start:end]),
             shot_durations=seconds[start:end], first_shot=start)
        for number, (start, end) in enumerate(pairwise(cuts), start=1)
    )


def _shot_too_long(clip: str, number: int, seconds: int, *, budgeted: bool,
                   location: SourceLocation) -> Problem:
    if budgeted:
        message = (
            f"shot {number} of clip '{clip}' is budgeted {seconds} s; one generation holds "
            f"at most {MAX_TAKE_SECONDS} s — split it into two shots or shorten the clip"
        )
    else:
        message = (
            f"shot {number} of clip '{clip}' is {seconds} s; one generation holds at most "
            f"{MAX_TAKE_SECONDS} s — split it into two shots"
        )
    return Problem(message, location)


def _shortfall(clip: str, total: int, fixed: int, budgeted: int) -> str | None:
    """Why a clip's total cannot be shared among its shots, or None when it can."""
    if budgeted == 0:
        if fixed == total:
            return None
        return (
            f"clip '{clip}' is {total} s but its shots add up to {fixed} s; make them agree, "
            "or leave out a shot's duration so it gets the rest"
        )
    if fixed > total:
        return (
            f"clip '{clip}' is {total} s but its shots with a duration already take "
            f"{fixed} s; lengthen the clip or shorten those shots"
        )
    left = total - fixed
    if left < budgeted * MIN_SHOT_SECONDS:
        shots = "shot that needs" if budgeted == 1 else "shots that need"
        return (
            f"clip '{clip}' is {total} s and its shots with a duration take {fixed} s, "
            f"leaving {left} s for {budgeted} budgeted {shots} at least "
            f"{MIN_SHOT_SECONDS} s each; make the clip at least "
            f"{fixed + budgeted * MIN_SHOT_SECONDS} s or shorten its fixed shots"
        )
    return None


@lru_cache(maxsize=4096)
def _apportion(seconds: int, weights: tuple[Decimal, ...]) -> tuple[int, ...]:
    """Whole seconds for each weight, summing to ``seconds``, each at least 1.

    Water-filling then Hamilton, as the module docstring says. Pinning only ever
    lowers the others' quotas, so every shot under 1 s at the current quotas is also
    under 1 s at the final ones and can be pinned at once. With ``seconds >= n`` not
    every shot can end up pinned, and the unpinned quotas are each at least 1, so
    their floors already satisfy the minimum.
    """
    exact = [Fraction(w) for w in weights]
    pinned = [False] * len(exact)
    while True:
        free_weight = sum((w for w, p in zip(exact, pinned, strict=True) if not p), Fraction(0))
        free_seconds = seconds - sum(pinned) * MIN_SHOT_SECONDS
        under = [i for i, w in enumerate(exact)
                 if not pinned[i] and w * free_seconds < MIN_SHOT_SECONDS * free_weight]
        if not under:
            break
        for i in under:
            pinned[i] = True

    shares = [MIN_SHOT_SECONDS] * len(exact)
    remainders: list[tuple[Fraction, int]] = []
    for i, w in enumerate(exact):
        if pinned[i]:
            continue
        quota = w * free_seconds / free_weight
        shares[i] = quota.numerator // quota.denominator
        remainders.append((quota - shares[i], i))
    left = seconds - sum(shares)
    # largest remainder first; equal remainders go to the earlier shot
    for _, i in sorted(remainders, key=lambda r: (-r[0], r[1]))[:left]:
        shares[i] += 1
    return tuple(shares)


def _take_fits(seconds: int, shots: int) -> bool:
    return MIN_TAKE_SECONDS <= seconds <= MAX_TAKE_SECONDS and 1 <= shots <= MAX_TAKE_SHOTS


def _takes_from(durations: Sequence[int], start: int) -> list[tuple[int, int]]:
    """``(end, seconds)`` of every valid take that begins with shot ``start``."""
    ends: list[tuple[int, int]] = []
    seconds = 0
    for end in range(start + 1, min(len(durations), start + MAX_TAKE_SHOTS) + 1):
        seconds += durations[end - 1]
        if seconds > MAX_TAKE_SECONDS:
            break
        if _take_fits(seconds, end - start):
            ends.append((end, seconds))
    return ends


@lru_cache(maxsize=4096)
def _split(durations: tuple[int, ...]) -> tuple[int, ...] | None:
    """The cut points ``(0, …, len)`` of the best split into valid takes, or None.

    Dynamic programming over suffixes: ``best[i]`` is the best split of the shots from
    ``i`` on, ranked by (takes, sum of squared seconds, take seconds negated), so a
    smaller key is better. Fixing the first take leaves a suffix whose best split is
    already known, which makes the suffix optimum part of the whole optimum. Each
    shot starts at most six candidate takes, so this is linear in the shots.
    """
    n = len(durations)
    best: list[tuple[_SplitKey, tuple[int, ...]] | None] = [None] * (n + 1)
    best[n] = ((0, 0, ()), (n,))
    for start in range(n - 1, -1, -1):
        choice: tuple[_SplitKey, tuple[int, ...]] | None = None
        for end, seconds in _takes_from(durations, start):
            rest = best[end]
            if rest is None:
                continue
            (takes, squares, negated), cuts = rest
            key = (takes + 1, squares + seconds * seconds, (-seconds, *negated))
            if choice is None or key < choice[0]:
                choice = (key, (start, *cuts))
        best[start] = choice
    return None if best[0] is None else best[0][1]


def _split_problems(clip: RenderedClip, durations: tuple[int, ...]) -> list[Problem]:
    """Say which shots stop a clip from being split.

    A shot that no valid window of shots contains can never be placed; each one is
    named. If every shot fits some window but no split works as a whole, the first
    shot that no chain of valid takes from the start can get past is named.
    """
    name = clip.clip
    n = len(durations)
    placeable = [False] * n
    reachable = [False] * (n + 1)
    reachable[0] = True
    for start in range(n):
        for end, _ in _takes_from(durations, start):
            for i in range(start, end):
                placeable[i] = True
            if reachable[start]:
                reachable[end] = True
    stuck = [
        Problem(
            f"shot {i + 1} of clip '{name}' ({durations[i]} s) cannot be part of any take "
            f"of {_TAKE_SHAPE}; lengthen it or merge it with a neighbour",
            clip.shots[i].location)
        for i in range(n) if not placeable[i]
    ]
    if stuck:
        return stuck
    last = max(i for i in range(n) if reachable[i])
    return [Problem(
        f"clip '{name}' cannot be split at shot boundaries into takes of {_TAKE_SHAPE}: no split "
        f"gets past shot {last + 1} ({durations[last]} s); change the durations around it "
        "or merge it with a neighbour",
        clip.shots[last].location)]

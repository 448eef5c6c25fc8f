"""Duration budgeting: exact takes for the rules, exact error lines, and properties
checked against a brute-force reference on small clips."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storyboard.compile.budget import budget_clip
from storyboard.errors import BudgetError, SourceLocation
from storyboard.model import RenderedClip, Shot, Take

CLIP_AT = SourceLocation("s.yaml", 10, 5, "$.clips[0]")

ShotSpec = tuple[int | None, str | int]  # (duration or None, weight)


def shot_at(i: int) -> SourceLocation:
    return SourceLocation("s.yaml", 12 + 2 * i, 9, f"$.clips[0].shots[{i}]")


def make_clip(
    kind: str,
    duration: int | None,
    shots: Sequence[ShotSpec] = (),
    name: str = "hero",
) -> RenderedClip:
    return RenderedClip(
        variant="default",
        clip=name,
        kind=kind,
        prompt="" if kind == "customize" else "a prompt",
        duration=duration,
        mode="pro",
        aspect_ratio="16:9",
        sound="off",
        shots=tuple(
            Shot(f"shot {i + 1}", d, Decimal(str(w)), shot_at(i))
            for i, (d, w) in enumerate(shots)
        ),
        location=CLIP_AT,
        prompt_location=CLIP_AT,
    )


def fixed(*durations: int) -> list[ShotSpec]:
    return [(d, 1) for d in durations]


def error_lines(clip: RenderedClip) -> list[str]:
    with pytest.raises(BudgetError) as caught:
        budget_clip(clip)
    return [problem.format() for problem in caught.value.problems]


def take_seconds(takes: Sequence[Take]) -> list[tuple[int, ...]]:
    return [t.shot_durations for t in takes]


# --- single shot and model-cut clips -------------------------------------------------


@pytest.mark.parametrize("kind", ["single", "intelligence"])
@pytest.mark.parametrize(("duration", "expected"), [(None, 5), (3, 3), (10, 10), (15, 15)])
def test_one_prompt_clip_is_one_take(kind: str, duration: int | None, expected: int) -> None:
    assert budget_clip(make_clip(kind, duration)) == (
        Take(index=None, duration=expected, shot_durations=(), first_shot=0),
    )


def test_single_shot_over_15_s_is_an_error() -> None:
    assert error_lines(make_clip("single", 20, name="teaser")) == [
        "s.yaml:10:5: error: clip 'teaser' is 20 s but a single-shot generation holds 3–15 s; "
        "shorten it or give it shots so it can be split into takes (at $.clips[0])"
    ]


def test_model_cut_clip_is_never_split() -> None:
    assert error_lines(make_clip("intelligence", 16, name="montage")) == [
        "s.yaml:10:5: error: clip 'montage' is 16 s but a model-cut clip (shots: auto) is one "
        "generation of 3–15 s; shorten it or list its shots so it can be split into takes "
        "(at $.clips[0])"
    ]


@pytest.mark.parametrize("kind", ["single", "intelligence"])
def test_one_prompt_clip_under_3_s_is_an_error(kind: str) -> None:
    assert error_lines(make_clip(kind, 2, name="blink")) == [
        "s.yaml:10:5: error: clip 'blink' is 2 s but one generation needs at least 3 s; "
        "make it at least 3 s long (at $.clips[0])"
    ]


def test_unknown_kind_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown clip kind"):
        budget_clip(make_clip("storyboard", 5))


# --- shares ----------------------------------------------------------------------------


def test_design_example_hero() -> None:
    # 8 s left for weights 1 and 0.5: quotas 16/3 and 8/3, floors 5 and 2, and the
    # last second goes to the larger remainder (2/3, the logo lockup)
    clip = make_clip("customize", 12, [(4, 1), (None, 1), (None, "0.5")])
    assert budget_clip(clip) == (Take(index=None, duration=12, shot_durations=(4, 5, 3)),)


@pytest.mark.parametrize(
    ("duration", "expected"),
    [
        (10, (4, 3, 3)),  # remainders all 1/3: the earlier shot wins
        (11, (4, 4, 3)),  # remainders all 2/3: the two earliest win
        (12, (4, 4, 4)),
    ],
)
def test_equal_remainders_go_to_earlier_shots(duration: int, expected: tuple[int, ...]) -> None:
    clip = make_clip("customize", duration, [(None, 1)] * 3)
    assert take_seconds(budget_clip(clip)) == [expected]


def test_equal_remainders_among_unequal_weights() -> None:
    # 5 s for weights 2, 1, 2: quotas 2, 1, 2 exactly
    clip = make_clip("customize", 5, [(None, 2), (None, 1), (None, 2)])
    assert take_seconds(budget_clip(clip)) == [(2, 1, 2)]
    # 7 s for weights 1, 2, 1: quotas 7/4, 7/2, 7/4 -> floors 1, 3, 1, two seconds left,
    # remainders 3/4, 1/2, 3/4: both 3/4s win, in shot order
    clip = make_clip("customize", 7, [(None, 1), (None, 2), (None, 1)])
    assert take_seconds(budget_clip(clip)) == [(2, 3, 2)]


def test_every_budgeted_shot_gets_at_least_one_second() -> None:
    clip = make_clip("customize", 10, [(None, "0.01"), (None, "0.01"), (None, 1)])
    assert take_seconds(budget_clip(clip)) == [(1, 1, 8)]


def test_the_floor_does_not_distort_quotas_that_are_already_whole() -> None:
    # quotas 1 and 14 exactly: giving every shot 1 s first and then apportioning
    # would have made this 2 and 13
    clip = make_clip("customize", 15, [(None, 1), (None, 14)])
    assert take_seconds(budget_clip(clip)) == [(1, 14)]


def test_pinning_a_shot_can_push_another_under_one_second() -> None:
    # quotas 0.0099, 1.0437, 8.946: pinning the first at 1 s leaves the second 0.94,
    # so it is pinned too and the third gets the other 8 s
    clip = make_clip("customize", 10, [(None, "0.01"), (None, "1.05"), (None, 9)])
    assert take_seconds(budget_clip(clip)) == [(1, 1, 8)]


def test_fixed_shots_keep_their_duration_and_the_rest_is_shared() -> None:
    clip = make_clip("customize", 14, [(None, 1), (6, 1), (None, 3)])
    assert take_seconds(budget_clip(clip)) == [(2, 6, 6)]


def test_without_clip_duration_the_total_is_the_sum() -> None:
    clip = make_clip("customize", None, fixed(3, 4, 2))
    assert budget_clip(clip) == (Take(index=None, duration=9, shot_durations=(3, 4, 2)),)


def test_exactly_matching_fixed_shots() -> None:
    clip = make_clip("customize", 9, fixed(3, 4, 2))
    assert take_seconds(budget_clip(clip)) == [(3, 4, 2)]


# --- takes -----------------------------------------------------------------------------


def test_40_s_of_eight_5_s_shots() -> None:
    # three takes are needed; {15, 15, 10} in any order is the most even, and the
    # longer takes go first
    clip = make_clip("customize", 40, [(None, 1)] * 8)
    assert budget_clip(clip) == (
        Take(index=1, duration=15, shot_durations=(5, 5, 5), first_shot=0),
        Take(index=2, duration=15, shot_durations=(5, 5, 5), first_shot=3),
        Take(index=3, duration=10, shot_durations=(5, 5), first_shot=6),
    )


def test_16_s_of_two_8_s_shots() -> None:
    assert budget_clip(make_clip("customize", None, fixed(8, 8))) == (
        Take(index=1, duration=8, shot_durations=(8,), first_shot=0),
        Take(index=2, duration=8, shot_durations=(8,), first_shot=1),
    )


def test_seven_shots_are_split_by_shot_count() -> None:
    # 14 s fits one generation's seconds but not its six shots
    assert budget_clip(make_clip("customize", None, fixed(2, 2, 2, 2, 2, 2, 2))) == (
        Take(index=1, duration=8, shot_durations=(2, 2, 2, 2), first_shot=0),
        Take(index=2, duration=6, shot_durations=(2, 2, 2), first_shot=4),
    )


def test_most_even_split_wins_over_greedy() -> None:
    # greedy would fill 15 + 15 + 3; the most even three-take split is 12 + 12 + 9
    clip = make_clip("customize", None, fixed(3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3))
    assert [t.duration for t in budget_clip(clip)] == [12, 12, 9]


def test_short_shot_joins_a_neighbour() -> None:
    assert take_seconds(budget_clip(make_clip("customize", None, fixed(14, 1, 10)))) == [
        (14,),
        (1, 10),
    ]


def test_a_hundred_shots() -> None:
    clip = make_clip("customize", 500, [(None, 1)] * 100)
    takes = budget_clip(clip)
    # 34 takes at least; 32 x 15 + 2 x 10 is more even than 33 x 15 + 5
    assert [t.duration for t in takes] == [15] * 32 + [10, 10]
    assert [t.index for t in takes] == list(range(1, 35))
    assert takes[-1] == Take(index=34, duration=10, shot_durations=(5, 5), first_shot=98)


def test_a_hundred_uneven_shots() -> None:
    clip = make_clip("customize", 600, [(None, 1 + i % 3) for i in range(100)])
    takes = budget_clip(clip)
    assert_valid_takes(clip, takes)


def test_repeated_calls_give_the_same_takes() -> None:
    clip = make_clip("customize", 30, [(None, 1), (None, 2), (5, 1), (None, 1), (None, 3)])
    assert budget_clip(clip) == budget_clip(clip)
    # 4 7 5 3 11 needs three takes; 11 + 8 + 11 is the most even of them
    assert take_seconds(budget_clip(clip)) == [(4, 7), (5, 3), (11,)]


# --- errors ----------------------------------------------------------------------------


def test_fixed_shot_over_15_s() -> None:
    assert error_lines(make_clip("customize", None, fixed(4, 16))) == [
        "s.yaml:14:9: error: shot 2 of clip 'hero' is 16 s; one generation holds at most "
        "15 s — split it into two shots (at $.clips[0].shots[1])"
    ]


def test_budgeted_shot_over_15_s() -> None:
    assert error_lines(make_clip("customize", 24, [(None, 3), (None, 1)])) == [
        "s.yaml:12:9: error: shot 1 of clip 'hero' is budgeted 18 s; one generation holds "
        "at most 15 s — split it into two shots or shorten the clip (at $.clips[0].shots[0])"
    ]


def test_missing_durations_without_clip_duration_are_all_reported() -> None:
    clip = make_clip("customize", None, [(None, 1), (16, 1), (None, 1)])
    assert error_lines(clip) == [
        "s.yaml:12:9: error: shot 1 of clip 'hero' has no duration and the clip has no total "
        "to share among its shots; give the shot a duration or give the clip one "
        "(at $.clips[0].shots[0])",
        "s.yaml:14:9: error: shot 2 of clip 'hero' is 16 s; one generation holds at most "
        "15 s — split it into two shots (at $.clips[0].shots[1])",
        "s.yaml:16:9: error: shot 3 of clip 'hero' has no duration and the clip has no total "
        "to share among its shots; give the shot a duration or give the clip one "
        "(at $.clips[0].shots[2])",
    ]


def test_fixed_shots_longer_than_the_clip() -> None:
    assert error_lines(make_clip("customize", 10, [(6, 1), (6, 1), (None, 1)])) == [
        "s.yaml:10:5: error: clip 'hero' is 10 s but its shots with a duration already take "
        "12 s; lengthen the clip or shorten those shots (at $.clips[0])"
    ]


def test_shot_and_clip_problems_are_reported_together() -> None:
    assert error_lines(make_clip("customize", 10, [(16, 1), (None, 1)])) == [
        "s.yaml:12:9: error: shot 1 of clip 'hero' is 16 s; one generation holds at most "
        "15 s — split it into two shots (at $.clips[0].shots[0])",
        "s.yaml:10:5: error: clip 'hero' is 10 s but its shots with a duration already take "
        "16 s; lengthen the clip or shorten those shots (at $.clips[0])",
    ]


def test_too_little_left_for_budgeted_shots() -> None:
    assert error_lines(make_clip("customize", 10, [(9, 1), (None, 1), (None, 1)])) == [
        "s.yaml:10:5: error: clip 'hero' is 10 s and its shots with a duration take 9 s, "
        "leaving 1 s for 2 budgeted shots that need at least 1 s each; make the clip at "
        "least 11 s or shorten its fixed shots (at $.clips[0])"
    ]
    assert error_lines(make_clip("customize", 9, [(9, 1), (None, 1)])) == [
        "s.yaml:10:5: error: clip 'hero' is 9 s and its shots with a duration take 9 s, "
        "leaving 0 s for 1 budgeted shot that needs at least 1 s each; make the clip at "
        "least 10 s or shorten its fixed shots (at $.clips[0])"
    ]


@pytest.mark.parametrize("duration", [8, 12])
def test_all_fixed_shots_must_match_the_clip(duration: int) -> None:
    assert error_lines(make_clip("customize", duration, fixed(5, 5))) == [
        f"s.yaml:10:5: error: clip 'hero' is {duration} s but its shots add up to 10 s; make "
        "them agree, or leave out a shot's duration so it gets the rest (at $.clips[0])"
    ]


def test_clip_under_3_s() -> None:
    assert error_lines(make_clip("customize", None, fixed(1, 1))) == [
        "s.yaml:10:5: error: clip 'hero' is 2 s but one generation needs at least 3 s; "
        "make it at least 3 s long (at $.clips[0])"
    ]


def test_shot_that_no_take_can_hold() -> None:
    assert error_lines(make_clip("customize", None, fixed(15, 1, 15), name="x")) == [
        "s.yaml:14:9: error: shot 2 of clip 'x' (1 s) cannot be part of any take of 3–15 s "
        "with at most 6 shots; lengthen it or merge it with a neighbour (at $.clips[0].shots[1])"
    ]


def test_every_unplaceable_shot_is_reported() -> None:
    assert error_lines(make_clip("customize", None, fixed(15, 1, 15, 2, 14), name="x")) == [
        "s.yaml:14:9: error: shot 2 of clip 'x' (1 s) cannot be part of any take of 3–15 s "
        "with at most 6 shots; lengthen it or merge it with a neighbour (at $.clips[0].shots[1])",
        "s.yaml:18:9: error: shot 4 of clip 'x' (2 s) cannot be part of any take of 3–15 s "
        "with at most 6 shots; lengthen it or merge it with a neighbour (at $.clips[0].shots[3])",
    ]


def test_shots_that_each_fit_a_take_but_not_together() -> None:
    # 2+13 and 13+2 are both takes, but 2, 13, 2 cannot be cut into takes
    assert error_lines(make_clip("customize", None, fixed(2, 13, 2), name="x")) == [
        "s.yaml:16:9: error: clip 'x' cannot be split at shot boundaries into takes of "
        "3–15 s with at most 6 shots: no split gets past shot 3 (2 s); change the durations "
        "around it or merge it with a neighbour (at $.clips[0].shots[2])"
    ]


def test_shot_under_one_second_and_bad_weight() -> None:
    clip = make_clip("customize", 10, [(0, 1), (None, 0), (None, 1)])
    assert error_lines(clip) == [
        "s.yaml:12:9: error: shot 1 of clip 'hero' is 0 s; a shot needs at least 1 s "
        "(at $.clips[0].shots[0])",
        "s.yaml:14:9: error: shot 2 of clip 'hero' has weight 0; a weight must be a positive "
        "number (at $.clips[0].shots[1])",
    ]


def test_clip_without_shots() -> None:
    assert error_lines(make_clip("customize", 5, [])) == [
        "s.yaml:10:5: error: clip 'hero' has no shots; give it at least one (at $.clips[0])"
    ]


# --- properties against a brute-force reference ---------------------------------------

WEIGHTS = ["0.01", "0.1", "0.25", "0.5", "1", "1", "1", "1.5", "2", "3", "7"]


def reference_quotas(seconds: int, weights: Sequence[Fraction]) -> list[Fraction]:
    """Exact shares with the 1 s floor: pin the k lightest shots at 1 s for the one k
    where every pinned quota is under 1 and every other is at least 1."""
    order = sorted(range(len(weights)), key=lambda i: weights[i])
    for k in range(len(weights) + 1):
        pinned = set(order[:k])
        free = [i for i in range(len(weights)) if i not in pinned]
        free_weight = sum((weights[i] for i in free), Fraction(0))
        scale = Fraction(seconds - k) / free_weight if free else Fraction(0)
        if all(weights[i] * scale < 1 for i in pinned) and all(
            weights[i] * scale >= 1 for i in free
        ):
            return [Fraction(1) if i in pinned else weights[i] * scale for i in range(len(weights))]
    raise AssertionError("no consistent pinning")


def reference_shares(seconds: int, weights: Sequence[Fraction]) -> list[int]:
    quotas = reference_quotas(seconds, weights)
    shares = [math.floor(q) for q in quotas]
    by_remainder = sorted(range(len(quotas)), key=lambda i: (-(quotas[i] - shares[i]), i))
    for i in by_remainder[: seconds - sum(shares)]:
        shares[i] += 1
    return shares


def reference_split(durations: Sequence[int]) -> list[tuple[int, int]] | None:
    """Every way to cut the shots, filtered to valid takes, best by the documented order."""
    n = len(durations)
    best: tuple[tuple[int, int, tuple[int, ...]], list[tuple[int, int]]] | None = None
    for mask in range(1 << (n - 1)):
        cuts = [0] + [i + 1 for i in range(n - 1) if mask >> i & 1] + [n]
        takes = list(itertools.pairwise(cuts))
        seconds = [sum(durations[a:b]) for a, b in takes]
        if all(3 <= s <= 15 and b - a <= 6 for s, (a, b) in zip(seconds, takes, strict=True)):
            key = (len(takes), sum(s * s for s in seconds), tuple(-s for s in seconds))
            if best is None or key < best[0]:
                best = (key, takes)
    return None if best is None else best[1]


def reference_durations(clip: RenderedClip) -> list[int] | None:
    """The shot durations the rules give, or None where budgeting must fail."""
    shots = clip.shots
    if any(s.duration is not None and not 1 <= s.duration <= 15 for s in shots):
        return None
    fixed_sum = sum(s.duration for s in shots if s.duration is not None)
    budgeted = [i for i, s in enumerate(shots) if s.duration is None]
    if clip.duration is None:
        return None if budgeted else [s.duration or 0 for s in shots]
    left = clip.duration - fixed_sum
    if (not budgeted and left != 0) or left < len(budgeted):
        return None
    durations = [s.duration or 0 for s in shots]
    if budgeted:
        weights = [Fraction(shots[i].weight) for i in budgeted]
        for i, share in zip(budgeted, reference_shares(left, weights), strict=True):
            durations[i] = share
    return None if max(durations) > 15 else durations


shot_specs = st.one_of(
    st.tuples(st.integers(1, 16), st.just("1")),
    st.tuples(st.none(), st.sampled_from(WEIGHTS)),
)
small_clips = st.builds(
    lambda duration, shots: make_clip("customize", duration, shots),
    st.one_of(st.none(), st.integers(1, 70)),
    st.lists(shot_specs, min_size=1, max_size=10),
)
PROPERTY_SETTINGS = settings(
    derandomize=True, max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def assert_valid_takes(clip: RenderedClip, takes: Sequence[Take]) -> None:
    assert takes
    position = 0
    for number, take in enumerate(takes, start=1):
        assert take.index == (None if len(takes) == 1 else number)
        assert take.first_shot == position
        assert 3 <= take.duration <= 15
        assert 1 <= len(take.shot_durations) <= 6
        assert all(type(d) is int and d >= 1 for d in take.shot_durations)
        assert sum(take.shot_durations) == take.duration
        position += len(take.shot_durations)
    assert position == len(clip.shots)
    durations = [d for take in takes for d in take.shot_durations]
    for shot, seconds in zip(clip.shots, durations, strict=True):
        if shot.duration is not None:
            assert seconds == shot.duration
    total = sum(durations)
    if clip.duration is not None:
        assert total == clip.duration
    else:
        assert total == sum(s.duration or 0 for s in clip.shots)


@PROPERTY_SETTINGS
@given(small_clips)
def test_takes_match_the_brute_force_reference(clip: RenderedClip) -> None:
    durations = reference_durations(clip)
    split = None if durations is None else reference_split(durations)
    if split is None:
        with pytest.raises(BudgetError) as caught:
            budget_clip(clip)
        locations = {CLIP_AT, *(s.location for s in clip.shots)}
        assert caught.value.problems
        assert all(p.location in locations for p in caught.value.problems)
        return
    assert durations is not None
    takes = budget_clip(clip)
    assert_valid_takes(clip, takes)
    assert [(t.first_shot, t.first_shot + len(t.shot_durations)) for t in takes] == split
    assert [d for t in takes for d in t.shot_durations] == durations


@PROPERTY_SETTINGS
@given(
    st.lists(st.sampled_from(WEIGHTS), min_size=1, max_size=8),
    st.integers(0, 60),
)
def test_shares_stay_within_a_second_of_their_quota(weights: list[str], extra: int) -> None:
    seconds = len(weights) + extra  # always enough for the 1 s floor
    clip = make_clip("customize", seconds, [(None, w) for w in weights])
    exact = [Fraction(Decimal(w)) for w in weights]
    quotas = reference_quotas(seconds, exact)
    try:
        takes = budget_clip(clip)
    except BudgetError:
        shares = reference_shares(seconds, exact)
        assert max(shares) > 15 or reference_split(shares) is None
        return
    shares = [d for take in takes for d in take.shot_durations]
    assert sum(shares) == seconds
    total_weight = sum(exact)
    for share, weight, quota in zip(shares, exact, quotas, strict=True):
        raw = seconds * weight / total_weight
        assert share >= 1
        assert abs(share - quota) < 1  # within a second of the floored quota
        if raw >= quota:  # a shot that gave seconds to the floor is off by no more
            assert abs(share - raw) < 1 + (raw - quota)
        else:  # a pinned shot: exactly the floor
            assert share == 1
    # largest remainder: no shot left without its extra second beats one that got it
    remainders = [q - math.floor(q) for q in quotas]
    rounded_up = [s > math.floor(q) for s, q in zip(shares, quotas, strict=True)]
    for i, j in itertools.permutations(range(len(shares)), 2):
        if rounded_up[i] and not rounded_up[j] and quotas[j] >= 1 and quotas[i] >= 1:
            assert (remainders[i], -i) > (remainders[j], -j)


@PROPERTY_SETTINGS
@given(st.lists(st.integers(1, 15), min_size=1, max_size=11))
def test_fewest_takes_by_brute_force(durations: list[int]) -> None:
    clip = make_clip("customize", None, fixed(*durations))
    split = reference_split(durations)
    if split is None:
        with pytest.raises(BudgetError):
            budget_clip(clip)
        return
    takes = budget_clip(clip)
    assert_valid_takes(clip, takes)
    assert len(takes) == len(split)


@settings(derandomize=True, max_examples=50, deadline=None)
@given(st.lists(st.integers(1, 15), min_size=40, max_size=100))
def test_long_clips_always_budget_or_name_a_shot(durations: list[int]) -> None:
    clip = make_clip("customize", None, fixed(*durations))
    try:
        takes = budget_clip(clip)
    except BudgetError as error:
        assert all(p.location in {s.location for s in clip.shots} for p in error.problems)
        return
    assert_valid_takes(clip, takes)
    assert len(takes) >= math.ceil(sum(durations) / 15)

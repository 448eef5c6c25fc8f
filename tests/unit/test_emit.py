"""The request check: every compiled request against the API's schema, fast and exact."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from storyboard.compile.emit import _prompt_bounds, _schema_valid
from storyboard.model import DEFAULT_MODEL
from storyboard.resources import REQUEST_SCHEMA, load_schema

FULL = Draft202012Validator(load_schema(REQUEST_SCHEMA))

prompts = st.one_of(st.just(""), st.text(min_size=1, max_size=3),
                    st.integers(0, 2600).map(lambda n: "x" * n))
values = st.one_of(st.integers(-1, 20), st.booleans(), st.sampled_from(
    ["std", "pro", "fast", "16:9", "1:1", "4:3", "on", "off", "intelligence", "customize"]),
    st.none())
shots = st.lists(st.fixed_dictionaries({"prompt": prompts, "duration": values}),
                 min_size=0, max_size=7)


@st.composite
def requests(draw: st.DrawFn) -> dict[str, Any]:
    args: dict[str, Any] = {"prompt": draw(prompts)}
    for key in ("mode", "duration", "aspect_ratio", "sound", "multi_shot", "shot_type"):
        if draw(st.integers(0, 9)):
            args[key] = draw(values)
    if draw(st.booleans()):
        args["multi_prompt"] = draw(shots)
    return {"model": draw(st.sampled_from([DEFAULT_MODEL, "other/model"])), "args": args}


def test_prompts_are_constrained_by_length_only_so_shapes_can_share_verdicts() -> None:
    assert _prompt_bounds() == (1, 513, 2501)


@settings(max_examples=600, derandomize=True, deadline=None)
@given(request=requests())
def test_the_shape_cache_never_changes_a_verdict(request: dict[str, Any]) -> None:
    assert _schema_valid(request) == FULL.is_valid(request)

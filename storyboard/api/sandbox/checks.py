"""What the sandbox refuses in a create, checked on its own as the real service would
(rather than trusting the client's compile-time check: that is the point of a stand-in)."""

from __future__ import annotations

from functools import cache
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from storyboard.model import shots_sum
from storyboard.resources import REQUEST_SCHEMA, load_schema


@cache
def validator() -> Draft202012Validator:
    return Draft202012Validator(load_schema(REQUEST_SCHEMA))


def request_problem(body: Any) -> str | None:
    """Why the API would reject this create body (``$.path: message``), or None."""
    error = best_match(validator().iter_errors(body))
    if error is not None:
        return f"{error.json_path}: {error.message}"
    args = body["args"]
    shots = args.get("multi_prompt") or []
    durations = {"$.args.duration": args["duration"]}
    durations.update(
        (f"$.args.multi_prompt[{i}].duration", shot["duration"]) for i, shot in enumerate(shots)
    )
    for path, value in durations.items():
        # JSON Schema counts 5.0 as an integer; the API wants whole seconds written as such.
        if isinstance(value, float):
            return f"{path}: {value!r} is not an integer (write whole seconds as {int(value)})"
    total = shots_sum(args)
    if total is not None:
        return (
            f"$.args.multi_prompt: shot durations sum to {total} s, "
            f"but duration is {args['duration']} s"
        )
    return None


def reject_constant(name: str) -> Any:
    """``json.loads``'s hook for NaN and Infinity, which are not JSON."""
    raise ValueError(f"{name} is not valid JSON")

"""The sandbox's canned replies: JSON bodies, and what each injected fault answers."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from storyboard.api.sandbox.http import _Reply


def json_reply(status: int, payload: Mapping[str, Any], **kwargs: Any) -> _Reply:
    body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
    return _Reply(status=status, body=body, **kwargs)


UNAUTHORIZED = json_reply(401, {"code": 401,
                                "message": "unauthorized: missing or invalid API key"})
# HTTP 200 with a non-zero code, and the text under "msg": ShortAPI's errors come every way.
JOB_NOT_FOUND = json_reply(200, {"code": 404, "msg": "job not found"})
DROP = _Reply(drop=True)


def fault_reply(fault: str, retry_after: float) -> _Reply:
    """What a create, query or download answers when ``fault`` is drawn for it."""
    if fault == "drop_before":
        return DROP
    if fault == "http429":
        return json_reply(429, {"code": 429, "message": "too many requests"},
                          headers=(("Retry-After", f"{retry_after:g}"),))
    if fault == "http503":
        return json_reply(503, {"code": 503, "info": "service unavailable"})
    if fault == "http500":
        return json_reply(500, {"code": 500, "message": "sandbox: injected internal error"})
    if fault == "code3000":
        return json_reply(200, {"code": 3000, "message": "model temporarily unavailable"})
    raise AssertionError(f"no reply for fault {fault}")

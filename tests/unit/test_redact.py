"""A secret never reaches what is written: the key anywhere in a text, URL-encoded or not,
and the values of URL parameters that name a credential."""

from __future__ import annotations

import pytest

from storyboard.api.client import redact

KEY = "sk-live/ab+cd=ef"


@pytest.mark.parametrize(("text", "expected"), [
    (f"https://cdn.example/v.mp4?key={KEY}", "https://cdn.example/v.mp4?key=[redacted]"),
    ("https://cdn.example/v.mp4?key=sk-live%2Fab%2Bcd%3Def&x=1",
     "https://cdn.example/v.mp4?key=[redacted]&x=1"),
    (f"https://cdn.example/{KEY}/v.mp4", "https://cdn.example/[redacted]/v.mp4"),
    ("https://s3.example/v.mp4?X-Amz-Signature=abc123&X-Amz-Expires=60",
     "https://s3.example/v.mp4?X-Amz-Signature=[redacted]&X-Amz-Expires=60"),
    ("https://a.example/v.mp4?access_token=t0k&id=7", "https://a.example/v.mp4?access_token="
     "[redacted]&id=7"),
    ("https://a.example/v.mp4?id=7&size=9", "https://a.example/v.mp4?id=7&size=9"),
    (f"HTTP 500 from https://api.example (key {KEY})", "HTTP 500 from https://api.example "
     "(key [redacted])"),
])
def test_secrets_are_redacted(text: str, expected: str) -> None:
    assert redact(text, KEY) == expected

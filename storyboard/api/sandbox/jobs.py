"""A sandbox job's server-side state, and the placeholder video it delivers."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from storyboard.media import placeholder


@dataclass(slots=True)
class Job:
    """Server-side state of one job (guarded by the sandbox's lock)."""

    job_id: str
    key: str  # fault-draw key: request hash + ordinal (stable across runs), or a restored id
    request_hash: str
    duration: int
    created: float  # time.monotonic()
    latency: float
    fails: bool
    expire_first_url: bool
    look: placeholder.Placeholder  # what its video shows
    token: str | None = None  # the result URL's token handed out now
    expired_tokens: set[str] = field(default_factory=set)
    queries: int = 0
    downloads: int = 0


@lru_cache(maxsize=16)  # a job's retried downloads, and jobs of the same request
def placeholder_video(look: placeholder.Placeholder) -> bytes:
    return placeholder.render(look)

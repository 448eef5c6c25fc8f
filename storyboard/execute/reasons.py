"""The one sentence each kind of outcome gives as its reason, wherever it is decided."""

from __future__ import annotations

from storyboard.errors import StoryboardError


def unknown_reason(what_happened: str) -> str:
    """The one sentence for a create of unknown outcome: what happened (as the journal keeps
    it), that it may have been charged, and what to do."""
    return (f"{what_happened}, so the job may exist and be charged; not sent again — check "
            "with the provider, then rerun with --resubmit-unknown to render it")


def local_failure(exc: StoryboardError | OSError) -> str:
    if isinstance(exc, OSError):
        where = f": {exc.filename}" if exc.filename else ""
        return f"{exc.strerror or exc}{where} (nothing more was charged; a rerun resumes)"
    return str(exc)

"""Where the job API is, with which key, and whether it is a sandbox: settled before a run
plans anything."""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from storyboard import __version__
from storyboard.api.contract import (
    API_KEY_ENV,
    BASE_URL_ENV,
    DEFAULT_BASE_URL,
    QUERY_PATH,
    is_sandbox,
)
from storyboard.errors import UsageError

PROBE_TIMEOUT_S = 5.0


def base_url_from(option: str | None, env: Mapping[str, str]) -> str:
    """``--api-base``, else ``$SHORTAPI_BASE_URL``, else the public API."""
    raw = option or env.get(BASE_URL_ENV) or DEFAULT_BASE_URL
    return _checked_base_url(raw, "--api-base" if option else BASE_URL_ENV)


def _checked_base_url(raw: str, source: str) -> str:
    try:
        url = httpx.URL(raw.strip())
    except httpx.InvalidURL:
        url = None
    if url is None or url.scheme not in ("http", "https") or not url.host:
        raise UsageError(f"{source}: {raw!r} is not an http(s) URL such as {DEFAULT_BASE_URL}")
    return str(url).rstrip("/")


def api_key_from(env: Mapping[str, str]) -> str | None:
    """The key comes from ``$SHORTAPI_KEY`` only (never a file, an option or a plan)."""
    key = env.get(API_KEY_ENV, "").strip()
    return key or None


def identify(base_url: str, *, transport: httpx.BaseTransport | None = None,
             timeout: float = PROBE_TIMEOUT_S) -> bool:
    """Whether the API at ``base_url`` is a sandbox, asked before a run plans anything.

    One GET of the query endpoint without a key (nothing is sent that could cost or
    leak); any answer carries the sandbox's header if it is one. An API that cannot be
    reached is taken for the real one: the safe side, since then nothing a sandbox
    made is reused.
    """
    try:
        with httpx.Client(transport=transport, timeout=timeout,
                          follow_redirects=False) as http:
            response = http.get(_checked_base_url(base_url, "base URL") + QUERY_PATH,
                                headers={"User-Agent": f"storyboard/{__version__}"})
    except httpx.HTTPError:
        return False
    return is_sandbox(response)

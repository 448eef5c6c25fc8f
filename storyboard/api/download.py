"""One try at fetching a result video: to a temporary file beside its place, fsynced,
checked as an MP4 of about the expected length, then renamed into place."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import httpx

from storyboard.api.contract import parse_retry_after
from storyboard.api.failures import _describe_exception, _Transient
from storyboard.errors import DownloadError
from storyboard.media.probe import verify as verify_video
from storyboard.store import fsync_dir, new_file_mode


class Fetch:
    """How downloads are made: over ``http``, with these headers, timeout and size cap."""

    def __init__(self, http: httpx.AsyncClient, *, headers: httpx.Headers,
                 timeout: httpx.Timeout, max_bytes: int,
                 redact: Callable[[str], str]) -> None:
        self._http = http
        self._headers = headers
        self._timeout = timeout
        self._max_bytes = max_bytes
        self._redact = redact

    async def once(self, what: str, url: str, dest: Path,
                   expected_seconds: int | None) -> tuple[str, int]:
        """``(sha256 hex, size)`` of the video now at ``dest``; ``_Transient`` when trying
        again may help, ``DownloadError`` when it will not."""
        try:
            fd, temp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.",
                                             suffix=".part")
        except OSError as exc:
            raise DownloadError(f"{what}: cannot write in {dest.parent}: {exc.strerror}") from exc
        temp = Path(temp_name)
        placed = False
        try:
            os.fchmod(fd, new_file_mode())  # the cache file is the render (a hard link)
            with os.fdopen(fd, "wb") as out:
                digest, size = await self._stream_to(what, url, out)
                out.flush()
                os.fsync(out.fileno())
            if size == 0:
                raise _Transient(DownloadError(f"{what}: the server sent an empty body"))
            try:
                verify_video(temp, expected_seconds)
            except DownloadError as exc:
                raise _Transient(DownloadError(f"{what}: {exc}")) from exc
            os.replace(temp, dest)
            placed = True
        finally:
            if not placed:
                with contextlib.suppress(FileNotFoundError):
                    temp.unlink()
        fsync_dir(dest.parent)
        return digest, size

    async def _stream_to(self, what: str, url: str, out: BinaryIO) -> tuple[str, int]:
        digest = hashlib.sha256()
        size = 0
        try:
            async with self._http.stream(
                    "GET", url, headers=self._headers, timeout=self._timeout,
                    follow_redirects=True) as response:
                status = response.status_code
                if not 200 <= status < 300:
                    retry_after = parse_retry_after(response.headers.get("retry-after"),
                                                    time.time())
                    error = DownloadError(f"{what}: HTTP {status}")
                    if status in (408, 429) or status >= 500:
                        raise _Transient(error, retry_after)
                    raise DownloadError(f"{what}: HTTP {status}; the URL may have expired, "
                                        "query the job again for a fresh one")
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > self._max_bytes:
                        raise DownloadError(f"{what}: larger than {self._max_bytes} bytes")
                    digest.update(chunk)
                    out.write(chunk)
        except httpx.HTTPError as exc:
            raise _Transient(DownloadError(
                self._redact(f"{what}: {_describe_exception(exc)}"))) from exc
        return digest.hexdigest(), size

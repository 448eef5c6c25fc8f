"""An S3-compatible bucket as the render store runners share (``--store s3://bucket/prefix``).

A folder store (a mounted share) is the cache itself. A bucket is not a file system, so
each runner keeps its local cache and the bucket mirrors it: a finished video is put there
once downloaded (and again by any runner that finds it missing), and a runner that needs a
video another runner made gets it from the bucket — checked against the journal's sha256
— before it would download it again from the provider. Objects are named like the cache's
files (``<prefix>/ab/<hash>.mp4``), so the bucket is content-addressed by request hash.

boto3 is the AWS SDK; it reads the endpoint (``AWS_ENDPOINT_URL``, for MinIO, R2, Ceph…),
region and credentials from the environment and its config files, as every AWS tool does:
none of them is ever an option, a journal column or a line of output here.
"""

from __future__ import annotations

import contextlib
import functools
import os
import threading
from importlib.util import find_spec
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from storyboard.errors import StoreError, UsageError

SCHEME = "s3://"


def is_bucket_url(location: object) -> bool:
    return isinstance(location, str) and location.lower().startswith(SCHEME)


class Bucket:
    """``s3://bucket[/prefix]``: get and put cached videos by their cache name."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme.lower() != "s3" or not parts.netloc:
            raise StoreError(f"{url}: a bucket store is s3://BUCKET[/PREFIX]")
        self.url = f"s3://{parts.netloc}{parts.path.rstrip('/')}"
        self.bucket = parts.netloc
        self.prefix = parts.path.strip("/")
        self._lock = threading.Lock()
        self._client: Any = None

    def key(self, name: str) -> str:
        return f"{self.prefix}/{name}" if self.prefix else name

    def fetch(self, name: str, target: Path) -> bool:
        """Download ``name`` to ``target`` (atomically); False when the bucket lacks it."""
        client = self.client()
        tmp = target.with_name(f".{target.name}.{os.getpid()}.bucket.part")
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            client.download_file(self.bucket, self.key(name), str(tmp))
        except Exception as exc:  # botocore's errors: one line, never a traceback
            tmp.unlink(missing_ok=True)
            if _missing(exc):
                return False
            raise self._failure("get", name, exc) from None
        os.replace(tmp, target)
        return True

    def keep(self, name: str, source: Path) -> None:
        """Put ``source`` in the bucket as ``name``, unless it is there already."""
        client = self.client()
        try:
            with contextlib.suppress(Exception):
                client.head_object(Bucket=self.bucket, Key=self.key(name))
                return
            client.upload_file(str(source), self.bucket, self.key(name))
        except Exception as exc:
            raise self._failure("put", name, exc) from None

    def client(self) -> Any:
        with self._lock:
            if self._client is None:
                if find_spec("boto3") is None:
                    raise UsageError("--store s3://… needs boto3, which is not installed: "
                                     "pip install 'storyboard[s3]'")
                import boto3
                from botocore.config import Config

                self._client = boto3.client("s3", config=Config(
                    retries={"max_attempts": 3, "mode": "standard"},
                    connect_timeout=10, read_timeout=60))
            return self._client

    def _failure(self, verb: str, name: str, exc: Exception) -> StoreError:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return StoreError(f"{self.url}: cannot {verb} {name} in the render store: {text} "
                          "(nothing more was charged: the journal keeps the job; rerun the "
                          "same command once the store is reachable)")


@functools.cache
def bucket(url: str) -> Bucket:
    """One client per bucket and process (making one reads config files: ~50 ms)."""
    return Bucket(url)


def _missing(exc: Exception) -> bool:
    response = getattr(exc, "response", None)
    code = str((response or {}).get("Error", {}).get("Code", ""))
    return code in ("404", "NoSuchKey", "NotFound")

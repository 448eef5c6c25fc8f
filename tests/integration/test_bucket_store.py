"""Issue 13: the render store in an S3-compatible bucket (``--store s3://bucket/prefix``),
against a real S3-compatible server process on loopback (moto's server), with runners
sharing a journal in a real PostgreSQL server."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import boto3
import pytest

from storyboard.api.sandbox import Sandbox

from .conftest import FAKE_KEY, FAST, REPO
from .test_shared_state import (
    GENERATIONS,
    LAUNCH,
    assert_each_generation_created_once,
    delivered,
    finish,
)

S3_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing-secret-never-shown",
          "AWS_DEFAULT_REGION": "us-east-1"}


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """``moto_server`` in its own process on a free loopback port: S3's HTTP API."""
    server = Path(sys.executable).with_name("moto_server")
    proc = subprocess.Popen([str(server), "-H", "127.0.0.1", "-p", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            found = re.search(r"Running on (http://127\.0\.0\.1:\d+)", line)
            if found:
                yield found.group(1)
                break
        else:
            pytest.fail("moto_server did not start")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def bucket(s3_endpoint: str, request: pytest.FixtureRequest) -> str:
    name = re.sub(r"[^a-z0-9-]", "-", request.node.name.lower())[:50].strip("-")
    boto3.client("s3", endpoint_url=s3_endpoint, **_creds()).create_bucket(Bucket=name)
    return name


def _creds() -> dict[str, str]:
    return {"aws_access_key_id": S3_ENV["AWS_ACCESS_KEY_ID"],
            "aws_secret_access_key": S3_ENV["AWS_SECRET_ACCESS_KEY"],
            "region_name": S3_ENV["AWS_DEFAULT_REGION"]}


def objects(endpoint: str, bucket: str) -> list[str]:
    listed = boto3.client("s3", endpoint_url=endpoint, **_creds()).list_objects_v2(Bucket=bucket)
    return sorted(o["Key"] for o in listed.get("Contents", []))


def runner(root: Path, api: Sandbox, state: str, store: str,
           endpoint: str) -> subprocess.Popen[str]:
    env = {**os.environ, **S3_ENV, "AWS_ENDPOINT_URL": endpoint, "SHORTAPI_KEY": FAKE_KEY}
    return subprocess.Popen(
        [sys.executable, "-m", "storyboard", "run", str(root / LAUNCH), "--yes", "--no-cut",
         "--api-base", api.base_url, *FAST, "--state", state, "--store", store],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_runners_share_renders_through_a_bucket(
        pg_url: str, api: Sandbox, s3_endpoint: str, bucket: str,
        tracked_copy: Callable[..., Path], tmp_path: Path) -> None:
    first, second = (tracked_copy(REPO / "examples", tmp_path / n) for n in ("a", "b"))
    store = f"s3://{bucket}/renders"
    code, out, err = finish(runner(first, api, pg_url, store, s3_endpoint))
    assert code == 0, out + err
    keys = objects(s3_endpoint, bucket)
    assert len(keys) == GENERATIONS and all(re.fullmatch(r"renders/[0-9a-f]{2}/[0-9a-f]{64}"
                                                         r"\.mp4", k) for k in keys), keys
    downloads = sum(api.ledger.downloads.values())

    code, out, err = finish(runner(second, api, pg_url, store, s3_endpoint))
    assert code == 0, out + err
    assert "reused: 12" in out
    assert_each_generation_created_once(api)
    assert sum(api.ledger.downloads.values()) == downloads  # from the bucket, not the API
    assert delivered(second) == delivered(first)
    assert S3_ENV["AWS_SECRET_ACCESS_KEY"] not in out + err


def test_an_unreachable_bucket_is_a_clear_line_and_the_same_command_resumes(
        pg_url: str, api: Sandbox, s3_endpoint: str, bucket: str,
        tracked_copy: Callable[..., Path], tmp_path: Path) -> None:
    root = tracked_copy(REPO / "examples", tmp_path / "a")
    store = f"s3://{bucket}/renders"
    code, out, err = finish(runner(root, api, pg_url, store, "http://127.0.0.1:9"))
    assert code == 1
    assert "Traceback" not in err
    assert re.search(rf"s3://{bucket}/renders: cannot put [0-9a-f]{{2}}/[0-9a-f]{{64}}\.mp4 in "
                     r"the render store: .*rerun the same command once the store is "
                     "reachable", out + err), out + err

    code, out, err = finish(runner(root, api, pg_url, store, s3_endpoint))
    assert code == 0, out + err
    assert_each_generation_created_once(api)  # the paid jobs were kept, not made again
    assert len(objects(s3_endpoint, bucket)) == GENERATIONS

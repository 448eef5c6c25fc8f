"""The executor through ``storyboard.execute.run`` against ``httpx.MockTransport``: what it
sends, what it journals, what each generation comes to — delivered, refused, or not sent
once the API refuses the key."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import httpx
import pytest

from storyboard.api.contract import CREATE_PATH, QUERY_PATH
from storyboard.api.policies import RetryPolicy
from storyboard.compile import plan_file
from storyboard.execute import run
from storyboard.execute.options import Api, PollPolicy, RunOptions
from storyboard.execute.workspace import Workspace
from storyboard.journal.sqlite import Journal, Status
from storyboard.model import Plan
from storyboard.results import Result, RunSummary

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from mediakit import make_clip

BASE = "https://api.test"
CDN = "https://cdn.test"
KEY = "sk-unit-test"
STORYBOARD = """\
storyboard: 1
name: trio
clips:
  - id: dawn
    prompt: "A lighthouse at dawn"
  - id: storm
    prompt: "A lighthouse in a storm, refused"
  - id: night
    prompt: "A lighthouse at night"
"""
OPTIONS = RunOptions(concurrency=1, poll=PollPolicy(start=0.01, maximum=0.01, deadline=5.0))
API = Api(BASE, KEY, policy=RetryPolicy(attempts=1, base_delay=0.0, max_delay=0.0, jitter=0.0))


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return make_clip(tmp_path_factory.mktemp("clip") / "clip.mp4", seconds=5).read_bytes()


class FakeApi:
    """ShortAPI as the client sees it: creates answered by ``create``, every job done at
    once with a video on the CDN."""

    def __init__(self, video: bytes, create: httpx.Response | None = None) -> None:
        self.video = video
        self.refusal = create
        self.creates: list[dict[str, object]] = []
        self.keys: set[str | None] = set()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == CREATE_PATH:
            self.keys.add(request.headers.get("authorization"))
            body = json.loads(request.content)
            self.creates.append(body)
            if self.refusal is not None:
                return self.refusal
            if "refused" in body["args"]["prompt"]:
                return httpx.Response(400, json={"code": 400, "message": "prompt not allowed"})
            return httpx.Response(200, json={"code": 0, "data": {
                "job_id": f"job-{len(self.creates)}", "amount": "0.42"}})
        if request.url.path == QUERY_PATH:
            job = request.url.params["id"]
            return httpx.Response(200, json={"code": 0, "data": {
                "status": 2, "result": {"videos": [{"url": f"{CDN}/{job}.mp4"}]}}})
        if request.url.host == "cdn.test":
            return httpx.Response(200, content=self.video,
                                  headers={"content-type": "video/mp4"})
        return httpx.Response(404)


def _run(tmp_path: Path, api: FakeApi) -> tuple[Plan, Workspace, RunSummary]:
    (tmp_path / "storyboard.yaml").write_text(STORYBOARD, encoding="utf-8")
    plan = plan_file(tmp_path / "storyboard.yaml")
    workspace = Workspace.beside(tmp_path, plan.name)

    async def main() -> RunSummary:
        async with httpx.AsyncClient(transport=httpx.MockTransport(api)) as client:
            with Journal.open(workspace.state_dir) as journal:
                return await run(plan, client=client, journal=journal, workspace=workspace,
                                 api=API, options=OPTIONS)

    return plan, workspace, asyncio.run(main())


def _results(summary: RunSummary) -> dict[str, tuple[Result, str | None]]:
    return {o.item.generation.id: (o.result, o.reason) for o in summary.outcomes}


def _statuses(workspace: Workspace) -> dict[str, Status]:
    with Journal.open(workspace.state_dir, exclusive=False) as journal:
        return {a.generation_id: a.status for a in journal.latest_all().values()}


def test_a_refused_create_fails_that_generation_only_and_is_journaled_as_rejected(
        tmp_path: Path, video: bytes) -> None:
    api = FakeApi(video)
    plan, workspace, summary = _run(tmp_path, api)
    assert _results(summary) == {
        "default/dawn": (Result.DELIVERED, None),
        "default/storm": (Result.FAILED, "create kwaivgi/kling-o3/text-to-video: HTTP 400, code "
                         "400: prompt not allowed (not charged; "
                         "a rerun retries)"),
        "default/night": (Result.DELIVERED, None),
    }
    assert [c["args"]["prompt"] for c in api.creates] == [  # type: ignore[index]
        "A lighthouse at dawn", "A lighthouse in a storm, refused", "A lighthouse at night"]
    assert api.keys == {f"Bearer {KEY}"}
    assert _statuses(workspace) == {"default/dawn": Status.DONE, "default/storm": Status.REJECTED,
                                    "default/night": Status.DONE}
    assert (workspace.out_dir / "trio" / "default" / "dawn.mp4").read_bytes() == video
    assert not (workspace.out_dir / "trio" / "default" / "storm.mp4").exists()
    manifest = json.loads(workspace.manifest.read_text(encoding="utf-8"))
    assert len(manifest["generations"]) == len(plan.items) == 3
    assert summary.exit_code == 1


def test_a_refused_key_stops_every_create_after_the_first(tmp_path: Path,
                                                          video: bytes) -> None:
    api = FakeApi(video, httpx.Response(401, json={"code": 401, "message": "invalid token"}))
    _, workspace, summary = _run(tmp_path, api)
    results = _results(summary)
    assert len(api.creates) == 1
    assert results["default/dawn"][0] is Result.FAILED
    assert "SHORTAPI_KEY" in (results["default/dawn"][1] or "")
    assert results["default/storm"] == results["default/night"] == (
        Result.NOT_STARTED, "not sent: the API refused the key")
    assert _statuses(workspace) == {"default/dawn": Status.REJECTED}
    assert summary.exit_code == 1

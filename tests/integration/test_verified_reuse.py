"""A cached video is checked against its journaled sha256 before it is reused: a render
truncated in place (renders are hard links to the cache) is fetched again by its job id,
never reused as it is and never paid for again."""

from __future__ import annotations

import hashlib
import os

import pytest

from storyboard.api.sandbox import Sandbox
from storyboard.journal.sqlite import Journal
from storyboard.media.probe import verify

from .conftest import Project, run_cli

NAME = "aurora-launch"


def test_a_render_truncated_in_place_is_downloaded_again_by_job_id(
        project: Project, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    first = run_cli(sandbox, monkeypatch, project.storyboard("launch.yaml"))
    assert first.exit_code == 0, first.stdout + first.stderr
    render = project.renders(NAME) / "us-wide" / "hero.mp4"
    entry = next(e for e in project.manifest(NAME)["generations"] if e["id"] == "us-wide/hero")
    size = render.stat().st_size
    os.truncate(render, size // 2)  # the cache entry is the same file
    downloads = sandbox.ledger.downloads[entry["job_id"]]

    rerun = run_cli(sandbox, monkeypatch, project.storyboard("launch.yaml"))
    assert rerun.exit_code == 0, rerun.stdout + rerun.stderr
    assert ("note: 1 cached video changed since downloaded (sha256 differs from the "
            "journal's: us-wide/hero); fetching again by job id, no new job") in rerun.stderr
    assert "delivered: 1" in rerun.stdout and "reused: 11" in rerun.stdout
    assert len(sandbox.ledger.creates) == 10  # nothing created again
    assert sandbox.ledger.downloads[entry["job_id"]] == downloads + 1
    assert render.stat().st_size == size
    assert hashlib.sha256(render.read_bytes()).hexdigest() == entry["sha256"]
    verify(render, entry["seconds"])
    with Journal.open(project.root / ".storyboard", exclusive=False) as journal:
        attempt = journal.latest(entry["hash"])
    assert attempt is not None and attempt.sha256 == entry["sha256"]

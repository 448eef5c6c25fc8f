"""Before the first create: room for the planned downloads, measured per filesystem."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from storyboard.compile import plan_file
from storyboard.errors import StateError
from storyboard.execute.executor import Prepared, RunOptions, Workspace, prepare
from storyboard.execute.preflight import (
    DOWNLOAD_BYTES_PER_SECOND,
    MARGIN_BYTES,
    check_before_creating,
)
from storyboard.journal.sqlite import Journal

REPO = Path(__file__).resolve().parents[2]


def prepared_launch(tmp_path: Path) -> tuple[Prepared, Workspace, str]:
    plan = plan_file(REPO / "examples" / "launch.yaml")
    workspace = Workspace("aurora-launch", tmp_path / "state", tmp_path / "renders")
    with Journal.open(workspace.state_dir) as journal:
        return prepare(plan, journal, workspace, RunOptions()), workspace, journal.state_id or ""


def test_the_planned_downloads_must_fit(tmp_path: Path) -> None:
    prepared, workspace, state_id = prepared_launch(tmp_path)
    needed = MARGIN_BYTES + sum(DOWNLOAD_BYTES_PER_SECOND[t.item.generation.mode]
                                * t.item.generation.seconds
                                for t in prepared.tasks if t.action.value == "create")
    check_before_creating(prepared, workspace, state_id,
                          disk_usage=lambda _: SimpleNamespace(free=needed))
    with pytest.raises(StateError, match=r"not enough free space in the state folder's cache "
                       r"\(--state\) for this run's downloads: .* 10 videos may take up to "
                       r"172\.8 MB; .*nothing was sent"):
        check_before_creating(prepared, workspace, state_id,
                              disk_usage=lambda _: SimpleNamespace(free=needed - 1))

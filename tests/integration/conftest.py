"""A real sandbox API on loopback for each test, and helpers to run storyboard against it."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from storyboard.api.sandbox import Faults, Sandbox, SandboxConfig
from storyboard.cli import cli

REPO = Path(__file__).resolve().parents[2]
FAKE_KEY = "sk-test-7f3a9c1e-DISTINCTIVE-KEY-do-not-leak"
FAST = ["--poll-start", "0.02", "--poll-max", "0.1", "--job-timeout", "60"]


@dataclass
class Project:
    root: Path

    def storyboard(self, name: str) -> Path:
        return self.root / name

    def renders(self, name: str) -> Path:
        return self.root / "renders" / name

    def manifest(self, name: str) -> dict:  # type: ignore[type-arg]
        data: dict = json.loads((self.renders(name) / "manifest.json").read_text())  # type: ignore[type-arg]
        return data


@pytest.fixture
def project(tmp_path: Path, tracked_copy: Callable[..., Path]) -> Project:
    """A copy of the examples in a scratch folder (state and renders land beside them)."""
    root = tmp_path / "project"
    tracked_copy(REPO / "examples", root)
    return Project(root)


def start_sandbox(**config: object) -> Sandbox:
    """A sandbox standing in for the paid API: unless a test says ``identify=True``, it
    does not say it is a sandbox, so runs against it take the real API's code path
    (its jobs count, its videos are renders)."""
    faults = config.pop("faults", Faults())
    config.setdefault("identify", False)
    return Sandbox(SandboxConfig(api_key=FAKE_KEY, latency=config.pop("latency", 0.05),
                                 faults=faults, **config)).start()  # type: ignore[arg-type]


@pytest.fixture
def api() -> Iterator[Sandbox]:
    """The paid API's stand-in for several runners at once: jobs take 0.3 s, long enough
    for runners started together to overlap (the shared-state tests)."""
    server = start_sandbox(latency=0.3)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    server = start_sandbox()
    try:
        yield server
    finally:
        server.stop()


def run_cli(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, *args: str | Path,
            cut: bool = False) -> Result:
    """``storyboard run`` against ``sandbox``; without the final cuts unless ``cut`` (they
    are tested in test_final_cut.py; encoding them in every run test only costs time)."""
    monkeypatch.setenv("SHORTAPI_KEY", FAKE_KEY)
    # the test's own options come last, so they win over the quick defaults
    result = CliRunner().invoke(cli, ["run", "--yes", "--api-base", sandbox.base_url, *FAST,
                                      *([] if cut else ["--no-cut"]), *map(str, args)])
    # CliRunner keeps an escaped exception in result.exception and prints nothing, so a
    # crash would look like an ordinary failure: only a deliberate exit is allowed
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        result.exception, result.stdout, result.stderr)
    return result


@dataclass(frozen=True)
class Ran:
    """What a ``run`` printed and its exit code: the part of click's Result tests read,
    kept on disk for the pytest-xdist workers that did not make the run."""

    exit_code: int
    stdout: str
    stderr: str


@dataclass(frozen=True)
class Rendered:
    """A storyboard run once through a sandbox, final cuts and review included: what
    ``run`` printed, and the project it left at ``root`` (never written to after)."""

    root: Path
    result: Ran

    def copy(self, target: Path) -> Project:
        """The rendered project at ``target``: its journal, cache, renders, cuts and review,
        modification times kept (what "nothing was made again" is checked by)."""
        shutil.copytree(self.root, target, symlinks=True, dirs_exist_ok=True)
        return Project(target)


def render_once(storyboard: Path) -> Rendered:
    """``storyboard run`` of ``storyboard`` through a sandbox of its own, with the cuts,
    for fixtures that share what it leaves (tests change only copies)."""
    server = start_sandbox()
    try:
        with pytest.MonkeyPatch.context() as patch:
            result = run_cli(server, patch, storyboard, cut=True)
    finally:
        server.stop()
    return Rendered(storyboard.parent, Ran(result.exit_code, result.stdout, result.stderr))


def shared_by_workers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This test run's scratch folder that each of its pytest-xdist workers sees (their own
    are folders in it); without xdist, the session's own."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def launch_rendered(tmp_path_factory: pytest.TempPathFactory,
                    tracked_copy: Callable[..., Path]) -> Rendered:
    """The launch example rendered and cut once for the whole test run: tests of what a
    run leaves (the cuts, the review page, a rerun) start from a copy of it instead of each
    rendering and encoding the same 12 generations and 4 cuts again. The first pytest-xdist
    worker to need it makes it while holding a lock; the others wait, then read it."""
    folder = shared_by_workers(tmp_path_factory) / "launch-rendered"
    folder.mkdir(exist_ok=True)
    with (folder / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        made = folder / "ran.json"
        if not made.exists():  # a worker whose run failed left no ran.json: start over
            shutil.rmtree(folder / "project", ignore_errors=True)
            root = tracked_copy(REPO / "examples", folder / "project")
            made.write_text(json.dumps(asdict(render_once(root / "launch.yaml").result)))
        return Rendered(folder / "project", Ran(**json.loads(made.read_text())))


@pytest.fixture
def rendered(launch_rendered: Rendered, tmp_path: Path) -> Project:
    """A copy of the project ``launch_rendered`` left, for this test to change."""
    return launch_rendered.copy(tmp_path / "project")

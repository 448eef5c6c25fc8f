"""Before anything is sent: what each generation of a plan needs, decided under the journal's
lock from what the journal and the cache already hold (reuse, resume, refetch, create).
"""

from __future__ import annotations

import fnmatch
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path

from storyboard.errors import (
    UsageError,
)
from storyboard.execute.options import RunOptions
from storyboard.execute.rescue import adopt
from storyboard.execute.workspace import Workspace
from storyboard.journal import Attempt, Journal, Status
from storyboard.model import (
    IN_FLIGHT,
    NEW,
    REUSED,
    SHARED,
    UNKNOWN,
    Plan,
    PlanItem,
)
from storyboard.plan.model import FirstRequests
from storyboard.store import file_sha256, is_stale


class Action(StrEnum):
    REUSE = "reuse"  # the cache holds the video
    RESUME = "resume"  # a paid job is pending: poll it
    REFETCH = "refetch"  # a finished job whose file is gone: query for a URL, download
    CREATE = "create"  # submit a new (paid) job
    UNKNOWN = "unknown"  # a create of unknown outcome: report, do not re-send
    SHARE = "share"  # the same request as an earlier generation: wait for it, use its video


_STATE_OF = {Action.REUSE: REUSED, Action.RESUME: IN_FLIGHT, Action.REFETCH: IN_FLIGHT,
             Action.CREATE: NEW, Action.UNKNOWN: UNKNOWN, Action.SHARE: SHARED}


@dataclass(frozen=True, slots=True)
class Task:
    item: PlanItem
    action: Action
    attempt: Attempt | None


@dataclass(frozen=True, slots=True)
class Prepared:
    plan: Plan  # only the generations in scope, each with its state
    tasks: tuple[Task, ...]
    interrupted: tuple[Attempt, ...]  # creates a crashed run left behind (now unknown)
    damaged: tuple[str, ...] = ()  # ids whose cached video no longer matches its sha256
    adopted: tuple[str, ...] = ()  # job ids a run kept outside the journal, journaled now

    @property
    def creates(self) -> int:
        return sum(1 for t in self.tasks if t.action is Action.CREATE)


def prepare(plan: Plan, journal: Journal, workspace: Workspace,
            options: RunOptions) -> Prepared:
    """What each generation needs, from the journal and the cache."""
    interrupted: tuple[Attempt, ...] = ()
    adopted: tuple[str, ...] = ()
    if journal.exclusive:  # we own the state folder: whatever a crashed run left is ours
        adopted = tuple(adopt(journal, workspace.rescue_files))
        interrupted = tuple(journal.reconcile_interrupted())
        _remove_partial_downloads(workspace)
        _remove_stale_temporaries(workspace, time.time())
    latest = journal.latest_all(workspace.origin)  # a sandbox's jobs are not a run's
    tasks = []
    damaged: list[str] = []
    first = FirstRequests()  # of generations in scope with one request, the first renders
    for item in plan.items:
        g = item.generation
        if options.only and not any(fnmatch.fnmatchcase(g.id, p) for p in options.only):
            continue
        attempt = latest.get(g.hash)
        if attempt is not None and journal.exclusive:
            workspace.from_store(attempt)  # a bucket store's copy, if the cache lacks it
        same_as = first.same_as(g)
        if same_as is not None:  # one render serves every generation with this request
            action = Action.SHARE
        else:
            action = decide(attempt, workspace.cache_file(g.hash), options,
                            verify=journal.exclusive)
            if journal.shared and attempt is not None and attempt.status is Status.SUBMITTING:
                action = Action.RESUME  # a live runner sends it (a stopped one's is unknown now)
            if action is Action.REFETCH and workspace.cache_file(g.hash).is_file():
                damaged.append(g.id)
        tasks.append(Task(replace(item, state=_STATE_OF[action], same_as=same_as),
                          action, attempt))
    if options.only and not tasks:
        raise UsageError(_matches_nothing(options.only, plan))
    return Prepared(replace(plan, items=tuple(t.item for t in tasks),
                            spent=journal.spent(plan.name, workspace.origin)),
                    tuple(tasks), interrupted, tuple(damaged), adopted)


def _matches_nothing(only: Sequence[str], plan: Plan) -> str:
    """Name a few ids that exist, from different variants first: enough to fix the glob."""
    ids = [i.generation.id for i in plan.items]
    first_of_variant: dict[str, str] = {}
    for item in plan.items:
        first_of_variant.setdefault(item.generation.variant, item.generation.id)
    shown = list(dict.fromkeys([*first_of_variant.values(), *ids]))[:3]
    more = f" (and {len(ids) - len(shown)} more)" if len(ids) > len(shown) else ""
    return (f"--only {' '.join(repr(p) for p in only)} matches none of the "
            f"{len(ids)} generations; ids look like {', '.join(shown)}{more}")


def _remove_partial_downloads(workspace: Workspace) -> None:
    """A run killed mid-download leaves its temporary file in the cache (the client's
    ``.<hash>.mp4.*.part``); under the journal's lock no download is running, so each
    one is an orphan. The job is still journaled and is downloaded again."""
    if isinstance(workspace.store, Path):  # other runners download into a shared folder now
        return
    for part in workspace.cache_dir.glob("*/.*.part"):
        part.unlink(missing_ok=True)


def _remove_stale_temporaries(workspace: Workspace, started: float) -> None:
    """A run killed while publishing leaves ``.<clip>.mp4.<pid>.tmp`` beside the render,
    ``.manifest.json.<pid>.….tmp`` beside the manifest, ``.<variant>.mp4.<pid>.tmp`` (and
    ``.srt``) beside a final cut, and a half-encoded cut in the state folder's ``cuts/``.
    Only ours (these names, in this storyboard's folders), only stale ones (a dead writer,
    or older than this run)."""
    base = workspace.out_dir / workspace.name
    ours = [*workspace.state_dir.glob(".*.tmp"), *workspace.state_dir.glob("cuts/*/.*.tmp")]
    if not workspace.published_by_another():
        ours += [*base.glob(".manifest.json.*.tmp"), *base.glob("*/.*.mp4.*.tmp"),
                 *base.glob(".*.mp4.*.tmp"), *base.glob(".*.srt.*.tmp")]  # final cuts
    for path in ours:
        if path.is_file() and is_stale(path, started):
            path.unlink(missing_ok=True)


def decide(attempt: Attempt | None, cached: Path, options: RunOptions, *,
           verify: bool) -> Action:
    """What a generation needs, given its latest attempt and its cached file."""
    if attempt is None:  # a file in the cache that no journaled job made is not trusted
        return Action.CREATE
    if attempt.status is Status.DONE:
        if cached.is_file() and cached.stat().st_size > 0 and (
                not verify or attempt.sha256 is None or file_sha256(cached) == attempt.sha256):
            return Action.REUSE
        # missing, or changed in place (renders are hard links to the cache): fetched
        # again by its job id, never created again
        return Action.REFETCH
    if attempt.status is Status.PENDING:  # a file downloaded but never journaled as done
        return Action.RESUME  # is not trusted either: fetched again by its job id
    if attempt.status in (Status.UNKNOWN, Status.SUBMITTING):
        return Action.CREATE if options.resubmit_unknown else Action.UNKNOWN
    return Action.CREATE  # failed or rejected: a rerun tries again


def with_journal(plan: Plan, workspace: Workspace) -> Plan:
    """The plan with what the journal and cache already hold marked (read-only, no lock):
    what ``storyboard plan`` shows and ``--detailed-exitcode`` decides on."""
    if workspace.journal_url is None and not workspace.state_dir.is_dir():
        return plan
    with workspace.open_journal(exclusive=False) as journal:
        return prepare(plan, journal, workspace, RunOptions()).plan

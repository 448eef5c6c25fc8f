"""The review: what the HTML contact sheet shows, gathered from the plan, the journal and
the renders (results as data; ``report.html`` renders it).

Money is never computed here: the plan's totals, the journal's spend and each
attempt's charge are the one figure every report shows. Thumbnails and quality flags
are made beside the page (``thumbs/``) and named by the video's sha256, so a report
built again over unchanged renders decodes nothing.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from storyboard.errors import MediaError
from storyboard.execute.candidates import Keepers
from storyboard.journal import Attempt, Journal, Status, charged_to
from storyboard.media.flags import Flag, judge, measure
from storyboard.media.frames import SPRITE_FRAMES, Thumbnails, thumbnail_files, thumbnails
from storyboard.model import Generation
from storyboard.plan.lock import lock_path, read_lock
from storyboard.plan.model import Plan, PlanItem
from storyboard.plan.price import relative_path
from storyboard.store import write_atomic

if TYPE_CHECKING:  # only named: reporters do not depend on the executor
    from storyboard.execute.workspace import Workspace

REPORT_DIR = "report"
THUMBS_DIR = "thumbs"

DELIVERED = "delivered"
FAILED = "failed"
UNKNOWN = "unknown"
PENDING = "pending"
NOT_RENDERED = "not rendered"


@dataclass(frozen=True, slots=True)
class Candidate:
    """One try of a generation (today every generation has exactly one)."""

    number: int
    video: str | None  # href from the page
    poster: str | None
    sprite: str | None
    picked: bool
    pick_command: str
    flags: tuple[Flag, ...] = ()
    thumbnail_bytes: int = 0
    thumbnails_reused: bool = False


@dataclass(frozen=True, slots=True)
class ShotLine:
    prompt: str
    seconds: int | None  # None: the model cuts the shots


@dataclass(frozen=True, slots=True)
class ClipCard:
    item: PlanItem
    status: str
    charged: Decimal | None  # what the API charged for its job (None: no job)
    reason: str | None
    refunded: bool
    job_id: str | None
    shots: tuple[ShotLine, ...]
    candidates: tuple[Candidate, ...]

    @property
    def generation(self) -> Generation:
        return self.item.generation

    @property
    def flags(self) -> tuple[Flag, ...]:
        return tuple(f for c in self.candidates if c.picked for f in c.flags)


@dataclass(frozen=True, slots=True)
class VariantSheet:
    id: str
    cut: str | None  # href of the final cut, when there is one
    clips: tuple[ClipCard, ...]


@dataclass(frozen=True, slots=True)
class Review:
    plan: Plan
    made_at: str
    charged: Decimal  # the journal's spend for this storyboard where it was rendered
    sandbox: bool
    variants: tuple[VariantSheet, ...]

    def count(self, status: str) -> int:
        return sum(1 for v in self.variants for c in v.clips if c.status == status)

    @property
    def flagged(self) -> list[tuple[str, Flag]]:
        """Every quality flag, by generation id, in storyboard order."""
        return [(c.generation.base_id, f) for v in self.variants for c in v.clips
                for f in c.flags]


def report_folder(workspace: Workspace) -> Path:
    return workspace.out_dir / workspace.name / REPORT_DIR


def gather(plan: Plan, journal: Journal, workspace: Workspace, *,
           now: Callable[[], datetime] = datetime.now) -> Review:
    """The review of ``plan`` as ``workspace`` holds it, with thumbnails and flags made
    (or reused) in the report folder. A generation's candidates share one card, the
    keeper (the lock file's pick, else the lowest-numbered delivered try) marked."""
    folder = report_folder(workspace)
    latest = journal.latest_all(workspace.origin)
    keepers = Keepers(plan, workspace, read_lock(lock_path(Path(plan.root) /
                                                           Path(plan.source).name)), latest)
    # run from the storyboard's folder; never an absolute path in a page that is shared
    source = shlex.quote(Path(plan.source).name)
    sheets = []
    for variant, items in plan.by_variant().items():
        tries: dict[str, list[PlanItem]] = {}
        for item in items:
            tries.setdefault(item.generation.base_id, []).append(item)
        cards = tuple(_card(group, latest, workspace, folder, source, _keeper(keepers, gid))
                      for gid, group in tries.items())
        cut = workspace.out_dir / workspace.name / f"{variant}.mp4"
        sheets.append(VariantSheet(variant, relative_path(cut, folder) if cut.is_file()
                                   else None, cards))
    return Review(plan, now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
                  journal.spent(plan.name, workspace.origin).charged, workspace.sandbox,
                  tuple(sheets))


def _keeper(keepers: Keepers, generation_id: str) -> Path | None:
    try:
        return keepers.render_of(generation_id)
    except MediaError:  # a pick the cache lacks: the cut says how to get it back
        return None


def _card(group: list[PlanItem], latest: Mapping[str, Attempt], workspace: Workspace,
          folder: Path, source: str, keeper: Path | None) -> ClipCard:
    candidates = []
    shown = group[0]  # the card's figures: the keeper's try, else the first
    for item in group:
        g = item.generation
        attempt = latest.get(g.hash)
        video = _video(g, attempt, workspace)
        picked = keeper is not None and keeper == workspace.cache_file(g.hash)
        candidate = Candidate(g.candidate, None, None, None, picked,
                              f"storyboard pick {source} {g.base_id} {g.candidate}")
        if video is not None and attempt is not None and attempt.sha256:
            candidate = _looked_at(candidate, video, attempt.sha256, g, folder)
        candidates.append(candidate)
        if picked:
            shown = item
    g = shown.generation
    attempt = latest.get(g.hash)
    status = _status(attempt, _video(g, attempt, workspace))
    charged = charged_to(attempt, shown.same_as)
    return ClipCard(shown, status, charged,
                    attempt.error if attempt and status != DELIVERED else None,
                    bool(attempt and attempt.refunded), attempt.job_id if attempt else None,
                    shot_lines(g.args), tuple(candidates))


def _video(g: Generation, attempt: Attempt | None, workspace: Workspace) -> Path | None:
    if attempt is None or attempt.status is not Status.DONE:
        return None
    for path in (workspace.render_file(g), workspace.cache_file(g.hash)):
        if path.is_file() and path.stat().st_size > 0:
            return path
    return None


def _status(attempt: Attempt | None, video: Path | None) -> str:
    if video is not None:
        return DELIVERED
    if attempt is None:
        return NOT_RENDERED
    return {Status.FAILED: FAILED, Status.REJECTED: FAILED, Status.PENDING: PENDING,
            Status.UNKNOWN: UNKNOWN, Status.SUBMITTING: UNKNOWN}.get(attempt.status,
                                                                     NOT_RENDERED)


def _looked_at(candidate: Candidate, video: Path, sha256: str, g: Generation,
               folder: Path) -> Candidate:
    """Its thumbnails and flags, reused when made from the same bytes before, else made
    in one decoding pass."""
    thumbs_dir = folder / THUMBS_DIR
    kept = thumbs_dir / f"{sha256[:20]}-{g.hash[:12]}.flags.json"
    flags = _kept_flags(kept)
    frames: tuple[Any, ...] = ()
    if flags is None or not all(p.is_file() for p in thumbnail_files(sha256, thumbs_dir)):
        picture = measure(video, SPRITE_FRAMES)
        frames = picture.samples
        flags = judge(picture, video, seconds=g.seconds, sound=g.sound == "on",
                      aspect=str(g.args["aspect_ratio"]))
        write_atomic(kept, json.dumps([{"kind": f.kind, "detail": f.detail}
                                       for f in flags]).encode("utf-8"))
    thumbs: Thumbnails = thumbnails(video, sha256, thumbs_dir, frames)
    return Candidate(candidate.number, relative_path(video, folder),
                     relative_path(thumbs.poster, folder), relative_path(thumbs.sprite, folder),
                     candidate.picked, candidate.pick_command, flags, thumbs.size,
                     thumbs.reused)


def _kept_flags(kept: Path) -> tuple[Flag, ...] | None:
    """Flags found before for the same video and request (None: none kept, or unreadable)."""
    try:
        return tuple(Flag(str(f["kind"]), str(f["detail"]))
                     for f in json.loads(kept.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError, KeyError):
        return None


def shot_lines(args: Mapping[str, Any]) -> tuple[ShotLine, ...]:
    shots = args.get("multi_prompt")
    if isinstance(shots, list) and shots:
        return tuple(ShotLine(str(s["prompt"]), int(s["duration"])) for s in shots)
    seconds = None if args.get("shot_type") == "intelligence" else int(args["duration"])
    return (ShotLine(str(args["prompt"]), seconds),)

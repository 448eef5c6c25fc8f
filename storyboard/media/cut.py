"""Final cuts, content-addressed: each variant's timeline becomes ``renders/<name>/<variant>.mp4``.

A cut is identified by the sha256 of everything that decides its bytes: the sha256 of
each render it is cut from, in order, its transitions, the cut settings (size, frame
rate, music and its level, burned-in captions — and their text when burned in), the
encoder's settings and the assembler's version. Finished cuts live in the state folder
(``cuts/<key>.mp4``) beside a small record of what was measured; the published file
is a link to it. So rerunning with nothing changed encodes nothing, and changing one
clip re-cuts exactly the variants that use it. Captions that are not burned in only
change the ``.srt``, which is rewritten from the record without touching the video.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from storyboard.errors import MediaError
from storyboard.execute.executor import Workspace
from storyboard.media.assemble import Assembled, Encoding, assemble
from storyboard.media.srt import srt
from storyboard.media.timeline import Timeline, seconds_json
from storyboard.model import Plan, canonical_json
from storyboard.store import file_sha256, link_atomic, write_atomic

CUT_VERSION = 1  # bump when the assembler writes different bytes for the same inputs
# a sandbox's cut joins placeholders: what matters is its order and timing, so it is
# encoded at x264's quickest preset (the product's veryfast is for real renders)
SANDBOX_ENCODING = Encoding(preset="ultrafast")

CUT = "cut"  # assembled now
REUSED = "reused"  # the same cut existed: nothing encoded
SKIPPED = "skipped"  # a render it needs is missing
FAILED = "failed"  # a file could not be read or joined


@dataclass(frozen=True, slots=True)
class Source:
    generation: str
    hash: str  # the request's
    sha256: str  # the render file's


@dataclass(frozen=True, slots=True)
class CutResult:
    variant: str
    status: str
    file: Path | None = None
    captions: Path | None = None
    seconds: Fraction | None = None
    sha256: str | None = None
    method: str | None = None
    sources: tuple[Source, ...] = ()
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class CutSummary:
    results: tuple[CutResult, ...]
    note: str | None = None  # why nothing was cut at all (e.g. a saved plan)

    def by_status(self, status: str) -> list[CutResult]:
        return [r for r in self.results if r.status == status]

    @property
    def complete(self) -> bool:
        """Every variant has its cut (what ``storyboard cut`` exits 0 on)."""
        return all(r.status in (CUT, REUSED) for r in self.results)

    @property
    def exit_code(self) -> int:
        """After a run: a cut that failed is a problem; one skipped, the run already says."""
        return 1 if self.by_status(FAILED) else 0


@dataclass
class Cutter:
    """Cuts the variants of one plan in one workspace."""

    plan: Plan
    workspace: Workspace
    encoding: Encoding | None = None  # None: the product's, or a quicker one for a sandbox
    # the render file of a part (by generation id), or None when there is none yet: the
    # keeper among its candidates (``execute.candidates.Keepers``); a pick it cannot serve
    # raises a MediaError, which fails that variant's cut with its message
    render_of: Callable[[str], Path | None] | None = None
    _hashes: dict[tuple[str, int, int], str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.encoding is None:
            self.encoding = SANDBOX_ENCODING if self.workspace.sandbox else Encoding()

    def cut_all(self, reasons: Mapping[str, str] | None = None) -> CutSummary:
        """Every variant whose renders are all there; ``reasons`` says (by generation id)
        why a missing one is missing."""
        if not self.plan.timelines:
            return CutSummary((), note="a saved plan holds no timelines; run "
                              "`storyboard cut` on the storyboard itself")
        results = tuple(self.cut(t, reasons or {}) for t in self.plan.timelines)
        self._record(results)
        return CutSummary(results)

    def cut(self, timeline: Timeline, reasons: Mapping[str, str]) -> CutResult:
        files: dict[str, Path] = {}
        missing = []
        for part in timeline.parts:
            try:
                found = self._render(part.generation, part.hash)
            except MediaError as exc:
                return CutResult(timeline.variant, FAILED, reason=str(exc))
            if found is None:
                missing.append(reasons.get(part.generation, f"{part.generation} is not "
                                           "rendered yet"))
            else:
                files[part.generation] = found
        if missing:
            return CutResult(timeline.variant, SKIPPED, reason="; ".join(missing))
        try:
            return self._cut(timeline, files)
        except MediaError as exc:
            return CutResult(timeline.variant, FAILED, reason=str(exc))

    def _render(self, generation: str, request_hash: str) -> Path | None:
        if self.render_of is not None:
            return self.render_of(generation)
        cached = self.workspace.cache_file(request_hash)
        return cached if cached.is_file() and cached.stat().st_size > 0 else None

    def _cut(self, timeline: Timeline, files: Mapping[str, Path]) -> CutResult:
        sources = tuple(Source(p.generation, p.hash, self._sha256(files[p.generation]))
                        for p in timeline.parts)
        music = self._music(timeline)
        key = self.key(timeline, sources, music)
        video, record_file = self._cached(key, ".mp4"), self._cached(key, ".json")
        status = REUSED
        record = _read_record(record_file, len(timeline.parts)) if video.is_file() else None
        if record is None:
            video.parent.mkdir(parents=True, exist_ok=True)
            done = assemble(timeline, files, video, music=music,
                            encoding=self.encoding or Encoding())
            record = _record_of(done, self._sha256(video))
            write_atomic(record_file, json.dumps(record, indent=2).encode())
            status = CUT
        base = self.workspace.out_dir / self.workspace.name
        target = base / f"{timeline.variant}.mp4"
        link_atomic(video, target)
        measured = timeline.measured({p.generation: Fraction(s) for p, s in
                                      zip(timeline.parts, record["parts"], strict=True)})
        return CutResult(timeline.variant, status, target, self._publish_srt(measured, base),
                         measured.runtime, record["sha256"], record["method"], sources)

    def key(self, timeline: Timeline, sources: Sequence[Source], music: Path | None) -> str:
        cut = timeline.cut
        by_id = {s.generation: s.sha256 for s in sources}
        payload = {
            "version": CUT_VERSION,
            "encoding": asdict(self.encoding or Encoding()),
            "size": cut.size, "fps": cut.fps, "music_db": str(cut.music_db),
            "music": self._sha256(music) if music is not None else None,
            "clips": [{"transition": [s.transition.kind, str(s.transition.seconds)],
                       "parts": [by_id[p.generation] for p in s.parts]}
                      for s in timeline.spans],
            "burned": ([[str(c.start), str(c.end), c.text] for c in timeline.cues()]
                       if cut.burn_captions else None),
        }
        return hashlib.sha256(canonical_json(payload).encode()).hexdigest()

    def _music(self, timeline: Timeline) -> Path | None:
        music = timeline.cut.music
        return Path(self.plan.root) / music if music else None

    def _cached(self, key: str, suffix: str) -> Path:
        return self.workspace.state_dir / "cuts" / key[:2] / f"{key}{suffix}"

    def _publish_srt(self, timeline: Timeline, base: Path) -> Path | None:
        target = base / f"{timeline.variant}.srt"
        cues = timeline.cues()
        if not cues:
            target.unlink(missing_ok=True)  # a caption removed: no stale subtitles
            return None
        text = srt(cues).encode("utf-8")
        if not (target.is_file() and target.read_bytes() == text):  # a rerun touches nothing
            write_atomic(target, text)
        return target

    def _sha256(self, path: Path) -> str:
        """A file's sha256, once per version of it (a render feeds several variants' cuts)."""
        stat = path.stat()
        memo = (str(path), stat.st_size, stat.st_mtime_ns)
        if memo not in self._hashes:
            digest = file_sha256(path)
            if digest is None:
                raise MediaError(f"{path}: cannot be read")
            self._hashes[memo] = digest
        return self._hashes[memo]

    def _record(self, results: Sequence[CutResult]) -> None:
        """The cuts in ``manifest.json``, beside the generations the run wrote there."""
        manifest = self.workspace.manifest
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = None
        if not isinstance(data, dict):
            data = {"name": self.plan.name, "source": self.plan.source,
                    "origin": self.workspace.origin, "generations": []}
        data["cuts"] = [cut_json(r, manifest.parent) for r in results]
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
        write_atomic(manifest, text.encode("utf-8"))


def cut_json(result: CutResult, base: Path) -> dict[str, Any]:
    """One cut as the manifest lists it: file, duration, sha256 and what it was cut from."""
    return {
        "variant": result.variant,
        "status": result.status,
        "file": result.file.relative_to(base).as_posix() if result.file else None,
        "captions": result.captions.relative_to(base).as_posix() if result.captions else None,
        "seconds": seconds_json(result.seconds) if result.seconds is not None else None,
        "sha256": result.sha256,
        "method": result.method,
        "from": [{"id": s.generation, "hash": s.hash, "sha256": s.sha256}
                 for s in result.sources],
        "reason": result.reason,
    }


def _record_of(done: Assembled, sha256: str) -> dict[str, Any]:
    return {"method": done.method, "sha256": sha256,
            "size": str(done.size), "fps": str(done.fps),
            "parts": [str(p.seconds) for p in done.timeline.parts]}  # measured, in order


def _read_record(path: Path, parts: int) -> dict[str, Any] | None:
    """A finished cut's record; anything unreadable means the cut is made again."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(record, dict) and isinstance(record.get("parts"), list) \
                and len(record["parts"]) == parts:
            for value in record["parts"]:
                Fraction(value)
            return record
    except (OSError, ValueError, TypeError, ZeroDivisionError):
        pass
    return None


def missing_reasons(plan: Plan, attempts: Mapping[str, Any]) -> dict[str, str]:
    """Why each generation without a render has none, from the journal's latest attempt
    of each request (``Journal.latest_all()``), by generation id."""
    reasons = {}
    for item in plan.items:
        g = item.generation
        attempt = attempts.get(g.hash)
        if attempt is None:
            continue
        status = str(attempt.status)
        if status in ("failed", "rejected"):
            reasons[g.id] = f"{g.id} failed: {attempt.error or status}"
        elif status in ("unknown", "submitting"):
            reasons[g.id] = f"{g.id}: its create's outcome is unknown"
        elif status == "pending":
            reasons[g.id] = f"{g.id} is still rendering (job {attempt.job_id}); rerun `run`"
    return reasons


def outcome_reasons(outcomes: Sequence[Any]) -> dict[str, str]:
    """Why a run left a generation without a render, by generation id (the run's summary
    above gives the details)."""
    return {o.item.generation.id: f"{o.item.generation.id} {o.result.value}"
            for o in outcomes if o.file is None}

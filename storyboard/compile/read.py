"""The typed view of a schema-valid storyboard: every string keeps where it was written."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from storyboard.compile.compose import LoadedDocument
from storyboard.model import (
    CUT,
    DEFAULT_MODEL,
    DEFAULT_MUSIC_DB,
    DEFAULT_TRANSITION_SECONDS,
    Budget,
    ClipSpec,
    CutSpec,
    Setting,
    ShotSpec,
    Storyboard,
    Text,
    TransitionSpec,
    Value,
    VariantsSpec,
    VarSpec,
)
from storyboard.source import JsonPath

SETTINGS = ("mode", "aspect_ratio", "sound")


class _Reader:
    """Reads the parts of one document, each at its JSON path."""

    def __init__(self, doc: LoadedDocument) -> None:
        self.data: dict[str, Any] = doc.data
        self.where = doc.source_map.locate

    def setting(self, path: JsonPath) -> Setting:
        value = _get(self.data, path)
        return (Text(value, self.where(path)) if isinstance(value, str)
                else Value(value, self.where(path)))

    def settings(self, base: JsonPath, mapping: dict[str, Any]) -> dict[str, Setting]:
        return {k: self.setting((*base, k)) for k in SETTINGS if k in mapping}

    def caption(self, base: JsonPath, mapping: dict[str, Any]) -> Text | None:
        return (Text(mapping["caption"], self.where((*base, "caption")))
                if "caption" in mapping else None)

    def text(self, path: JsonPath, mapping: dict[str, Any], key: str) -> Text | None:
        return Text(mapping[key], self.where((*path, key))) if key in mapping else None

    def clip(self, index: int, raw: dict[str, Any], cut: CutSpec) -> ClipSpec:
        base: JsonPath = ("clips", index)
        shots_raw = raw.get("shots")
        kind = ("single" if shots_raw is None else
                "intelligence" if shots_raw == "auto" else "customize")
        shots = tuple(self.shot((*base, "shots", n), shot)
                      for n, shot in enumerate(shots_raw if isinstance(shots_raw, list) else []))
        return ClipSpec(
            id=raw["id"], index=index, kind=kind, prompt=self.text(base, raw, "prompt"),
            duration=self.setting((*base, "duration")) if "duration" in raw else None,
            shots=shots, settings=self.settings(base, raw), location=self.where(base),
            caption=self.caption(base, raw), transition=_transition(raw, base, cut, self.where),
            candidates=raw.get("candidates"),
        )

    def shot(self, path: JsonPath, shot: dict[str, Any]) -> ShotSpec:
        return ShotSpec(
            prompt=Text(shot["prompt"], self.where((*path, "prompt"))),
            duration=self.setting((*path, "duration")) if "duration" in shot else None,
            weight=Decimal(str(shot.get("weight", 1))),
            location=self.where(path),
            caption=self.caption(path, shot),
        )

    def variants(self) -> VariantsSpec | None:
        if "variants" not in self.data:
            return None
        v = self.data["variants"]
        rows = v.get("rows")
        return VariantsSpec(
            id=self.text(("variants",), v, "id"),
            matrix={k: tuple(vals) for k, vals in v["matrix"].items()} if "matrix" in v else None,
            include=tuple(v.get("include", ())),
            exclude=tuple(v.get("exclude", ())),
            rows=rows if isinstance(rows, str) or rows is None else tuple(rows),
            location=self.where(("variants",)),
        )

    def budget(self) -> Budget:
        raw = self.data.get("budget", {})
        cost = raw.get("max_cost_usd")
        return Budget(
            max_cost_usd=Decimal(str(cost)) if cost is not None else None,
            max_seconds=(int(raw["max_seconds"])  # 1e3 is the integer 1000 here
                         if "max_seconds" in raw else None),
            cost_location=self.where(("budget", "max_cost_usd")) if cost is not None else None,
            seconds_location=(self.where(("budget", "max_seconds"))
                              if "max_seconds" in raw else None),
        )


def read_storyboard(doc: LoadedDocument, root: Path) -> Storyboard:
    """Typed view of a schema-valid document: every string keeps its location."""
    read = _Reader(doc)
    data = read.data
    cut = _cut_spec(data.get("cut") or {}, read.where)
    return Storyboard(
        file=doc.file,
        root=str(root),
        name=data["name"],
        model=data.get("model", DEFAULT_MODEL),
        vars=tuple(VarSpec(k, val, ("vars", k)) for k, val in (data.get("vars") or {}).items()),
        defaults=read.settings(("defaults",), data.get("defaults") or {}),
        variants=read.variants(),
        budget=read.budget(),
        clips=tuple(read.clip(index, raw, cut) for index, raw in enumerate(data["clips"])),
        source_map=doc.source_map,
        cut=cut,
        candidates=(data.get("defaults") or {}).get("candidates", 1),
    )


def _cut_spec(raw: dict[str, Any], where: Any) -> CutSpec:
    default = TransitionSpec()
    if "transition" in raw or "transition_seconds" in raw:
        kind = raw.get("transition", CUT)
        default = TransitionSpec(kind, _seconds(kind, raw.get("transition_seconds")),
                                 where(("cut", "transition" if "transition" in raw
                                        else "transition_seconds")))
    size = raw.get("size")
    return CutSpec(
        transition=default,
        music=raw.get("music"),
        music_location=where(("cut", "music")) if "music" in raw else None,
        music_db=Decimal(str(raw["music_db"])) if "music_db" in raw else DEFAULT_MUSIC_DB,
        burn_captions=bool(raw.get("burn_captions", False)),
        size=tuple(int(n) for n in size.split("x")) if size else None,  # type: ignore[arg-type]
        fps=raw.get("fps"),
    )


def _seconds(kind: str, given: Any) -> Decimal:
    if kind == CUT:
        return Decimal(0)
    return Decimal(str(given)) if given is not None else DEFAULT_TRANSITION_SECONDS


def _transition(raw: dict[str, Any], base: JsonPath, cut: CutSpec,
                where: Any) -> TransitionSpec | None:
    """A clip's own transition (either key overrides the cut section's), or None."""
    if "transition" not in raw and "transition_seconds" not in raw:
        return None
    kind = raw.get("transition", cut.transition.kind)
    seconds = raw.get("transition_seconds")
    if seconds is None and kind == cut.transition.kind and kind != CUT:
        seconds = cut.transition.seconds
    key = "transition" if "transition" in raw else "transition_seconds"
    return TransitionSpec(kind, _seconds(kind, seconds), where((*base, key)))


def _get(data: Any, path: JsonPath) -> Any:
    for part in path:
        data = data[part]
    return data

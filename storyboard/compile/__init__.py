"""The compile pipeline, stage by stage: load, validate, expand, render, budget+emit, price.

Each stage is a function of the previous one's result; reading this module top to
bottom is reading the pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from storyboard.compile.emit import emit
from storyboard.compile.engines import engine_for
from storyboard.compile.load import load_file
from storyboard.compile.render import render_all
from storyboard.compile.validate import validate_document
from storyboard.compile.variants import expand_variants
from storyboard.media.timeline import CaptionBook, Timeline, build_timelines
from storyboard.model import Generation, Storyboard, Variant
from storyboard.perf import fewer_collections

if TYPE_CHECKING:
    from storyboard.plan.lock import Lock
    from storyboard.plan.model import Plan
    from storyboard.plan.pricing import PriceTable


@dataclass(frozen=True, slots=True)
class Compiled:
    """What a storyboard compiles to: its variants, generations and final-cut timelines."""

    storyboard: Storyboard
    variants: tuple[Variant, ...]
    generations: tuple[Generation, ...]
    timelines: tuple[Timeline, ...]  # each variant's final cut, as planned


@fewer_collections()
def compile_file(path: str | Path, *, display: str | None = None) -> Compiled:
    """Every generation of the storyboard at ``path``, or a ``SourceError`` with every problem.

    ``display`` names the file in messages (default: ``path`` as given).
    """
    document = load_file(path, display=display)
    storyboard = validate_document(document, Path(path).resolve().parent)
    engine = engine_for(storyboard)  # Jinja2 only for a storyboard with templates
    variants = expand_variants(storyboard, engine)
    clips = render_all(storyboard, variants, engine)
    captions = CaptionBook()
    generations = tuple(emit(captions.collect(clips), storyboard.model,
                             name_variants=storyboard.variants is not None))
    # a variant's cut takes one candidate of each generation (the pick, when it is cut)
    timelines = build_timelines(storyboard, [g for g in generations if g.candidate == 1],
                                captions)
    return Compiled(storyboard, variants, generations, timelines)


@fewer_collections()
def plan_file(path: str | Path, *, prices: PriceTable | None = None,
              display: str | None = None, lock: Lock | None = None) -> Plan:
    """The priced plan of the storyboard at ``path``, with the candidates and picks of its
    lock file (``lock``: one about to be written instead, e.g. by ``reroll``)."""
    from storyboard.plan.lock import lock_path, read_lock, with_rerolls
    from storyboard.plan.price import price  # plan imports compile's request check
    from storyboard.plan.pricing import load_price_table

    compiled = compile_file(path, display=display)
    sb = compiled.storyboard
    lock = lock if lock is not None else read_lock(lock_path(path))
    generations = tuple(with_rerolls(compiled.generations, lock))
    plan = price(sb.name, sb.file, generations, sb.budget,
                 prices or load_price_table(), root=sb.root)
    return replace(plan, timelines=compiled.timelines, picks=lock.picks(generations))

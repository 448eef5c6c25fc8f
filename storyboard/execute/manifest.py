"""The manifest: every generation of a run's plan, its job, file and money, as JSON beside
the renders; what a person or a script reads after a run.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from storyboard.errors import (
    UsageError,
)
from storyboard.execute.workspace import Workspace, same_file
from storyboard.journal import API, Journal, Status, charged_to
from storyboard.model import (
    Plan,
)
from storyboard.plan.price import relative_path
from storyboard.plan.pricing import format_usd
from storyboard.results import RunSummary
from storyboard.store import write_atomic


def manifest(summary: RunSummary, journal: Journal, plan: Plan) -> dict[str, Any]:
    """Per generation of the whole plan: id, hash, job id, seconds, estimated cost,
    charged amount, file, sha256, status; and their totals.

    A generation that shares another's render has no cost or charge of its own
    (``same_as`` names it), and a file is listed only when it is this generation's
    current video (the cached render of its request, made where this run renders),
    never a stale one from an earlier version, and never a sandbox's for a real run.
    """
    workspace = summary.workspace
    latest = journal.latest_all(workspace.origin)
    outcomes = {o.item.generation.id: o for o in summary.outcomes}
    base = workspace.out_dir / workspace.name
    entries = []
    charged_total = Decimal(0)
    for item in plan.items:
        g = item.generation
        attempt = latest.get(g.hash)
        outcome = outcomes.get(g.id)
        file = workspace.render_file(g)
        current = (attempt is not None and attempt.status is Status.DONE
                   and same_file(file, workspace.cache_file(g.hash)))
        charged = charged_to(attempt, item.same_as)
        charged_total += charged or 0
        entries.append({
            "id": g.id,
            "hash": g.hash,
            "job_id": attempt.job_id if attempt else None,
            "seconds": g.seconds,
            "estimated_usd": format_usd(item.charge),
            "charged_usd": format_usd(charged) if charged is not None else None,
            "same_as": item.same_as,
            "file": file.relative_to(base).as_posix() if current else None,
            "sha256": attempt.sha256 if attempt and current else None,
            "status": (outcome.result.value if outcome
                       else "rendered" if current
                       else attempt.status.value if attempt else "not rendered"),
        })
    storyboard = Path(plan.root) / Path(plan.source).name
    return {"name": plan.name, "source": relative_path(storyboard, base),
            "origin": workspace.origin,
            "estimated_usd": format_usd(plan.totals().cost),
            "charged_usd": format_usd(charged_total), "generations": entries}


def refuse_placeholders_among_renders(workspace: Workspace) -> None:
    """A sandbox run never publishes over real renders: refuse an ``--out`` whose
    manifest says a real run made it (before anything is sent)."""
    if not workspace.sandbox:
        return
    try:
        made_by = json.loads(workspace.manifest.read_text(encoding="utf-8")).get("origin")
    except (OSError, ValueError, AttributeError):
        return
    if made_by == API:
        raise UsageError(f"{workspace.out_dir}: it holds real renders ({workspace.manifest}); "
                         "a sandbox's placeholder videos never go among them — pass another "
                         "--out for this sandbox run")


def write_manifest(summary: RunSummary, journal: Journal, plan: Plan) -> Path:
    path = summary.workspace.manifest
    data = json.dumps(manifest(summary, journal, plan), indent=2, ensure_ascii=False) + "\n"
    write_atomic(path, data.encode("utf-8"))
    return path

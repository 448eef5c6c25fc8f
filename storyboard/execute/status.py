"""``storyboard status``: each generation of a plan as the journal and the cache know it.
"""

from __future__ import annotations

from dataclasses import replace

from storyboard.execute.workspace import Workspace, same_file
from storyboard.journal import API, SANDBOX, Journal, Status
from storyboard.model import (
    Plan,
)
from storyboard.results import StatusReport, StatusRow


def status(plan: Plan, journal: Journal, workspace: Workspace) -> StatusReport:
    """Each generation of the plan as the journal and cache know it: real renders only
    (a sandbox's placeholder is shown as one, never as rendered or charged)."""
    latest = journal.latest_all(API)
    placeholders = journal.latest_all(SANDBOX)
    real = replace(workspace, sandbox=False)
    rows = []
    for item in plan.items:
        g = item.generation
        attempt = latest.get(g.hash)
        file = real.render_file(g)
        cached = (attempt is not None and attempt.status is Status.DONE
                  and real.cache_file(g.hash).is_file())
        rows.append(StatusRow(item, attempt, cached,
                              file if cached and same_file(file, real.cache_file(g.hash))
                              else None,
                              placeholders.get(g.hash) if attempt is None else None))
    in_plan = {i.generation.hash for i in plan.items}
    others = sum(1 for h, a in latest.items() if h not in in_plan and a.storyboard == plan.name)
    return StatusReport(tuple(rows), others, journal.spent(plan.name, API), plan.picks)

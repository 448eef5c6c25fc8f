"""``storyboard status``: each generation of a plan as the journal and the cache know it.
"""

from __future__ import annotations

from storyboard.execute.workspace import Workspace, same_file
from storyboard.journal import SANDBOX, Journal, Status
from storyboard.model import (
    Plan,
)
from storyboard.results import StatusReport, StatusRow


def status(plan: Plan, journal: Journal, workspace: Workspace) -> StatusReport:
    """Each generation of the plan as the journal and cache know it: the renders of the
    workspace's origin — a real run's (a sandbox's placeholder is shown as one, never as
    rendered or charged), or, for a sandbox workspace, the sandbox's placeholders."""
    latest = journal.latest_all(workspace.origin)
    placeholders = {} if workspace.sandbox else journal.latest_all(SANDBOX)
    rows = []
    for item in plan.items:
        g = item.generation
        attempt = latest.get(g.hash)
        file = workspace.render_file(g)
        cached = (attempt is not None and attempt.status is Status.DONE
                  and workspace.cache_file(g.hash).is_file())
        rows.append(StatusRow(item, attempt, cached,
                              file if cached and same_file(file, workspace.cache_file(g.hash))
                              else None,
                              placeholders.get(g.hash) if attempt is None else None))
    in_plan = {i.generation.hash for i in plan.items}
    others = sum(1 for h, a in latest.items() if h not in in_plan and a.storyboard == plan.name)
    return StatusReport(tuple(rows), others, journal.spent(plan.name, workspace.origin),
                        plan.picks, sandbox=workspace.sandbox)

"""What several commands work on: a plan (from a storyboard or a saved plan JSON), the
workspace of its renders, and the final cut's cutter."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from storyboard.execute.workspace import Workspace
    from storyboard.media.cut import Cutter
    from storyboard.plan.model import Plan


def load_plan(target: Path, pricing: Path | None, *, to_run: bool = False) -> Plan:
    """A storyboard is compiled and priced; a saved plan JSON is taken exactly as saved
    (and, to be run, must sit where its storyboard's state is)."""
    from storyboard.compile import plan_file
    from storyboard.plan.price import check_runnable
    from storyboard.plan.price import load_plan as load_saved
    from storyboard.plan.pricing import load_price_table

    prices = load_price_table(pricing)
    if target.suffix.lower() == ".json":
        plan = load_saved(target, prices)
        if to_run:
            check_runnable(plan, target)
        return plan
    return plan_file(target, prices=prices)


def workspace_for(plan: Plan, *, state: Path | str | None = None, out: Path | None = None,
                  sandbox: bool = False) -> Workspace:
    """Where ``plan``'s journal, cache and renders are, as the options say (``--store`` and
    ``--lease`` are read from the command's context: see ``options.state_option``)."""
    import click

    from storyboard.cli.options import LEASE_KEY, STORE_KEY
    from storyboard.execute.workspace import Workspace

    meta = click.get_current_context().meta
    workspace = Workspace.beside(Path(plan.root), plan.name, state=state, out=out,
                                 sandbox=sandbox, store=meta.get(STORE_KEY))
    lease = meta.get(LEASE_KEY)
    return workspace if lease is None else replace(workspace, lease=float(lease))


def renders_of(file: Path, command: str, sandbox: bool, state: Path | None,
               out: Path | None) -> tuple[Plan, Workspace]:
    """What `cut` and `report` work on: the storyboard's plan and where its renders are
    (the media extra is needed for both)."""
    from storyboard.compile import plan_file
    from storyboard.media import require

    require(command)
    plan = plan_file(file)
    return plan, workspace_for(plan, state=state, out=out, sandbox=sandbox)


def sandbox_has_them(plan: Plan, sandbox: bool, state: Path | None) -> bool:
    """Whether a command that found nothing here should point at the sandbox's renders."""
    from storyboard.execute.workspace import Workspace

    return not sandbox and state is None and Workspace.beside(
        Path(plan.root), plan.name, sandbox=True).state_dir.is_dir()


def cutter(plan: Plan, workspace: Any, attempts: Any) -> Cutter:
    """The final cut's cutter, taking each generation's keeper (the lock file's pick, else
    the lowest-numbered delivered candidate), which is first published at its own path."""
    from storyboard.execute.candidates import Keepers, publish_keepers
    from storyboard.media.cut import Cutter
    from storyboard.plan.lock import lock_path, read_lock

    lock = read_lock(lock_path(Path(plan.root) / Path(plan.source).name))
    keepers = Keepers(plan, workspace, lock, attempts)
    publish_keepers(keepers)
    return Cutter(plan, workspace, render_of=keepers.render_of)


def refresh_report(plan: Plan, workspace: Any) -> int:
    """Refresh the HTML review (after a run or a pick); say where it is and list the
    quality flags. Returns how many clips are flagged."""
    import click

    from storyboard.report.html import build_report
    from storyboard.report.text import flag_lines

    with workspace.open_journal(exclusive=False) as journal:
        page, review = build_report(plan, journal, workspace)
    click.echo(flag_lines(review.flagged), nl=False)
    click.echo(f"report: {page}")
    return len(review.flagged)

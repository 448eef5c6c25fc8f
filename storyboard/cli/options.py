"""Options that several commands share, each defined once here.

``state_option`` is the one definition of ``--state`` (where the journal is): every
command that reads or writes the journal takes it from here.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from storyboard.cli.types import (
    SECONDS,
    Bounded,
    NonEmptyPath,
    StateLocation,
    StoreLocation,
    Usd,
)

F = TypeVar("F", bound=Callable[..., Any])

file_argument = click.argument(
    "file", type=NonEmptyPath(exists=False, dir_okay=False, path_type=Path))
target_argument = click.argument(
    "target", metavar="FILE|PLAN.json", type=NonEmptyPath(dir_okay=False, path_type=Path))
pricing_option = click.option(
    "--pricing", type=NonEmptyPath(dir_okay=False, path_type=Path), default=None,
    help="Price table JSON to use instead of the built-in one.")
STORE_KEY = "storyboard.store"  # ctx.meta: --store, read where the workspace is made
LEASE_KEY = "storyboard.lease"


def _remember(key: str) -> Callable[[click.Context, click.Parameter, Any], None]:
    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> None:
        if value is not None:
            ctx.meta[key] = value
    return callback


def state_option(command: F) -> F:
    """``--state`` (a folder, or a ``postgresql://`` URL runners share) and ``--store`` (a
    render store runners share): where the journal and the renders' cache are."""
    command = click.option(
        "--store", type=StoreLocation(), default=None,
        envvar="STORYBOARD_STORE", expose_value=False,
        callback=_remember(STORE_KEY),
        metavar="DIR|s3://BUCKET", help="A render store runners share: a mounted folder (it "
        "must exist: an unmounted share is an error, not a local folder), or an "
        "S3-compatible bucket (endpoint and credentials as AWS tools read them) "
        "[env STORYBOARD_STORE].")(command)
    return click.option(
        "--state", type=StateLocation(), default=None, envvar="STORYBOARD_STATE",
        metavar="DIR|URL",
        help="Where the journal is: a folder (default: .storyboard/ beside the storyboard) "
        "or a postgresql:// URL that runners on several machines share "
        "[env STORYBOARD_STATE].")(command)


lease_option = click.option(
    "--lease", type=Bounded(1, 3600, "seconds"), default=None, metavar="S",
    expose_value=False, callback=_remember(LEASE_KEY),
    help="With a shared --state: how long a runner's claim on a generation outlives the "
    "runner if it stops (another runner then takes it over) [default: 30].")
out_option = click.option("--out", type=NonEmptyPath(file_okay=False, path_type=Path),
                          default=None, help="Renders folder (default: renders/ beside the "
                          "storyboard).")
max_cost_option = click.option(
    "--max-cost", metavar="USD", type=Usd(), default=None,
    help="Limit on this run's new spend (what is due now); budget.max_cost_usd still "
    "bounds what the storyboard spends over all its runs.")

# `run` and `reroll`: where the jobs go
yes_option = click.option("--yes", "-y", is_flag=True,
                          help="Do not ask for confirmation (for scripts).")
run_sandbox_option = click.option(
    "--sandbox", is_flag=True,
    help="Run against a local sandbox API on loopback: no key, no cost.")
api_base_option = click.option(
    "--api-base", default=None, metavar="URL",
    help="API base URL (default: $SHORTAPI_BASE_URL or https://api.shortapi.ai).")
sandbox_latency_option = click.option(
    "--sandbox-latency", default=None, metavar="SPEC",
    help="With --sandbox: job latency in seconds, a range A-B, or "
    "lognormal:MEDIAN,SIGMA [default: 1].")
sandbox_fault_option = click.option(
    "--sandbox-fault", multiple=True, metavar="NAME[=RATE]",
    help="With --sandbox: inject a fault, e.g. http503=0.2 (repeatable).")


def poll_options(command: F) -> F:
    """How often to ask about a job, and for how long: `run` and `reroll` alike."""
    for option in reversed((
        click.option("--poll-start", type=SECONDS, default=None, metavar="S",
                     help="First poll interval in seconds [default: 5; 0.1 with --sandbox]."),
        click.option("--poll-max", type=SECONDS, default=None, metavar="S",
                     help="Longest poll interval in seconds [default: 30; 1 with --sandbox]."),
        click.option("--job-timeout", type=Bounded(0.1, 7 * 24 * 3600, "seconds"),
                     default=None, metavar="S",
                     help="Stop waiting for one job after S seconds (it stays journaled) "
                     "[default: 3600; 300 with --sandbox]."),
    )):
        command = option(command)
    return command


def callback_options(command: F) -> F:
    """Callbacks, so a finished job is noticed at once: `run` and `reroll` alike."""
    for option in reversed((
        click.option("--callback-url", default=None, metavar="URL",
                     help="Sent with every create. Alone: passed through (someone else "
                     "listens). With --callback-listen: the public address that forwards "
                     "to it (a tunnel); each create gets ?generation=<hash>&token=<token> added."),
        click.option("--callback-listen", default=None, metavar="[HOST:]PORT",
                     help="Listen for the API's callbacks here (port 0: any free port; host "
                     "127.0.0.1 unless given) and query a job as soon as its callback "
                     "comes; polls go on, sparse, in case one is lost. The API must reach "
                     "it: a render box's address, or a tunnel given as --callback-url."),
    )):
        command = option(command)
    return command

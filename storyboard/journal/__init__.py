"""The journal phase: a durable record of every create attempt, kept forever, so that no paid
job is lost and none is paid for twice.

``base`` is what every journal is (the ``Journal`` interface the execute phase needs, the
attempt, its statuses); ``sqlite`` keeps it in a state folder (the embedded default, one
run at a time); ``postgres`` keeps it in a PostgreSQL database that runners on several
machines share, each generation claimed before its create. ``open_journal`` picks the
backend from where the state is: a folder, or a ``postgresql://`` URL.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from storyboard.journal.base import (
    API,
    SANDBOX,
    Attempt,
    Journal,
    Status,
    Traces,
    charged_to,
)

__all__ = ["API", "SANDBOX", "Attempt", "Journal", "Status", "Traces", "charged_to",
           "is_database_url", "open_journal"]

DEFAULT_LEASE = 30.0  # seconds (the postgres backend's default, without importing it)


def is_database_url(location: object) -> bool:
    """Whether ``--state`` names a database (``postgresql://…``) rather than a folder."""
    return isinstance(location, str) and "://" in location and \
        location.split("://", 1)[0].lower() in ("postgresql", "postgres")


def open_journal(state: Path | str, *, exclusive: bool = True, local: Path | None = None,
                 traces: Callable[[], Traces] = Traces, accept_lost: bool = False,
                 lease: float = DEFAULT_LEASE) -> Journal:
    """The journal at ``state``: a folder (SQLite) or a ``postgresql://`` URL (shared).

    A writer (``exclusive``) of a shared journal locks ``local``, the runner's own
    folder (its cache and rescue file); readers take no lock and write nothing."""
    if is_database_url(state):
        from storyboard.journal.postgres import PostgresJournal

        return PostgresJournal.open(str(state), exclusive=exclusive, lock_dir=local,
                                    traces=traces, accept_lost=accept_lost, lease=lease)
    from storyboard.journal.sqlite import SqliteJournal

    return SqliteJournal.open(Path(state), exclusive=exclusive, traces=traces,
                              accept_lost=accept_lost)
